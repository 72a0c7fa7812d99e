/**
 * One partition of heal-commands, owned by one executor at a time. Its
 * transactional producer (`<group>-<partition>`) fences any previous owner
 * before the ledger is read. Per command:
 *
 *   ledger says done      -> only commit the offset
 *   ledger says intent    -> do not act again: report "outcome unknown" (failed)
 *   ledger says effect    -> do not act again: report the recorded outcome
 *   otherwise             -> wait for not_before and the rate budget,
 *                            commit intent, act, commit effect,
 *                            then result + audit + done + offset in one transaction.
 *
 * So a command is acted on at most once, whatever crashes, redeliveries or
 * hand-overs happen; a crash between intent and effect costs one attempt,
 * which the reconciler's retry policy covers.
 */
import { derivedId } from "../core/ids.js";
import type { HealCommandOutput } from "../core/model/outputs.js";
import { auditToAvro, healCommandFromAvro, WRITTEN_BY } from "../adapters/kafka/records.js";
import { dlqRecord } from "../adapters/kafka/dlq.js";
import type { InRecord, OutRecord, TransactionalProducer } from "../adapters/kafka/port.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import type { TopicNames } from "../adapters/kafka/topics.js";
import { BlackwellError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import { budgetTarget, perform, type ActionTargets } from "./actions.js";
import type { EffectLedger } from "./effect-ledger.js";
import type { EffectOutcome } from "./outcome.js";
import type { RateBudgets } from "./rate-budget.js";
import type { GlobalBreaker } from "./global-breaker.js";

export type Handled =
  | { kind: "committed"; command: HealCommandOutput | null; outcome: EffectOutcome | null }
  | { kind: "defer"; ms: number; reason: string };

export interface PartitionDeps {
  partition: number;
  producer: TransactionalProducer;
  ledger: EffectLedger;
  serde: AvroSerde;
  names: TopicNames;
  groupId: string;
  executorId: string;
  targets: ActionTargets;
  budgets: RateBudgets;
  /** Shared by every partition of this executor. */
  breaker: GlobalBreaker;
  log: Logger;
  now: () => number;
  /** Fault injection for tests (`BLACKWELL_FAULT`): `exit-after-intent` dies before acting, `exit-after-effect` after acting, before the result. */
  fault?: string;
}

export function healResultMessage(
  names: TopicNames,
  serde: AvroSerde,
  cmd: HealCommandOutput,
  outcome: EffectOutcome,
  partition: number,
  startedAt: number,
  now: number,
): OutRecord {
  return {
    topic: names["heal-results"],
    key: cmd.client_id,
    partition,
    value: serde.encode(names["heal-results"], "HealResult", {
      result_id: derivedId("res", cmd.command_key, outcome.status),
      command_key: cmd.command_key,
      client_id: cmd.client_id,
      stack_id: cmd.stack_id,
      drift_id: cmd.drift_id,
      action: cmd.action,
      attempt: cmd.attempt,
      status: outcome.status,
      error_message: outcome.error,
      started_at: new Date(startedAt).toISOString(),
      completed_at: outcome.status === "started" ? null : new Date(now).toISOString(),
      details_json: JSON.stringify(outcome.details),
    }),
  };
}

export function executorAuditMessage(
  names: TopicNames,
  serde: AvroSerde,
  cmd: HealCommandOutput,
  outcome: EffectOutcome,
  executorId: string,
  partition: number,
  now: number,
): OutRecord {
  return {
    topic: names.audit,
    key: cmd.client_id,
    partition,
    headers: WRITTEN_BY.executor,
    value: serde.encode(
      names.audit,
      "AuditEntry",
      auditToAvro({
        audit_id: derivedId("aud", cmd.command_key, outcome.status),
        at: now,
        action: `${cmd.action}:${outcome.status}`,
        client_id: cmd.client_id,
        stack_id: cmd.stack_id,
        drift_id: cmd.drift_id,
        triggered_by: cmd.approved_by ?? "policy",
        success: outcome.status !== "failed",
        changes_made: { ...outcome.details, command_key: cmd.command_key, attempt: cmd.attempt, executor: executorId },
        approval_required: cmd.approved_by !== null,
        approver: cmd.approved_by,
        reason: outcome.error,
      }),
    ),
  };
}

export class ExecutorPartition {
  private busy: Promise<unknown> = Promise.resolve();
  constructor(private readonly d: PartitionDeps) {}

  handle(message: InRecord, heartbeat: () => Promise<void>): Promise<Handled> {
    const run = this.busy.then(() => this.handleNow(message, heartbeat));
    this.busy = run.catch(() => {});
    return run;
  }

  private async handleNow(message: InRecord, heartbeat: () => Promise<void>): Promise<Handled> {
    const { ledger, log } = this.d;
    const { topic } = message;
    const next = (BigInt(message.offset) + 1n).toString();
    let cmd: HealCommandOutput;
    try {
      cmd = await this.decode(message);
    } catch (err) {
      if (!(err instanceof BlackwellError) || err.retriable) throw err;
      log.warn({ offset: message.offset, code: err.code, err: err.message }, "heal command sent to the DLQ");
      await this.transact([dlqRecord(this.d.names.dlq, message, err)], topic, next);
      return { kind: "committed", command: null, outcome: null };
    }
    const seen = ledger.get(cmd.command_key);
    if (seen?.phase === "done") {
      log.info({ command_key: cmd.command_key }, "heal command already handled; not acting again");
      await this.transact([], topic, next);
      return { kind: "committed", command: cmd, outcome: seen.outcome };
    }
    const startedAt = this.d.now();
    let outcome: EffectOutcome;
    if (seen) {
      outcome = seen.outcome ?? {
        status: "failed",
        error:
          "outcome unknown: an executor stopped while acting on this command; not repeated, to avoid a double effect",
        details: {},
      };
      // With the effect recorded, only its report was left to do (a redelivery after a failed commit); without it,
      // the outcome is unknown and a person should look.
      if (seen.outcome)
        log.info(
          { command_key: cmd.command_key, phase: seen.phase, status: seen.outcome.status },
          "heal command's effect was already recorded; reporting it without acting again",
        );
      else
        log.warn(
          { command_key: cmd.command_key, phase: seen.phase },
          "heal command was interrupted before its effect was recorded; reporting it failed without acting again",
        );
    } else {
      const wait = cmd.not_before - this.d.now();
      if (wait > 0) return { kind: "defer", ms: wait, reason: "not_before" };
      const openUntil = this.d.breaker.openUntil(this.d.now());
      if (openUntil !== null) {
        await this.auditBreaker(cmd, openUntil);
        return { kind: "defer", ms: openUntil - this.d.now(), reason: "global circuit breaker open" };
      }
      const budget = this.d.budgets.take(budgetTarget(cmd), cmd.client_id, this.d.now());
      if (!budget.granted) return { kind: "defer", ms: budget.retryInMs, reason: budget.reason };
      this.d.breaker.record(this.d.now(), cmd.command_key);

      await this.transact([ledger.record(cmd, "intent", null, this.d.executorId, this.d.now())], null, null);
      ledger.remember(cmd.command_key, "intent", null);
      if (this.d.fault === "exit-after-intent") process.kill(process.pid, "SIGKILL");
      const beat = setInterval(() => void heartbeat().catch(() => {}), 3000);
      try {
        outcome = await perform(cmd, this.d.targets);
      } finally {
        clearInterval(beat);
      }
      await this.transact([ledger.record(cmd, "effect", outcome, this.d.executorId, this.d.now())], null, null);
      ledger.remember(cmd.command_key, "effect", outcome);
      log.info(
        { command_key: cmd.command_key, action: cmd.action, status: outcome.status, err: outcome.error ?? undefined },
        "heal command acted on",
      );
      if (this.d.fault === "exit-after-effect") process.kill(process.pid, "SIGKILL");
    }
    const now = this.d.now();
    const { names, serde, partition, executorId } = this.d;
    await this.transact(
      [
        healResultMessage(names, serde, cmd, outcome, partition, startedAt, now),
        executorAuditMessage(names, serde, cmd, outcome, executorId, partition, now),
        ledger.record(cmd, "done", outcome, executorId, now),
      ],
      topic,
      next,
    );
    ledger.remember(cmd.command_key, "done", outcome);
    return { kind: "committed", command: cmd, outcome };
  }

  private readonly breakerAudited = new Set<string>();

  /** Once per breaker opening and client: say why this client's heals wait. */
  private async auditBreaker(cmd: HealCommandOutput, until: number): Promise<void> {
    const key = `${this.d.breaker.opening}:${cmd.client_id}`;
    if (this.breakerAudited.has(key)) return;
    this.breakerAudited.add(key);
    if (this.breakerAudited.size > 10_000) this.breakerAudited.clear();
    const { names, serde, partition, breaker } = this.d;
    const now = this.d.now();
    const reason = `${breaker.maxHeals} heal actions by the executors within ${breaker.windowMs / 1000}s: heals wait until ${new Date(until).toISOString()}`;
    this.d.log.warn({ client: cmd.client_id, until: new Date(until).toISOString() }, "global circuit breaker open");
    await this.transact(
      [
        {
          topic: names.audit,
          key: cmd.client_id,
          partition,
          headers: WRITTEN_BY.executor,
          value: serde.encode(
            names.audit,
            "AuditEntry",
            auditToAvro({
              audit_id: derivedId("aud", "global-breaker", String(breaker.opening), cmd.client_id),
              at: now,
              action: "global_circuit_breaker_open",
              client_id: cmd.client_id,
              stack_id: cmd.stack_id,
              drift_id: cmd.drift_id,
              triggered_by: `executor:${this.d.executorId}`,
              success: true,
              changes_made: {
                max_heals: breaker.maxHeals,
                window_seconds: breaker.windowMs / 1000,
                open_until: new Date(until).toISOString(),
                command_key: cmd.command_key,
              },
              approval_required: false,
              approver: null,
              reason,
            }),
          ),
        },
      ],
      null,
      null,
    );
  }

  private async decode(message: InRecord): Promise<HealCommandOutput> {
    if (!message.key || message.key.length === 0)
      throw new BlackwellError("BLACKWELL_ERR_INVALID_RECORD", "heal command has no key (expected client_id)");
    if (!message.value) throw new BlackwellError("BLACKWELL_ERR_INVALID_RECORD", "heal command has no value");
    const value = await this.d.serde.decode<Record<string, unknown>>("HealCommand", message.value);
    return healCommandFromAvro(message.key.toString("utf8"), value);
  }

  /** One transaction: `records`, and the input offset when given. */
  private async transact(records: OutRecord[], inputTopic: string | null, nextOffset: string | null): Promise<void> {
    const input =
      inputTopic && nextOffset
        ? { groupId: this.d.groupId, offsets: [{ topic: inputTopic, partition: this.d.partition, offset: nextOffset }] }
        : undefined;
    await this.d.producer.commit(records, input);
  }

  async close(): Promise<void> {
    await this.busy;
    await this.d.producer.close();
  }
}
