/**
 * The Kafka port on KafkaJS 2.2.4 (patched, see patches/). Everything the
 * product does with Kafka goes through here: producers, the transactional
 * commit of a task, group consumers, admin reads and bounded reads.
 */
// KafkaJS is CommonJS: its enums are reachable from the default export only, not as ESM named exports.
import kafkajs, {
  type Admin,
  type Consumer,
  type Kafka,
  type Message,
  type Producer,
  type TopicMessages,
} from "kafkajs";
import type { KafkaConfig } from "../../config/config.js";
import { BlackwellError, errorMessage } from "../../errors.js";
import { isFenced } from "./kafka-errors.js";
import { retry, retryPolicy } from "../../runtime/retry.js";
import { chunkBySize, MAX_REQUEST_BYTES } from "./chunk.js";
import { coPartitionedAssigner } from "./co-partitioned-assigner.js";
import { highWatermarks } from "./end-offsets.js";
import { createKafka, type LogSink } from "./kafka-client.js";
import { clientPartitioner } from "./partitioner.js";
import type {
  BatchControl,
  ConsumerHandlers,
  ConsumerOptions,
  GroupConsumer,
  KafkaAdmin,
  KafkaPort,
  OutRecord,
  PartitionEnd,
  RecordProducer,
  SendResult,
  TopicDescription,
  TransactionalProducer,
  CommitResult,
  InputOffset,
  ReadToEndOptions,
} from "./port.js";
import { inRecord } from "./in-record.js";
import { readToEnd } from "./read-to-end.js";

/** DescribeConfigs' source of a setting made on the topic itself (KIP-226). */
const DYNAMIC_TOPIC_CONFIG = 1;

export interface PortLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

/** Builds the port of a process: one KafkaJS client, one connected admin. */
export async function connectKafka(config: KafkaConfig, log?: LogSink, portLog?: PortLogger): Promise<KafkaPort> {
  const port = createKafkaPort(config, log, portLog);
  await port.connect();
  return port;
}

/** The port without connecting anything yet (a unit test of a surface that only builds consumers). */
export function createKafkaPort(
  config: KafkaConfig,
  log?: LogSink,
  portLog?: PortLogger,
): KafkaPort & { connect(): Promise<void> } {
  const kafka = createKafka(config, log);
  return new KafkaJsPort(kafka, kafka.admin(), portLog ?? silent);
}

const silent: PortLogger = { warn: () => {}, debug: () => {} };

function toMessage(r: OutRecord): Message {
  return {
    key: r.key,
    value: r.value,
    ...(r.partition !== undefined ? { partition: r.partition } : {}),
    ...(r.headers ? { headers: r.headers } : {}),
    ...(r.timestamp !== undefined ? { timestamp: String(r.timestamp) } : {}),
  };
}

function byTopic(records: OutRecord[]): TopicMessages[] {
  const grouped = new Map<string, Message[]>();
  for (const r of records) {
    let list = grouped.get(r.topic);
    if (!list) grouped.set(r.topic, (list = []));
    list.push(toMessage(r));
  }
  return [...grouped].map(([topic, messages]) => ({ topic, messages }));
}

class KafkaJsPort implements KafkaPort {
  readonly admin: KafkaAdmin;

  constructor(
    private readonly kafka: Kafka,
    private readonly kafkaAdmin: Admin,
    private readonly log: PortLogger,
  ) {
    this.admin = new KafkaJsAdmin(kafka, kafkaAdmin);
  }

  connect(): Promise<void> {
    return this.kafkaAdmin.connect();
  }

