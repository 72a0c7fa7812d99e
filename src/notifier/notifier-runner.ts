/**
 * The notifier: a consumer group on drift-events that tells each stack's
 * notification channels (from its desired state's policy) about transitions at
 * or above the channel's severity threshold. It learns the channels from the
 * desired-state topic: read to its end first, then followed in the same group
 * as drift-events, co-partitioned, so the instance that owns a client's drift
 * partition also sees that client's later policy changes. Each transition
 * is sent once per channel (event id), offsets are committed after delivery,
 * failures are retried with backoff and counted; email channels are reported
 * as unsupported, not silently dropped.
 */
import type { GroupConsumer, InRecord, KafkaAdmin, KafkaPort } from "../adapters/kafka/port.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import type { TopicNames } from "../adapters/kafka/topics.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { deliver, slackText, type DriftNotice } from "./channels.js";

interface Channel {
  type: string;
  webhook_url: string | null;
  addresses: string[];
  severity_threshold: string;
}
interface DesiredValue {
  client_id: string;
  stack_id: string;
  policy: { notifications: { channels: Channel[] } };
}

const RANK: Record<string, number> = { low: 0, medium: 1, high: 2, critical: 3 };
const SENT_MEMORY = 50_000;

export interface NotifierOptions {
  kafka: KafkaPort;
  admin: KafkaAdmin;
  serde: AvroSerde;
  names: TopicNames;
  metrics: Metrics;
  log: Logger;
  groupId?: string;
  retryBaseMs?: number;
}

export class NotifierRunner {
  private readonly channels = new Map<string, Channel[]>();
  private readonly sent = new Set<string>();
  private readonly consumer: GroupConsumer;
  private unsupportedLogged = new Set<string>();

  constructor(private readonly o: NotifierOptions) {
    // desired-state from the group's committed offset, or from the beginning for a new group: nothing written since
    // the first read in start() is skipped. drift-events from the committed offset, or new ones only (no old pages on
    // first start). Offsets are committed after delivery.
    this.consumer = o.kafka.consumer({
      groupId: o.groupId ?? "blackwell-notifier",
      topics: [o.names["desired-state"], o.names["drift-events"]],
      fromEnd: [o.names["drift-events"]],
      coPartitioned: true,
      autoCommit: true,
      manualResolve: true,
      maxWaitMs: 200,
    });
  }

  /** Offset of the record each stack's channels came from: a key lives on one partition, so offsets order its versions. */
  private readonly learnedAt = new Map<string, bigint>();

  private learn(key: string, offset: string, value: DesiredValue | null): void {
    const at = BigInt(offset);
    if ((this.learnedAt.get(key) ?? -1n) > at) return; // the group re-reading what the first read already had
    this.learnedAt.set(key, at);
    if (value === null) this.channels.delete(key);
    else this.channels.set(key, value.policy.notifications.channels);
  }

  /** A desired state the notifier cannot decode is skipped with a warning (the reconciler dead-letters it), never retried forever. */
  private async learnRecord(m: InRecord): Promise<void> {
    const key = m.key?.toString() ?? "";
    try {
      this.learn(
        key,
        m.offset,
        m.value === null ? null : await this.o.serde.decode<DesiredValue>("DesiredState", m.value),
      );
    } catch (err) {
      this.o.log.warn(
        { key, offset: m.offset, err: errorMessage(err) },
        "notifier skipped an undecodable desired state",
      );
    }
  }

  /** drift-events' end offsets when the group started: where it reads partitions it has not committed on. */
  private driftEventsStart = new Map<number, bigint>();

  /** Where the group started on `topic`'s partitions that have no committed offset (for the lag gauge). */
  startOffsets(topic: string): ReadonlyMap<number, bigint> | undefined {
    return topic === this.o.names["drift-events"] ? this.driftEventsStart : undefined;
  }

  async start(): Promise<void> {
    const { names, log } = this.o;
    // Taken before the group joins: a record written in between counts as lag until delivered, never the reverse.
    const ends = await this.o.admin.endOffsets(names["drift-events"]);
    this.driftEventsStart = new Map(ends.map((e) => [e.partition, e.high]));
    await this.o.kafka.readToEnd({
      topic: names["desired-state"],
      groupPrefix: this.o.groupId ?? "blackwell-notifier",
      onBatch: async (batch) => {
        for (const m of batch.records) await this.learnRecord(m);
      },
    });
    await this.consumer.start({
      eachBatch: async (batch, control) => {
        for (const message of batch.records) {
          if (!control.isActive()) return;
          await this.handle(message);
          control.resolveOffset(message.offset);
          await control.heartbeat();
        }
      },
    });
    log.info({ stacks: this.channels.size }, "notifier started");
  }

  private async handle(message: InRecord): Promise<void> {
    if (message.topic === this.o.names["desired-state"]) {
      await this.learnRecord(message);
      return;
    }
    if (!message.value) return;
    let notice: DriftNotice;
    try {
      notice = await this.o.serde.decode<DriftNotice>("DriftEvent", message.value);
    } catch (err) {
      this.o.log.warn(
        { offset: message.offset, err: errorMessage(err) },
        "notifier skipped an undecodable drift event",
      );
      return;
    }
    await this.notify(notice);
  }

  private async notify(n: DriftNotice): Promise<void> {
    const channels = this.channels.get(`${n.client_id}/${n.stack_id}`) ?? [];
    for (const [i, c] of channels.entries()) {
      if ((RANK[n.severity] ?? 0) < (RANK[c.severity_threshold] ?? 1)) continue;
      const key = `${n.event_id}#${i}`;
      if (this.sent.has(key)) continue;
      if (c.type === "email" || !c.webhook_url) {
        if (!this.unsupportedLogged.has(`${n.client_id}/${n.stack_id}#${i}`)) {
          this.unsupportedLogged.add(`${n.client_id}/${n.stack_id}#${i}`);
          this.o.log.warn(
            { client: n.client_id, stack: n.stack_id, channel: c.type },
            "notification channel type is not supported by this notifier (slack and webhook are); not sent",
          );
        }
        this.o.metrics.notificationsSent.inc({ channel: c.type, outcome: "unsupported" });
        continue;
      }
      const body = c.type === "slack" ? { text: slackText(n) } : { kind: "blackwell.drift", ...n };
      const result = await deliver(c.webhook_url, body, n.event_id, {
        ...(this.o.retryBaseMs !== undefined ? { retryBaseMs: this.o.retryBaseMs } : {}),
      });
      this.o.metrics.notificationsSent.inc({ channel: c.type, outcome: result.ok ? "sent" : "failed" });
      if (!result.ok)
        this.o.log.error(
          { client: n.client_id, stack: n.stack_id, channel: c.type, attempts: result.attempts, err: result.error },
          "notification failed",
        );
      this.sent.add(key);
      if (this.sent.size > SENT_MEMORY) this.sent.delete(this.sent.values().next().value!);
    }
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
  }
}
