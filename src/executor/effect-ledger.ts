/**
 * The executors' memory of what they did, kept in the compacted
 * `executor-ledger` topic (co-partitioned with heal-commands) so any executor
 * that takes a partition over knows it too. Per command key: `intent` (about
 * to act), `effect` (acted, with the outcome), `done` (result published and
 * input committed).
 */
import type { KafkaPort, OutRecord } from "../adapters/kafka/port.js";
import type { HealCommandOutput } from "../core/model/outputs.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import type { EffectOutcome } from "./outcome.js";

export type LedgerPhase = "intent" | "effect" | "done";

export interface LedgerEntry {
  phase: LedgerPhase;
  outcome: EffectOutcome | null;
}

interface LedgerValue {
  command_key: string;
  phase: LedgerPhase;
  outcome_json: string;
}

export class EffectLedger {
  private readonly entries = new Map<string, LedgerEntry>();

  constructor(
    private readonly topic: string,
    private readonly partition: number,
    private readonly serde: AvroSerde,
  ) {}

  /** Reads this partition of the ledger (committed records only) to its end. */
  async load(kafka: KafkaPort, groupPrefix: string): Promise<number> {
    await kafka.readToEnd({
      topic: this.topic,
      groupPrefix,
      from: new Map([[this.partition, 0n]]),
      onBatch: async (batch) => {
        for (const m of batch.records) {
          if (!m.key) continue;
          const key = m.key.toString("utf8").split("/").slice(1).join("/");
          if (m.value === null) {
            this.entries.delete(key);
            continue;
          }
          const v = await this.serde.decode<LedgerValue>("ExecutorEffect", m.value);
          this.entries.set(v.command_key, { phase: v.phase, outcome: parseOutcome(v.outcome_json) });
        }
      },
    });
    return this.entries.size;
  }

  get(commandKey: string): LedgerEntry | undefined {
    return this.entries.get(commandKey);
  }

  /** The record to put in a transaction; `remember` it once that transaction committed. */
  record(
    cmd: HealCommandOutput,
    phase: LedgerPhase,
    outcome: EffectOutcome | null,
    executorId: string,
    now: number,
  ): OutRecord {
    return {
      topic: this.topic,
      key: `${cmd.client_id}/${cmd.command_key}`,
      partition: this.partition,
      value: this.serde.encode(this.topic, "ExecutorEffect", {
        command_key: cmd.command_key,
        client_id: cmd.client_id,
        stack_id: cmd.stack_id,
        drift_id: cmd.drift_id,
        action: cmd.action,
        attempt: cmd.attempt,
        phase,
        executor_id: executorId,
        at: new Date(now).toISOString(),
        outcome_json: JSON.stringify(outcome ?? {}),
      }),
    };
  }

  remember(commandKey: string, phase: LedgerPhase, outcome: EffectOutcome | null): void {
    this.entries.set(commandKey, { phase, outcome });
  }
}

function parseOutcome(json: string): EffectOutcome | null {
  try {
    const o = JSON.parse(json) as Partial<EffectOutcome>;
    return o && typeof o.status === "string"
      ? { status: o.status, error: o.error ?? null, details: o.details ?? {} }
      : null;
  } catch {
    return null;
  }
}
