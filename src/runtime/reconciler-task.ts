/**
 * One task = one partition number of the co-partitioned input topics. It owns
 * a transactional producer (transactionalId = application id + partition, so a
 * successor fences a zombie) and a SQLite store. Each batch is one Kafka
 * transaction: decode -> evolve/decide -> outputs + changelog + input offsets
 * -> commit; the store is written only after the commit.
 */
import type { Admin, Batch, KafkaMessage, Message, Producer, TopicMessages } from "kafkajs";
import { decide, type DecideContext } from "../core/lifecycle/decide.js";
import { evolve } from "../core/fold/evolve.js";
import { scopeOf } from "../core/fold/scopes.js";
import { emptyClient, type ClientState } from "../core/model/client-state.js";
import { clientOf, type InputRecord } from "../core/model/inputs.js";
import type { PassOutputs } from "../core/model/outputs.js";
import { auditToAvro, driftEventToAvro, healCommandToAvro, stateRecordToAvro, toInput } from "../adapters/kafka/records.js";
import { partitionForClient } from "../adapters/kafka/partitioner.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import { topicSpec, type TopicNames, type TopicRole } from "../adapters/kafka/topics.js";
import { encodeChangelog } from "../adapters/store/changelog.js";
import { chunkBySize, MAX_REQUEST_BYTES } from "../adapters/kafka/chunk.js";
import { dlqMessage } from "../adapters/kafka/dlq.js";
import type { TaskStore } from "../adapters/store/task-store.js";
import { BlackwellError, errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";

export interface TaskOptions {
  partition: number;
  partitions: number;
  producer: Producer;
  /** A fresh, connected producer with the same transactional id, for when the current one is left in an unknown state. */
  newProducer?: () => Promise<Producer>;
  /** To ask the group's committed offset when a commit's outcome is unknown. */
  admin?: Admin;
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
  readonly outputs: PassOutputs = { transitions: [], stackStates: [], audits: [], healCommands: [], reevaluateAt: null };
  readonly dlq: Message[] = [];
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
  private producer: Producer;

  constructor(options: TaskOptions) {
    this.o = options;
    this.partition = options.partition;
    this.producer = options.producer;
    this.streamTime = options.store.meta().streamTime;
  }

  /** Serializes work on the task: batches and ticks never overlap. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.busy.then(work, work);
    this.busy = run.catch(() => {});
    return run;
  }

  processBatch(role: TopicRole, batch: Batch): Promise<void> {
    return this.exclusive(() => this.rollbackOnError(async () => {
      const pass = new Pass();
      for (const message of batch.messages) {
        const input = await this.decode(role, batch.topic, batch.partition, message, pass);
        if (!input) continue;
        pass.records++;
        this.streamTime = Math.max(this.streamTime, input.at);
        pass.newestEventAt = Math.max(pass.newestEventAt ?? input.at, input.at);
        const position = `${role}/${batch.partition}@${message.offset}`;
        this.apply(pass, clientOf(input), input, {
          now: this.streamTime,
          // Deterministic and unique per input record; plain text because every record gets one.
          reconciliation_id: `recon-${role}-${batch.partition}-${message.offset}`,
          trigger: position,
          ...(input.kind === "ProviderEventObserved" || input.kind === "ResourceEventObserved" ? { scope: scopeOf(input.stack_id, input.environment) } : {}),
          ...(input.kind === "CommandIssued" ? { command: input } : {}),
          ...(input.kind === "DesiredStateApplied" ? { applied: { stack_id: input.desired.stack_id, state_version: input.desired.state_version, applied_by: input.desired.applied_by } } : {}),
        });
      }
      // Windows that ran out on stream time are judged now, deterministically, as on replay.
      this.evaluateDue(pass, this.streamTime, "stream-time");
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      await this.commit(pass, { topic: batch.topic, offset: next });
      this.lastActivity = Date.now();
    }));
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
    return this.exclusive(() => this.rollbackOnError(async () => {
      if (wallNow - this.lastActivity < idleMs || wallNow <= this.streamTime) return 0;
      const pass = new Pass();
      this.evaluateDue(pass, wallNow, "schedule");
      if (pass.clients.size === 0) return 0;
      this.streamTime = wallNow;
      await this.commit(pass, null);
      return pass.clients.size;
    }));
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
  private async decode(role: TopicRole, topic: string, partition: number, message: KafkaMessage, pass: Pass): Promise<InputRecord | null> {
    try {
      if (!message.key || message.key.length === 0) throw new BlackwellError("BLACKWELL_ERR_INVALID_RECORD", "record has no key (expected client_id)");
      const key = message.key.toString("utf8");
      const schema = topicSpec(role).schema!;
      const value = message.value === null ? null : await this.o.serde.decode<Record<string, unknown> & { client_id: string }>(schema, message.value);
      const input = toInput(role, key, value, Number(message.timestamp));
      const client = clientOf(input);
      const expected = partitionForClient(client, this.o.partitions);
      if (expected !== partition) {
        throw new BlackwellError("BLACKWELL_ERR_INVALID_RECORD", `record for client ${client} is on partition ${partition}, expected ${expected}: key by client_id with the default (murmur2) partitioner`);
      }
      return input;
    } catch (err) {
      if (err instanceof BlackwellError && !err.retriable) {
        pass.dlq.push(dlqMessage({ topic, partition, message }, err));
        this.o.log.warn({ topic, partition, offset: message.offset, code: err.code, err: err.message }, "record sent to the DLQ");
        return null;
      }
      throw err;
    }
  }

  private async commit(pass: Pass, input: { topic: string; offset: string } | null): Promise<void> {
    const { names, serde } = this.o;
    const topicMessages: TopicMessages[] = [];
    const add = (topic: string, messages: Message[]) => {
      if (messages.length > 0) topicMessages.push({ topic, messages });
    };
    add(names["drift-events"], pass.outputs.transitions.map((t) => ({ key: t.client_id, value: serde.encode(names["drift-events"], "DriftEvent", driftEventToAvro(t)) })));
    add(names["stack-state"], pass.outputs.stackStates.map((s) => ({
      key: `${s.client_id}/${s.stack_id}`,
      value: s.state === null ? null : serde.encode(names["stack-state"], "StateRecord", stateRecordToAvro(s.state)),
    })));
    add(names.audit, pass.outputs.audits.map((a) => ({ key: a.client_id, value: serde.encode(names.audit, "AuditEntry", auditToAvro(a)) })));
    add(names["heal-commands"], pass.outputs.healCommands.map((c) => ({ key: c.client_id, value: serde.encode(names["heal-commands"], "HealCommand", healCommandToAvro(c)) })));
    add(names.dlq, pass.dlq.map((m) => ({ ...m, partition: this.partition })));
    // Each dirty client's state is serialized once, for the changelog and the store alike.
    const rows: Array<{ client_id: string; json: string; deadline: number | null }> = [];
    for (const [client_id, state] of pass.clients) {
      rows.push({ client_id, json: JSON.stringify(state), deadline: pass.deadlines.get(client_id) ?? null });
    }
    add(names.changelog, rows.map((r) => ({ key: r.client_id, partition: this.partition, value: encodeChangelog(r.json, r.deadline, this.streamTime) })));

    const t0 = Date.now();
    const tx = await this.producer.transaction();
    let changelogNext: string | undefined;
    let committing = false;
    try {
      for (const chunk of chunkBySize(topicMessages, MAX_REQUEST_BYTES)) {
        const results = await tx.sendBatch({ topicMessages: chunk, acks: -1 });
        for (const r of results) {
          if (r.topicName !== names.changelog || r.partition !== this.partition) continue;
          const count = chunk.find((t) => t.topic === names.changelog)!.messages.length;
          changelogNext = (BigInt(r.baseOffset ?? "0") + BigInt(count)).toString();
        }
      }
      if (input) {
        await tx.sendOffsets({ consumerGroupId: this.o.groupId, topics: [{ topic: input.topic, partitions: [{ partition: this.partition, offset: input.offset }] }] });
      }
      committing = true;
      await tx.commit();
    } catch (err) {
      // A commit can fail on the client after the coordinator committed (e.g. the coordinator's broker died in between).
      // The input offset is part of the transaction: if it is committed, so is everything else, and redoing the pass would duplicate it.
      if (committing && input && (await this.inputCommitted(input))) {
        this.o.log.warn({ err: errorMessage(err) }, "commit reported an error but the transaction committed (its input offset is committed); carrying on");
        await this.replaceProducer();
      } else {
        const aborted = await tx.abort().then(() => true, (abortErr: unknown) => {
          this.o.log.warn({ err: errorMessage(abortErr) }, "abort after a failed transaction failed");
          return false;
        });
        // A producer whose transaction could be neither committed nor aborted is replaced: the new one fences it on init.
        if (!aborted) await this.replaceProducer();
        throw err;
      }
    }
    this.o.store.commitRaw(rows, changelogNext, this.streamTime);
    this.o.log.debug({ records: pass.records, dlq: pass.dlq.length, clients: rows.length, transitions: pass.outputs.transitions.length, healCommands: pass.outputs.healCommands.length, txMs: Date.now() - t0 }, "pass committed");
    this.o.onCommitted?.({ partition: this.partition, records: pass.records, dlq: pass.dlq.length, outputs: pass.outputs, durationMs: Date.now() - pass.startedAt, newestEventAt: pass.newestEventAt });
  }

  private async inputCommitted(input: { topic: string; offset: string }): Promise<boolean> {
    if (!this.o.admin) return false;
    try {
      const [topic] = await this.o.admin.fetchOffsets({ groupId: this.o.groupId, topics: [input.topic] });
      return topic?.partitions.find((p) => p.partition === this.partition)?.offset === input.offset;
    } catch {
      return false;
    }
  }

  private async replaceProducer(): Promise<void> {
    if (!this.o.newProducer) return;
    await this.producer.disconnect().catch(() => {});
    for (let attempt = 1; ; attempt++) {
      try {
        this.producer = await this.o.newProducer();
        this.o.log.warn({ attempt }, "transactional producer replaced");
        return;
      } catch (err) {
        if (attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  async close(): Promise<void> {
    await this.busy;
    await this.producer.disconnect().catch(() => {});
    this.o.store.close();
  }
}