  async producer(options: { fastFail?: boolean } = {}): Promise<RecordProducer> {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: clientPartitioner,
      // Fast fail: an HTTP caller gets 503 and retries, instead of waiting on our retries.
      ...(options.fastFail ? { retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 } } : {}),
    });
    await producer.connect();
    const timeout = options.fastFail ? 10_000 : 30_000;
    return {
      send: async (records) => {
        const sent: SendResult[] = [];
        for (const chunk of chunkBySize(byTopic(records), MAX_REQUEST_BYTES)) {
          for (const r of await producer.sendBatch({ topicMessages: chunk, acks: -1, timeout })) {
            sent.push({ topic: r.topicName, partition: r.partition, baseOffset: r.baseOffset ?? "-1" });
          }
        }
        return sent;
      },
      disconnect: () => producer.disconnect(),
    };
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const tx = new KafkaJsTransactional(
      transactionalId,
      () => this.connectTransactional(transactionalId),
      this.kafkaAdmin,
      this.log,
    );
    await tx.open();
    return tx;
  }

  private async connectTransactional(transactionalId: string): Promise<Producer> {
    const producer = this.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: clientPartitioner,
      // The coordinator answers CONCURRENT_TRANSACTIONS while the previous commit's markers are written, which a
      // task committing back to back meets at the start of many transactions: retry within a few ms (waits of 1,
      // 1.5, 2.3, ... ms), not 20 then 40, and still for as long as before (about 16 s in all) when a coordinator
      // moves. The patched KafkaJS retries AddOffsetsToTxn and EndTxn too, with these settings, and no longer looks the
      // coordinators up before every request, which had spaced the retries out (docs/performance.md).
      retry: { initialRetryTime: 1, multiplier: 1.5, maxRetryTime: 2_000, retries: 25 },
    });
    await producer.connect();
    // KafkaJS registers the transactional id (InitProducerId) only when the first transaction begins. Do it now:
    // that is what fences an earlier producer with this id and aborts its open transaction, which otherwise blocks
    // read_committed readers of its partitions (the task's changelog restore) until the transaction times out.
    // An empty transaction ends on the client, without a request.
    const init = await producer.transaction();
    await init.abort();
    return producer;
  }

  consumer(options: ConsumerOptions): GroupConsumer {
    return new KafkaJsGroupConsumer(this.kafka, options);
  }

  readToEnd(options: ReadToEndOptions): Promise<{ partitions: number }> {
    return readToEnd(this.kafka, this.kafkaAdmin, options);
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }
}

/** A fenced or broken transactional producer is replaced within about half a minute, or the task fails. */
const REPLACE_POLICY = retryPolicy({ attempts: 10, initialMs: 250, maxMs: 5_000 });

class KafkaJsTransactional implements TransactionalProducer {
  private producer: Producer | null = null;
  private fenced = false;

  constructor(
    readonly transactionalId: string,
    private readonly connect: () => Promise<Producer>,
    private readonly admin: Admin,
    private readonly log: PortLogger,
  ) {}

  /** Connecting initializes the transactional id, which fences any earlier producer with it. */
  async open(): Promise<void> {
    this.producer = await this.connect();
  }

