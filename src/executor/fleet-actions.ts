/**
 * What the whole executor fleet has done lately, for the global circuit
 * breaker: follows every partition of heal-results (a consumer group of this
 * instance alone) from one breaker window back, and reports each result's
 * command key and action time. An executor starts acting only once it has read
 * up to the end the topic had when it started, so a restarted executor knows
 * the actions of the window before it takes any.
 */
import { randomUUID } from "node:crypto";
import type { Admin, Consumer, Kafka } from "kafkajs";
import { highWatermarks } from "../adapters/kafka/end-offsets.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";

interface ResultValue { command_key: string; started_at: string }

export interface FleetActionsOptions {
  kafka: Kafka;
  admin: Admin;
  serde: AvroSerde;
  /** The heal-results topic. */
  topic: string;
  windowMs: number;
  groupPrefix: string;
  log: Logger;
  onAction: (commandKey: string, at: number) => void;
}

export class FleetActions {
  private readonly consumer: Consumer;
  private readonly groupId: string;
  private readonly positions = new Map<number, bigint>();

  constructor(private readonly o: FleetActionsOptions) {
    this.groupId = `${o.groupPrefix}-fleet-${randomUUID().slice(0, 8)}`;
    this.consumer = o.kafka.consumer({ groupId: this.groupId, readUncommitted: false, maxWaitTimeInMs: 200 });
  }

  /** Follows the topic; resolves once caught up with its end at start (or after `timeoutMs`, with a warning). */
  async start(timeoutMs = 30_000): Promise<void> {
    const { topic, log } = this.o;
    const ends = await highWatermarks(this.o.kafka, topic);
    const since = Date.now() - this.o.windowMs;
    const from = await this.o.admin.fetchTopicOffsetsByTimestamp(topic, since).catch(() => []);
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === topic) this.positions.set(payload.partition, BigInt(payload.lastOffset));
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          try {
            const v = await this.o.serde.decode<ResultValue>("HealResult", m.value);
            const at = Date.parse(v.started_at);
            this.o.onAction(v.command_key, Number.isFinite(at) ? at : Number(m.timestamp));
          } catch (err) {
            log.debug({ partition: batch.partition, offset: m.offset, err: errorMessage(err) }, "fleet feed skipped a heal result it cannot read");
          }
        }
      },
    });
    // Older results would only be counted and forgotten (they fall outside the window): skipping them is an optimisation.
    for (const { partition, offset } of from) {
      try {
        if (BigInt(offset) > 0n) this.consumer.seek({ topic, partition, offset });
      } catch {
        /* read from the beginning instead */
      }
    }
    const deadline = Date.now() + timeoutMs;
    const caughtUp = () => ends.every((e) => e.high === 0n || (this.positions.get(e.partition) ?? -1n) + 1n >= e.high);
    while (!caughtUp()) {
      if (Date.now() > deadline) {
        log.warn({ topic, timeoutMs }, "fleet feed not caught up with heal-results in time: the global breaker counts what it has seen so far");
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect().catch(() => {});
    await this.o.admin.deleteGroups([this.groupId]).catch(() => {});
  }
}
