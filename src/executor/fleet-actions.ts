/**
 * What the whole executor fleet has done lately, for the global circuit
 * breaker: follows every partition of heal-results (a consumer group of this
 * instance alone) from one breaker window back, and reports each result's
 * command key and action time. An executor starts acting only once it has read
 * up to the end the topic had when it started, so a restarted executor knows
 * the actions of the window before it takes any.
 */
import { randomUUID } from "node:crypto";
import type { GroupConsumer, KafkaAdmin, KafkaPort } from "../adapters/kafka/port.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";

interface ResultValue {
  command_key: string;
  started_at: string;
}

export interface FleetActionsOptions {
  kafka: KafkaPort;
  admin: KafkaAdmin;
  serde: AvroSerde;
  /** The heal-results topic. */
  topic: string;
  windowMs: number;
  groupPrefix: string;
  log: Logger;
  onAction: (commandKey: string, at: number) => void;
}

export class FleetActions {
  private readonly consumer: GroupConsumer;
  private readonly groupId: string;
  private readonly positions = new Map<number, bigint>();

  constructor(private readonly o: FleetActionsOptions) {
    this.groupId = `${o.groupPrefix}-fleet-${randomUUID().slice(0, 8)}`;
    this.consumer = o.kafka.consumer({ groupId: this.groupId, topics: [o.topic], maxWaitMs: 200 });
  }

  /** Follows the topic; resolves once caught up with its end at start (or after `timeoutMs`, with a warning). */
  async start(timeoutMs = 30_000): Promise<void> {
    const { topic, log } = this.o;
    const ends = await this.o.admin.endOffsets(topic);
    const since = Date.now() - this.o.windowMs;
    const from = await this.o.admin.offsetsAtTime(topic, since).catch(() => []);
    await this.consumer.start({
      onPosition: (t, partition, lastOffset) => {
        if (t === topic) this.positions.set(partition, BigInt(lastOffset));
      },
      eachBatch: async (batch) => {
        for (const m of batch.records) {
          try {
            const v = await this.o.serde.decode<ResultValue>("HealResult", m.value);
            const at = Date.parse(v.started_at);
            this.o.onAction(v.command_key, Number.isFinite(at) ? at : m.timestamp);
          } catch (err) {
            log.debug(
              { partition: batch.partition, offset: m.offset, err: errorMessage(err) },
              "fleet feed skipped a heal result it cannot read",
            );
          }
        }
      },
    });
    // Older results would only be counted and forgotten (they fall outside the window): skipping them is an optimisation.
    for (const { partition, offset } of from) {
      try {
        if (offset > 0n) this.consumer.seek(topic, partition, offset.toString());
      } catch {
        /* read from the beginning instead */
      }
    }
    const deadline = Date.now() + timeoutMs;
    const caughtUp = () => ends.every((e) => e.high === 0n || (this.positions.get(e.partition) ?? -1n) + 1n >= e.high);
    while (!caughtUp()) {
      if (Date.now() > deadline) {
        log.warn(
          { topic, timeoutMs },
          "fleet feed not caught up with heal-results in time: the global breaker counts what it has seen so far",
        );
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
    await this.o.admin.deleteGroups([this.groupId]).catch(() => {});
  }
}