  async commit(records: OutRecord[], input?: { groupId: string; offsets: InputOffset[] }): Promise<CommitResult> {
    if (this.fenced)
      throw new BlackwellError("BLACKWELL_ERR_FENCED", `${this.transactionalId} was fenced; open a new producer`);
    if (!this.producer) await this.open();
    const tx = await this.producer!.transaction();
    const ends = new Map<string, bigint>();
    let committing = false;
    try {
      const produce = async () => {
        for (const chunk of chunkBySize(byTopic(records), MAX_REQUEST_BYTES)) {
          const results = await tx.sendBatch({ topicMessages: chunk, acks: -1 });
          for (const r of results) {
            const count = explicitCount(chunk, r.topicName, r.partition);
            if (count > 0) ends.set(`${r.topicName}:${r.partition}`, BigInt(r.baseOffset ?? "0") + BigInt(count));
          }
        }
      };
      // The records and the input offsets go to different coordinators and neither waits for the other: sent side
      // by side, a transaction costs one round of requests less before its commit.
      const offsets =
        input && input.offsets.length > 0
          ? tx.sendOffsets({ consumerGroupId: input.groupId, topics: offsetsByTopic(input.offsets) })
          : Promise.resolve();
      const [produced, offsetsSent] = await Promise.allSettled([produce(), offsets]);
      if (produced.status === "rejected") throw produced.reason;
      if (offsetsSent.status === "rejected") throw offsetsSent.reason;
      committing = true;
      await tx.commit();
      return { ends };
    } catch (err) {
      // Fenced: another instance opened this transactional id and owns the task now. Replacing the producer would
      // fence it back (and the two would take turns); the transaction is void, the caller must stop.
      if (isFenced(err)) {
        await tx.abort().catch(() => {});
        await this.producer?.disconnect().catch(() => {});
        this.producer = null;
        this.fenced = true;
        throw new BlackwellError(
          "BLACKWELL_ERR_FENCED",
          `${this.transactionalId} was fenced by a newer producer with the same transactional id`,
          { cause: err },
        );
      }
      // A commit can fail on the client after the coordinator committed (e.g. the coordinator's broker died in
      // between). The input offsets are part of the transaction: if they are committed, so is everything else,
      // and redoing the pass would duplicate it.
      if (
        committing &&
        input &&
        input.offsets.length > 0 &&
        (await this.inputCommitted(input.groupId, input.offsets))
      ) {
        this.log.warn(
          { err: errorMessage(err), transactionalId: this.transactionalId },
          "commit reported an error but the transaction committed (its input offsets are committed); carrying on",
        );
        // Committed: whatever happens to the replacement, the pass must not be redone (its next commit opens one).
        await this.replace().catch((replaceErr: unknown) => {
          this.producer = null;
          this.log.warn(
            { err: errorMessage(replaceErr), transactionalId: this.transactionalId },
            "replacing the producer after a committed transaction failed; the next commit opens a new one",
          );
        });
        return { ends };
      }
      // EndTxn was sent and nothing here says the coordinator committed it: it may be committing still (the offsets
      // show once its markers are written), so neither retrying nor aborting is safe. The producer is dropped; the
      // caller's next one fences it, which settles the transaction either way.
      if (committing) {
        await this.producer?.disconnect().catch(() => {});
        this.producer = null;
        throw new BlackwellError(
          "BLACKWELL_ERR_KAFKA_COMMIT_UNKNOWN",
          `${this.transactionalId}: the outcome of the commit is unknown (${errorMessage(err)})`,
          { cause: err },
        );
      }
      const aborted = await tx.abort().then(
        () => true,
        (abortErr: unknown) => {
          this.log.warn(
            { err: errorMessage(abortErr), transactionalId: this.transactionalId },
            "abort after a failed transaction failed",
          );
          return false;
        },
      );
      // A producer whose transaction could be neither committed nor aborted is replaced: the new one fences it.
      if (!aborted) await this.replace();
      throw err;
    }
  }

  private async inputCommitted(groupId: string, offsets: InputOffset[]): Promise<boolean> {
    try {
      for (const [topic, partitions] of groupBy(offsets)) {
        const [committed] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
        for (const o of partitions) {
          if (committed?.partitions.find((p) => p.partition === o.partition)?.offset !== o.offset) return false;
        }
      }
      return true;
    } catch {
      return false;
    }
  }

  private async replace(): Promise<void> {
    await this.producer?.disconnect().catch(() => {});
    this.producer = null;
    await retry(async (attempt) => {
      this.producer = await this.connect();
      this.log.warn({ attempt, transactionalId: this.transactionalId }, "transactional producer replaced");
    }, REPLACE_POLICY);
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => {});
    this.producer = null;
  }
}

/** Records of `chunk` sent to `topic`/`partition` by explicit partition (the only ones whose end we report). */
function explicitCount(chunk: TopicMessages[], topic: string, partition: number): number {
  return chunk.find((t) => t.topic === topic)?.messages.filter((m) => m.partition === partition).length ?? 0;
}

function groupBy(offsets: InputOffset[]): Map<string, InputOffset[]> {
  const out = new Map<string, InputOffset[]>();
  for (const o of offsets) {
    const list = out.get(o.topic) ?? [];
    list.push(o);
    out.set(o.topic, list);
  }
  return out;
}

function offsetsByTopic(offsets: InputOffset[]) {
  return [...groupBy(offsets)].map(([topic, list]) => ({
    topic,
    partitions: list.map((o) => ({ partition: o.partition, offset: o.offset })),
  }));
}

class KafkaJsGroupConsumer implements GroupConsumer {
  private readonly consumer: Consumer;
  private stopped = false;

