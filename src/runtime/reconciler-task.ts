/**
 * One task = one partition number of the co-partitioned input topics. It owns
 * a transactional producer (transactionalId = application id + partition, so a
 * successor fences a zombie) and a SQLite store. Each batch is one Kafka
 * transaction: decode -> evolve/decide -> outputs + changelog + input offsets
 * -> commit; the store is written only after the commit.
 */
import { decide, type DecideContext } from "../core/lifecycle/decide.js";
import { evolve } from "../core/fold/evolve.js";
import { scopeOf } from "../core/fold/scopes.js";
import { emptyClient, type ClientState } from "../core/model/client-state.js";
import { clientOf, type InputRecord } from "../core/model/inputs.js";
import type { PassOutputs } from "../core/model/outputs.js";
import {
  auditToAvro,
  driftEventToAvro,
  healCommandToAvro,
  stateRecordToAvro,
  toInput,
} from "../adapters/kafka/records.js";
import { partitionForClient } from "../adapters/kafka/partitioner.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import { topicSpec, type TopicNames, type TopicRole } from "../adapters/kafka/topics.js";
import { encodeChangelog } from "../adapters/store/changelog.js";
import { dlqRecord } from "../adapters/kafka/dlq.js";
import type { InRecord, OutRecord, RecordBatch, TransactionalProducer } from "../adapters/kafka/port.js";
import type { TaskStore } from "../adapters/store/task-store.js";
import { BlackwellError, errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";

export interface TaskOptions {
  partition: number;
  partitions: number;
  /** This task's transactional producer (`<application id>-<partition>`). */
  producer: TransactionalProducer;
  store: TaskStore;
  serde: AvroSerde;
  names: TopicNames;
  groupId: string;
  log: Logger;
  /** Called with what each committed pass emitted (metrics, tests). */
  onCommitted?: (summary: PassSummary) => void;
  /** Called when a pass is aborted (it is retried from the same input). */
  onAborted?: (err: unknown) => void;
}

export interface PassSummary {
  partition: number;
  records: number;
  dlq: number;
  outputs: PassOutputs;
  /** From the start of the pass to its commit. */
  durationMs: number;
  /** Newest event time in the pass (epoch ms), null for ticks. */
  newestEventAt: number | null;
}

/** Outputs and dirty clients gathered during one transaction. */
class Pass {
  readonly clients = new Map<string, ClientState>();
  readonly deadlines = new Map<string, number | null>();
  readonly outputs: PassOutputs = {
    transitions: [],
    stackStates: [],
    audits: [],
    healCommands: [],
    reevaluateAt: null,
  };
  readonly dlq: OutRecord[] = [];
  readonly startedAt = Date.now();
  newestEventAt: number | null = null;
  records = 0;
}

export class ReconcilerTask {
  readonly partition: number;
  private readonly o: TaskOptions;
  private streamTime: number;
  private lastActivity = Date.now();
  private busy: Promise<unknown> = Promise.resolve();

  constructor(options: TaskOptions) {
    this.o = options;
    this.partition = options.partition;
    this.streamTime = options.store.meta().streamTime;
  }

  /** Serializes work on the task: batches and ticks never overlap. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.busy.then(work, work);
    this.busy = run.catch(() => {});
    return run;
  }

  processBatch(role: TopicRole, batch: RecordBatch): Promise<void> {
    return this.exclusive(() =>
      this.rollbackOnError(async () => {
        const pass = new Pass();
        for (const message of batch.records) {
          const input = await this.decode(role, message, pass);
          if (!input) continue;
          const now = Math.max(this.streamTime, input.at);
          const position = `${role}/${batch.partition}@${message.offset}`;
          const applied = this.applySafely(pass, message, clientOf(input), input, {
            now,
            // Deterministic and unique per input record; plain text because every record gets one.
            reconciliation_id: `recon-${role}-${batch.partition}-${message.offset}`,
            trigger: position,
            ...(input.kind === "ProviderEventObserved" || input.kind === "ResourceEventObserved"
              ? { scope: scopeOf(input.stack_id, input.environment) }
              : {}),
            ...(input.kind === "CommandIssued" ? { command: input } : {}),
            ...(input.kind === "DesiredStateApplied"
              ? {
                  applied: {
                    stack_id: input.desired.stack_id,
                    state_version: input.desired.state_version,
                    applied_by: input.desired.applied_by,
                  },
                }
              : {}),
          });
          if (!applied) continue;
          pass.records++;
          this.streamTime = now;
          pass.newestEventAt = Math.max(pass.newestEventAt ?? input.at, input.at);
        }
        // Windows that ran out on stream time are judged now, deterministically, as on replay.
        this.evaluateDue(pass, this.streamTime, "stream-time");
        const next = (BigInt(batch.lastOffset) + 1n).toString();
        await this.commit(pass, { topic: batch.topic, offset: next });
        this.lastActivity = Date.now();
      }),
    );
  }

  /** An aborted transaction leaves the store as it was; in-memory time goes back with it. */
  private async rollbackOnError<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      this.streamTime = this.o.store.meta().streamTime;
      this.o.onAborted?.(err);
      throw err;
    }
  }

  /**
   * Live mode only: when the partition has been idle for `idleMs`, advance its
   * time to the wall clock and re-evaluate clients whose windows ran out.
   */
  tick(wallNow: number, idleMs: number): Promise<number> {
    return this.exclusive(() =>
      this.rollbackOnError(async () => {
        if (wallNow - this.lastActivity < idleMs || wallNow <= this.streamTime) return 0;
        const pass = new Pass();
        this.evaluateDue(pass, wallNow, "schedule");
        if (pass.clients.size === 0) return 0;
        this.streamTime = wallNow;
        await this.commit(pass, null);
        return pass.clients.size;
      }),
    );
  }

  private evaluateDue(pass: Pass, now: number, trigger: string): void {
    const due = new Set(this.o.store.due(now));
    for (const [client, deadline] of pass.deadlines) {
      if (deadline !== null && deadline <= now) due.add(client);
      else due.delete(client); // its stored deadline is outdated by this pass
    }
    for (const client of due) {
      this.apply(pass, client, null, { now, reconciliation_id: `recon-${trigger}-${this.partition}-${now}`, trigger });
    }
  }

  /**
   * A record that decodes but cannot be applied (a contract gap or a bug in the core) must not stall the partition:
   * it goes to the DLQ with BLACKWELL_ERR_APPLY_FAILED and the pass carries on. The core builds new state objects,
   * so a throw leaves the pass as it was.
   */
  private applySafely(pass: Pass, message: InRecord, client: string, input: InputRecord, ctx: DecideContext): boolean {
    try {
      this.apply(pass, client, input, ctx);
      return true;
    } catch (err) {
      const failure = new BlackwellError(
        "BLACKWELL_ERR_APPLY_FAILED",
        `applying the record failed: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
      pass.dlq.push(dlqRecord(this.o.names.dlq, message, failure));
      this.o.log.error(
        { topic: message.topic, offset: message.offset, client, err: errorMessage(err) },
        "record could not be applied; sent to the DLQ",
      );
      return false;
    }
  }

  private apply(pass: Pass, client_id: string, input: InputRecord | null, ctx: DecideContext): void {
    const before = pass.clients.get(client_id) ?? this.o.store.get(client_id) ?? emptyClient(client_id);
    const evolved = input ? evolve(before, input) : before;
    const decision = decide(evolved, ctx);
    pass.clients.set(client_id, decision.state);
    pass.deadlines.set(client_id, decision.outputs.reevaluateAt);
    pass.outputs.transitions.push(...decision.outputs.transitions);
    pass.outputs.stackStates.push(...decision.outputs.stackStates);
    pass.outputs.audits.push(...decision.outputs.audits);
    pass.outputs.healCommands.push(...decision.outputs.healCommands);
  }

  /** Decodes and validates; non-retriable failures become DLQ records, retriable ones abort the batch. */
  private async decode(role: TopicRole, message: InRecord, pass: Pass): Promise<InputRecord | null> {
    const { topic, partition } = message;
    try {
      if (!message.key || message.key.length === 0)
        throw new BlackwellError("BLACKWELL_ERR_INVALID_RECORD", "record has no key (expected client_id)");
      const key = message.key.toString("utf8");
      const schema = topicSpec(role).schema!;
      const value =
        message.value === null
          ? null
          : await this.o.serde.decode<Record<string, unknown> & { client_id: string }>(schema, message.value);
      const input = toInput(role, key, value, message.timestamp);
      const client = clientOf(input);
      const expected = partitionForClient(client, this.o.partitions);
      if (expected !== partition) {
        throw new BlackwellError(
          "BLACKWELL_ERR_INVALID_RECORD",
          `record for client ${client} is on partition ${partition}, expected ${expected}: key by client_id with the default (murmur2) partitioner`,
        );
      }
      return input;
    } catch (err) {
      if (err instanceof BlackwellError && !err.retriable) {
        pass.dlq.push(dlqRecord(this.o.names.dlq, message, err));
        this.o.log.warn(
          { topic, partition, offset: message.offset, code: err.code, err: err.message },
          "record sent to the DLQ",
        );
        return null;
      }
      throw err;
    }
  }

  private async commit(pass: Pass, input: { topic: string; offset: string } | null): Promise<void> {
    const { names, serde } = this.o;
    const records: OutRecord[] = [];
    for (const t of pass.outputs.transitions) {
      records.push({
        topic: names["drift-events"],
        key: t.client_id,
        value: serde.encode(names["drift-events"], "DriftEvent", driftEventToAvro(t)),
      });
    }
    for (const s of pass.outputs.stackStates) {
      const value =
        s.state === null ? null : serde.encode(names["stack-state"], "StateRecord", stateRecordToAvro(s.state));
      records.push({ topic: names["stack-state"], key: `${s.client_id}/${s.stack_id}`, value });
    }
    for (const a of pass.outputs.audits) {
      records.push({
        topic: names.audit,
        key: a.client_id,
        value: serde.encode(names.audit, "AuditEntry", auditToAvro(a)),
      });
    }
    for (const c of pass.outputs.healCommands) {
      records.push({
        topic: names["heal-commands"],
        key: c.client_id,
        value: serde.encode(names["heal-commands"], "HealCommand", healCommandToAvro(c)),
      });
    }
    records.push(...pass.dlq);
    // Each dirty client's state is serialized once, for the changelog and the store alike.
    const rows: Array<{ client_id: string; json: string; deadline: number | null }> = [];
    for (const [client_id, state] of pass.clients) {
      rows.push({ client_id, json: JSON.stringify(state), deadline: pass.deadlines.get(client_id) ?? null });
    }
    for (const r of rows) {
      records.push({
        topic: names.changelog,
        key: r.client_id,
        partition: this.partition,
        value: encodeChangelog(r.json, r.deadline, this.streamTime),
      });
    }

    const t0 = Date.now();
    const offsets = input
      ? { groupId: this.o.groupId, offsets: [{ topic: input.topic, partition: this.partition, offset: input.offset }] }
      : undefined;
    const { ends } = await this.o.producer.commit(records, offsets);
    const changelogNext = ends.get(`${names.changelog}:${this.partition}`)?.toString();
    this.o.store.commitRaw(rows, changelogNext, this.streamTime);
    this.o.log.debug(
      {
        records: pass.records,
        dlq: pass.dlq.length,
        clients: rows.length,
        transitions: pass.outputs.transitions.length,
        healCommands: pass.outputs.healCommands.length,
        txMs: Date.now() - t0,
      },
      "pass committed",
    );
    this.o.onCommitted?.({
      partition: this.partition,
      records: pass.records,
      dlq: pass.dlq.length,
      outputs: pass.outputs,
      durationMs: Date.now() - pass.startedAt,
      newestEventAt: pass.newestEventAt,
    });
  }

  async close(): Promise<void> {
    await this.busy;
    await this.o.producer.close();
    this.o.store.close();
  }
}