  constructor(
    kafka: Kafka,
    private readonly o: ConsumerOptions,
  ) {
    const session = o.sessionTimeoutMs ?? 30_000;
    this.consumer = kafka.consumer({
      groupId: o.groupId,
      readUncommitted: false,
      ...(o.coPartitioned ? { partitionAssigners: [coPartitionedAssigner] } : {}),
      sessionTimeout: session,
      heartbeatInterval: Math.max(500, Math.floor(session / 10)),
      maxWaitTimeInMs: o.maxWaitMs ?? 200,
      ...(o.maxBytesPerPartition ? { maxBytesPerPartition: o.maxBytesPerPartition } : {}),
      ...(o.maxBytes ? { maxBytes: o.maxBytes } : {}),
    });
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    const { consumer } = this;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      handlers.onAssigned?.(new Map(Object.entries(payload.memberAssignment)));
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      // fetchedOffset: added to the event by patches/kafkajs+2.2.4.patch.
      const { fetchedOffset } = fetchedOffsetOf(payload as { fetchedOffset?: string | number });
      handlers.onPosition?.(payload.topic, payload.partition, payload.lastOffset, fetchedOffset);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart && !this.stopped) handlers.onFatal?.(payload.error);
    });
    if (handlers.onConnection) {
      consumer.on(consumer.events.CONNECT, () => handlers.onConnection?.(true));
      consumer.on(consumer.events.DISCONNECT, () => handlers.onConnection?.(false));
    }
    await consumer.connect();
    const fromEnd = new Set(this.o.fromEnd ?? []);
    const early = this.o.topics.filter((t) => !fromEnd.has(t));
    const late = this.o.topics.filter((t) => fromEnd.has(t));
    if (early.length > 0) await consumer.subscribe({ topics: early, fromBeginning: true });
    if (late.length > 0) await consumer.subscribe({ topics: late, fromBeginning: false });
    await consumer.run({
      autoCommit: this.o.autoCommit ?? false,
      eachBatchAutoResolve: !(this.o.manualResolve ?? false),
      partitionsConsumedConcurrently: this.o.concurrency ?? 1,
      eachBatch: async ({ batch, heartbeat, resolveOffset, isRunning, isStale, pause }) => {
        const records = batch.messages.map((m) => inRecord(batch.topic, batch.partition, m));
        const control: BatchControl = {
          heartbeat,
          resolveOffset,
          isActive: () => isRunning() && !isStale() && !this.stopped,
          pause: (seekTo) => {
            if (seekTo !== undefined) consumer.seek({ topic: batch.topic, partition: batch.partition, offset: seekTo });
            return pause();
          },
        };
        await handlers.eachBatch(
          {
            topic: batch.topic,
            partition: batch.partition,
            records,
            lastOffset: batch.lastOffset(),
            // Not in KafkaJS's types, but on every Batch (src/consumer/batch.js).
            ...fetchedOffsetOf(batch as unknown as { fetchedOffset?: string | number }),
            highWatermark: batch.highWatermark,
          },
          control,
        );
      },
    });
  }

  pause(topics: string[]): void {
    this.consumer.pause(topics.map((topic) => ({ topic })));
  }

  resume(topics: string[]): void {
    this.consumer.resume(topics.map((topic) => ({ topic })));
  }

  seek(topic: string, partition: number, offset: string): void {
    this.consumer.seek({ topic, partition, offset });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect().catch(() => {});
  }
}

/** Where the fetch that brought a KafkaJS batch (or its END_BATCH_PROCESS event) started, when KafkaJS says. */
function fetchedOffsetOf(from: { fetchedOffset?: string | number }): { fetchedOffset?: string } {
  return from.fetchedOffset === undefined ? {} : { fetchedOffset: String(from.fetchedOffset) };
}

class KafkaJsAdmin implements KafkaAdmin {
  /** A second admin asking for high watermarks (not last stable offsets), connected on first use. */
  private watermarks: Promise<Admin> | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
  ) {}

  async endOffsets(topic: string): Promise<PartitionEnd[]> {
    this.watermarks ??= (async () => {
      const admin = this.kafka.admin({ readUncommitted: true });
      await admin.connect();
      return admin;
    })();
    const shared = await this.watermarks.catch(() => {
      this.watermarks = null;
      return undefined;
    });
    return highWatermarks(this.kafka, topic, 10, shared);
  }

  async committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
    const [found] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    const out = new Map<number, bigint>();
    for (const p of found?.partitions ?? []) if (BigInt(p.offset) >= 0n) out.set(p.partition, BigInt(p.offset));
    return out;
  }

  async offsetsAtTime(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: bigint }>> {
    const found = await this.admin.fetchTopicOffsetsByTimestamp(topic, timestamp);
    return found.map((o) => ({ partition: o.partition, offset: BigInt(o.offset) }));
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    if (groupIds.length > 0) await this.admin.deleteGroups(groupIds);
  }

  async deleteTopics(topics: string[]): Promise<void> {
    if (topics.length > 0) await this.admin.deleteTopics({ topics });
  }

  async describeCluster(): Promise<{ brokers: number[]; controller: number | null }> {
    const cluster = await this.admin.describeCluster();
    return { brokers: cluster.brokers.map((b) => b.nodeId), controller: cluster.controller };
  }

  listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  async describeTopics(topics: string[], configNames?: string[]): Promise<TopicDescription[]> {
    const metadata = await this.admin.fetchTopicMetadata({ topics });
    const configs = new Map<string, Record<string, string>>();
    if (configNames && configNames.length > 0) {
      const described = await this.admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames })),
      });
      for (const r of described.resources) {
        configs.set(r.resourceName, Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])));
      }
    }
    return metadata.topics.map((t) => {
      const byId = [...t.partitions].sort((a, b) => a.partitionId - b.partitionId);
      return {
        name: t.name,
        partitions: t.partitions.length,
        leaders: byId.map((p) => p.leader),
        replicas: byId.map((p) => p.replicas.length),
        ...(configs.has(t.name) ? { config: configs.get(t.name)! } : {}),
      };
    });
  }

  async describeGroup(groupId: string): Promise<{ state: string; members: number }> {
    const { groups } = await this.admin.describeGroups([groupId]);
    return { state: groups[0]?.state ?? "Dead", members: groups[0]?.members.length ?? 0 };
  }

  async createTopics(
    topics: Array<{ name: string; partitions: number; replicationFactor: number; config: Record<string, string> }>,
  ): Promise<void> {
    if (topics.length === 0) return;
    await this.admin.createTopics({
      // KafkaJS's own wait gives up on UNKNOWN_TOPIC_OR_PARTITION while a busy KRaft controller is still
      // propagating the new topics; waitForLeaders polls instead.
      waitForLeaders: false,
      topics: topics.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  async alterTopicConfig(topic: string, entries: Record<string, string>): Promise<void> {
    // AlterConfigs (the only form KafkaJS speaks) replaces every topic-level setting: send the ones the topic has.
    const described = await this.admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }],
    });
    const current: Record<string, string> = {};
    for (const e of described.resources[0]?.configEntries ?? []) {
      if (e.configSource === DYNAMIC_TOPIC_CONFIG && e.configValue !== null) current[e.configName] = e.configValue;
    }
    const merged = { ...current, ...entries };
    await this.admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: Object.entries(merged).map(([name, value]) => ({ name, value })),
        },
      ],
    });
  }

  async waitForLeaders(topics: string[], timeoutMs = 60_000): Promise<void> {
    if (topics.length === 0) return;
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const metadata = await this.admin.fetchTopicMetadata({ topics });
        if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
          // Metadata can name a leader before that broker serves the partition (NOT_LEADER on the first produce):
          // ask each leader for its offsets, which only a serving leader answers.
          for (const topic of topics) await this.admin.fetchTopicOffsets(topic);
          return;
        }
        last = "partitions without a leader";
      } catch (err) {
        last = errorMessage(err);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new BlackwellError(
      "BLACKWELL_ERR_KAFKA",
      `topics ${topics.join(", ")} have no leaders after ${timeoutMs} ms (${last})`,
    );
  }

  async disconnect(): Promise<void> {
    const watermarks = this.watermarks;
    this.watermarks = null;
    await watermarks?.then((a) => a.disconnect()).catch(() => {});
    await this.admin.disconnect().catch(() => {});
  }
}
