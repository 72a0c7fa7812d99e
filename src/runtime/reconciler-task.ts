/**
 * One task = one partition number of the co-partitioned input topics. It owns
 * a transactional producer (transactionalId = application id + partition, so a
 * successor fences a zombie), a SQLite store and the order its inputs are
 * processed in: fetched records are only buffered; the task takes them in
 * timestamp order across its inputs (`PartitionGroup`) or, on replay, in the
 * order live took (`JournalOrder`). Each pass is one Kafka transaction:
 * decode -> evolve/decide at stream time -> outputs + changelog + journal +
 * input offsets -> commit; the store is written only after the commit.
 */
import { clientOf, type InputRecord } from "../core/model/inputs.js";
import type { PassOutputs } from "../core/model/outputs.js";
import {
  auditToAvro,
  driftEventToAvro,
  predictionToAvro,
  healCommandToAvro,
  stateRecordToAvro,
  toInput,
  WRITTEN_BY,
} from "../adapters/kafka/records.js";
import { partitionForClient } from "../adapters/kafka/partitioner.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import { topicSpec, type TopicNames, type TopicRole } from "../adapters/kafka/topics.js";
import type { StateCodec } from "../adapters/store/state-codec.js";
import type { DesiredStack } from "../core/model/desired.js";
import type { ClientState } from "../core/model/client-state.js";
import { dlqRecord } from "../adapters/kafka/dlq.js";
import type { BatchControl, InRecord, OutRecord, RecordBatch, TransactionalProducer } from "../adapters/kafka/port.js";
import type { ClientRow, DesiredRow, TaskStore } from "../adapters/store/task-store.js";
import { BlackwellError, errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import { JournalBuilder, journalToAvro } from "./merge/journal.js";
import type { InputView, MergeOrder } from "./merge/merge-order.js";
import { TaskPass } from "./task-pass.js";
import { ClientCache } from "./client-cache.js";
import { LoopTurns, TimeSlice } from "./loop-turns.js";

export interface TaskOptions {
  partition: number;
  partitions: number;
  /** The task's inputs in tie-break order (desired-state first). */
  inputs: readonly TopicRole[];
  /** Per input: the committed position (next offset to process) and the high watermark when the task opened. */
  start: ReadonlyMap<TopicRole, { committed: bigint; high: bigint }>;
  /** The order records are taken in; its stream time starts at the store's. */
  order: MergeOrder<InRecord>;
  /** This task's transactional producer (`<application id>-<partition>`). */
  producer: TransactionalProducer;
  store: TaskStore;
  /** Encodes store rows and changelog entries (one encoding for both). */
  codec: StateCodec;
  serde: AvroSerde;
  names: TopicNames;
  groupId: string;
  log: Logger;
  /** The clock the merge's idle wait runs on (the runner's fetch clock). Default: the wall clock. */
  clock?: () => number;
  /** Shared by the process's tasks: one stretch of a pass or commit per turn of the event loop. Default: its own. */
  turns?: LoopTurns;
  /** Heap bytes the task's decoded client states may take between transactions. Default 64 MiB. */
  stateCacheBytes?: number;
  /** Records per transaction at most. Default 10 000. */
  maxPassRecords?: number;
  /**
   * Wall time from the start of one transaction to the start of the next, at least (as Kafka Streams'
   * `commit.interval.ms`): records arriving meanwhile wait and go in one larger transaction. Default 0: the next
   * transaction starts as soon as the last one committed (records that arrived during a commit go together anyway).
   */
  commitIntervalMs?: number;
  /** Buffered records per input above which its partition is paused until half of them are processed. Default 5 000. */
  maxBuffered?: number;
  /**
   * What-if replays: each decoded input passes through this before the core sees it (a proposed policy put in place
   * of the recorded one). Live and plain replays have none.
   */
  transform?: (input: InputRecord) => InputRecord;
  /** Called with what each committed pass emitted (metrics, tests). */
  onCommitted?: (summary: PassSummary) => void;
  /** Called when a pass is aborted (it is retried from the same input). */
  onAborted?: (err: unknown) => void;
  /**
   * The task stopped and must be reopened (restored from the changelog with a new producer) if the partition is
   * still this member's: `fenced`, another instance opened its transactional id; `store`, its store could not
   * take a committed transaction; `commit`, whether its last transaction committed is unknown (a new producer settles
   * it, and the group's offsets, committed in it, say where the task stands).
   */
  onStopped?: (partition: number, reason: StopReason) => void;
}

export type StopReason = "fenced" | "store" | "commit";

export interface PassSummary {
  partition: number;
  records: number;
  dlq: number;
  /** Records taken older than stream time (processed where they arrived). */
  late: number;
  outputs: PassOutputs;
  /** From the start of the pass to its commit. */
  durationMs: number;
  /** Newest event time in the pass (epoch ms), null for ticks. */
  newestEventAt: number | null;
  /**
   * Where the pass's latency went (ms): per record, record time to fetched (`fetch`) and fetched to the pass that took
   * it starting (`queue`); per pass, its start to the commit (`process`) and the commit itself (`commit`).
   */
  phases: { fetch: number[]; queue: number[]; process: number; commit: number };
}

/** Records buffered per input of a task before its partition is paused (a fetch is up to 4 MiB). */
const DEFAULT_MAX_BUFFERED = 5_000;

const DEFAULT_MAX_PASS_RECORDS = 10_000;

const DEFAULT_TASK_STATE_CACHE_BYTES = 64 * 1024 * 1024;

/** How far behind the wall clock a tick moves stream time. */
const TICK_GRACE_MS = 1000;

/** Retries of a failed pass wait 200 ms, doubling up to 30 s. */
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 30_000;

export class ReconcilerTask {
  readonly partition: number;
  private readonly o: TaskOptions;
  private readonly turns: LoopTurns;
  private readonly order: MergeOrder<InRecord>;
  private streamTime: number;
  private lastActivity = Date.now();
  private busy: Promise<unknown> = Promise.resolve();
  /** Per input: next offset to process, as committed with the last transaction. */
  private readonly committed = new Map<TopicRole, bigint>();
  /** Per input: next offset the consumer fetches (everything below was handed over). */
  private readonly fetchedNext = new Map<TopicRole, bigint>();
  private readonly high = new Map<TopicRole, bigint>();
  private readonly resumers = new Map<TopicRole, () => void>();
  private inPass = false;

  /** Whether a pass is under way (`active_reconciliations`). */
  /** Client states held decoded, and their estimated heap bytes. */
  get cacheSize(): { clients: number; bytes: number } {
    return this.clients.size;
  }

  get passing(): boolean {
    return this.inPass;
  }
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private retryAt = 0;
  /** Wall time the last transaction with records started. */
  private lastPassAt = 0;
  /** Why the task stopped (fenced, or its store failed after a commit): it only waits to be closed or reopened. */
  private stoppedBy: string | null = null;
  private readonly view: InputView;
  /** The store, with the states of recently committed clients kept decoded. */
  private readonly clients: ClientCache;

  constructor(options: TaskOptions) {
    this.o = options;
    this.turns = options.turns ?? new LoopTurns();
    this.partition = options.partition;
    this.order = options.order;
    this.streamTime = options.store.meta().streamTime;
    this.clients = new ClientCache(options.store, options.stateCacheBytes ?? DEFAULT_TASK_STATE_CACHE_BYTES);
    for (const role of options.inputs) {
      const s = options.start.get(role) ?? { committed: 0n, high: 0n };
      this.committed.set(role, s.committed);
      this.fetchedNext.set(role, s.committed);
      this.high.set(role, s.high);
    }
    this.view = {
      hasMore: (input) => this.fetchedNext.get(input as TopicRole)! < this.high.get(input as TopicRole)!,
      fetched: (input) => this.fetchedNext.get(input as TopicRole)!,
    };
  }

  /**
   * Buffers a fetched batch (records already buffered or processed are dropped: after a rejoin the consumer fetches
   * again from the committed offsets). Pauses the partition when too much of it waits.
   */
  enqueue(role: TopicRole, batch: RecordBatch, control?: BatchControl): void {
    const from = this.fetchedNext.get(role)!;
    const arrived = Date.now();
    const fresh = [];
    for (const r of batch.records) {
      const offset = BigInt(r.offset);
      if (offset >= from) fresh.push({ input: role, offset, timestamp: r.timestamp, payload: r, arrived });
    }
    this.order.add(role, fresh);
    const next = BigInt(batch.lastOffset) + 1n;
    if (next > from) this.fetchedNext.set(role, next);
    const high = BigInt(batch.highWatermark);
    if (high > this.high.get(role)!) this.high.set(role, high);
    if (control && !this.resumers.has(role) && this.order.size(role) > (this.o.maxBuffered ?? DEFAULT_MAX_BUFFERED)) {
      this.resumers.set(role, control.pause());
    }
  }

  /** A fetch that brought only transaction markers (or nothing new) still moves the fetch position. */
  notePosition(role: TopicRole, lastOffset: string): void {
    const next = BigInt(lastOffset) + 1n;
    if (next > this.fetchedNext.get(role)!) this.fetchedNext.set(role, next);
    if (next > this.high.get(role)!) this.high.set(role, next);
  }

  /** Next offset of `role` the task expects from the consumer (everything below it was handed over). */
  fetchPosition(role: TopicRole): bigint {
    return this.fetchedNext.get(role)!;
  }

  /** Where the task is done with `role`: everything below was processed (or is no record). */
  handled(role: TopicRole): bigint {
    const committed = this.committed.get(role)!;
    if (this.inPass || this.order.size(role) > 0) return committed;
    const fetched = this.fetchedNext.get(role)!;
    return fetched > committed ? fetched : committed;
  }

  /** Processes what the order allows, in passes, until it waits for an input or has nothing left. */
  drain(): Promise<void> {
    return this.exclusive(async () => {
      // A failed pass is retried after its backoff, not on every fetch that comes in meanwhile.
      if (Date.now() < this.retryAt) return this.wake(this.retryAt);
      while (!this.closed && this.stoppedBy === null) {
        const interval = this.o.commitIntervalMs ?? 0;
        if (interval > 0 && this.order.size() < (this.o.maxPassRecords ?? DEFAULT_MAX_PASS_RECORDS)) {
          const due = this.lastPassAt + interval;
          if (Date.now() < due) return this.wake(due);
        }
        const step = await this.pass();
        // A backlog is drained in several passes; the consumer heartbeats on its own (it no longer waits for them).
        if (step === "more") continue;
        // A wait is in clock time (retries are in wall time): either way, look again no later than that.
        if (typeof step === "number") this.wake(Date.now() + Math.max(1, step - this.now()));
        return;
      }
    });
  }

  /**
   * Live mode only: when the task has been idle for `idleMs` with nothing left to fetch, advance its stream time
   * to the wall clock and judge the clients whose deadlines that passes. Journaled, so replay ticks there too.
   */
  tick(wallNow: number, idleMs: number): Promise<number> {
    return this.exclusive(async () => {
      if (this.closed || this.stoppedBy !== null) return 0;
      // A tick stays a second behind the wall clock, so a record produced just before it but fetched just after
      // it is not late.
      const target = wallNow - TICK_GRACE_MS;
      if (wallNow - this.lastActivity < idleMs || target <= this.streamTime) return 0;
      if (this.order.size() > 0 || this.o.inputs.some((r) => this.view.hasMore(r))) return 0;
      const undo = this.order.checkpoint();
      const pass = new TaskPass(this.clients, this.streamTime);
      try {
        pass.advance(target, "schedule");
        if (pass.clients.size === 0) return 0;
        this.order.advanceTo(target);
        await this.commit(
          pass,
          this.journal(),
          [],
          target,
          Date.now(),
          { fetch: [], queue: [] },
          new TimeSlice(this.turns),
        );
        return pass.clients.size;
      } catch (err) {
        undo();
        this.o.onAborted?.(err);
        if (this.stoppedOn(err)) return 0;
        throw err;
      }
    });
  }

  /** One transaction. Returns "more" when it stopped at its size limit, a wall time to come back at, or "done". */
  private async pass(): Promise<"more" | "done" | number> {
    const startedAt = Date.now();
    const undo = this.order.checkpoint();
    const pass = new TaskPass(this.clients, this.streamTime);
    const journal = this.journal();
    const dlq: OutRecord[] = [];
    const limit = this.o.maxPassRecords ?? DEFAULT_MAX_PASS_RECORDS;
    let taken = 0;
    let tick: number | null = null;
    let result: "more" | "done" | number = "done";
    const waits = { fetch: [] as number[], queue: [] as number[] };
    const slice = new TimeSlice(this.turns);
    this.inPass = true;
    try {
      while (taken < limit) {
        if (slice.due()) await slice.pause();
        const step = this.order.next(this.now(), this.view);
        if (step.kind === "wait") {
          result = step.until;
          break;
        }
        if (step.kind === "idle") break;
        if (step.kind === "tick") {
          pass.advance(step.time, "schedule");
          tick = step.time;
          continue;
        }
        taken++;
        if (taken === limit) result = "more";
        const { record } = step;
        if (record.arrived !== undefined) {
          waits.fetch.push(Math.max(0, record.arrived - record.timestamp));
          waits.queue.push(Math.max(0, startedAt - record.arrived));
        }
        journal.take(record.input, record.offset);
        await this.processRecord(pass, record.input as TopicRole, record.payload, dlq);
      }
      if (taken === 0 && tick === null) {
        this.inPass = false;
        return result;
      }
      if (taken > 0) this.lastPassAt = startedAt;
      // A slice of its own: a live pass's small commit runs in one stretch, without waiting for a turn of the loop.
      await this.commit(pass, journal, dlq, tick, startedAt, waits, new TimeSlice(this.turns));
      this.failures = 0;
      this.retryAt = 0;
      return result;
    } catch (err) {
      undo();
      this.o.onAborted?.(err);
      if (this.stoppedOn(err)) return "done";
      this.failures++;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(this.failures - 1, 10));
      // One aborted pass that the retry repairs (the coordinator still writing the last commit's markers) is routine;
      // passes that keep failing are what an operator must see.
      this.o.log[this.failures >= 3 ? "error" : "warn"](
        { err: errorMessage(err), retryInMs: delay, failures: this.failures },
        "pass aborted; retrying from the same input",
      );
      this.retryAt = Date.now() + delay;
      return this.now() + delay;
    } finally {
      this.inPass = false;
      this.resumeDrained();
    }
  }

  private async processRecord(pass: TaskPass, role: TopicRole, message: InRecord, dlq: OutRecord[]): Promise<void> {
    const input = await this.decode(role, message, dlq);
    if (!input) return;
    const late = pass.take(message.timestamp);
    try {
      pass.applyRecord(
        input,
        { role, partition: message.partition, offset: message.offset, timestamp: message.timestamp },
        late,
      );
    } catch (err) {
      // A record that decodes but cannot be applied (a contract gap or a bug in the core) must not stall the
      // partition: it goes to the DLQ and the pass carries on. The core builds new state objects, so a throw leaves
      // the pass as it was.
      const failure = new BlackwellError(
        "BLACKWELL_ERR_APPLY_FAILED",
        `applying the record failed: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
      dlq.push(dlqRecord(this.o.names.dlq, message, failure));
      this.o.log.error(
        { topic: message.topic, offset: message.offset, client: clientOf(input), err: errorMessage(err) },
        "record could not be applied; sent to the DLQ",
      );
    }
  }

  /** Decodes and validates; non-retriable failures become DLQ records, retriable ones abort the pass. */
  private async decode(role: TopicRole, message: InRecord, dlq: OutRecord[]): Promise<InputRecord | null> {
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
      const decoded = toInput(role, key, value, message.timestamp);
      const input = this.o.transform ? this.o.transform(decoded) : decoded;
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
        dlq.push(dlqRecord(this.o.names.dlq, message, err));
        this.o.log.warn(
          { topic, partition, offset: message.offset, code: err.code, err: err.message },
          "record sent to the DLQ",
        );
        return null;
      }
      throw err;
    }
  }

  /** The pass's outputs as records, encoded in stretches (a backlog pass writes thousands of stack states). */
  private async outputRecords(pass: TaskPass, slice: TimeSlice): Promise<OutRecord[]> {
    const { names, serde } = this.o;
    const records: OutRecord[] = [];
    for (const t of pass.outputs.transitions) {
      if (slice.due()) await slice.pause();
      records.push({
        topic: names["drift-events"],
        key: t.client_id,
        headers: WRITTEN_BY.reconciler,
        value: serde.encode(names["drift-events"], "DriftEvent", driftEventToAvro(t)),
      });
    }
    for (const p of pass.outputs.predictions ?? []) {
      if (slice.due()) await slice.pause();
      records.push({
        topic: names["drift-predictions"],
        key: p.client_id,
        headers: WRITTEN_BY.reconciler,
        value: serde.encode(names["drift-predictions"], "DriftPrediction", predictionToAvro(p)),
      });
    }
    for (const s of pass.outputs.stackStates) {
      if (slice.due()) await slice.pause();
      const value =
        s.state === null ? null : serde.encode(names["stack-state"], "StateRecord", stateRecordToAvro(s.state));
      records.push({
        topic: names["stack-state"],
        key: `${s.client_id}/${s.stack_id}`,
        headers: WRITTEN_BY.reconciler,
        value,
      });
    }
    for (const a of pass.outputs.audits) {
      if (slice.due()) await slice.pause();
      records.push({
        topic: names.audit,
        key: a.client_id,
        headers: WRITTEN_BY.reconciler,
        value: serde.encode(names.audit, "AuditEntry", auditToAvro(a)),
      });
    }
    for (const c of pass.outputs.healCommands) {
      if (slice.due()) await slice.pause();
      records.push({
        topic: names["heal-commands"],
        key: c.client_id,
        headers: WRITTEN_BY.reconciler,
        value: serde.encode(names["heal-commands"], "HealCommand", healCommandToAvro(c)),
      });
    }
    return records;
  }

  private journal(): JournalBuilder {
    const { inputs } = this.o;
    return new JournalBuilder(
      this.o.groupId,
      this.partition,
      inputs,
      inputs.map((r) => this.committed.get(r)!),
    );
  }

  private async commit(
    pass: TaskPass,
    journal: JournalBuilder,
    dlq: OutRecord[],
    tick: number | null,
    startedAt: number,
    waits: { fetch: number[]; queue: number[] },
    slice: TimeSlice,
  ): Promise<void> {
    const { names, serde } = this.o;
    const records = await this.outputRecords(pass, slice);
    records.push(...dlq);
    const streamTime = pass.now;
    const rowsAt = performance.now();
    const { rows, desiredRows, written, sizes } = await this.changelogRows(pass, streamTime, records, slice);
    const rowsMs = performance.now() - rowsAt;
    const entry = journal.build(streamTime, pass.late, tick);
    records.push({
      topic: names["task-journal"],
      key: `${this.o.groupId}/${this.partition}`,
      partition: this.partition,
      value: serde.encode(names["task-journal"], "TaskJournal", journalToAvro(entry)),
    });

    const t0 = Date.now();
    const positions = journal.positions();
    const offsets = [];
    for (const [role, next] of positions) {
      if (next !== this.committed.get(role as TopicRole))
        offsets.push({ topic: names[role as TopicRole], partition: this.partition, offset: next.toString() });
    }
    const { ends } = await this.o.producer.commit(
      records,
      offsets.length > 0 ? { groupId: this.o.groupId, offsets } : undefined,
    );
    const committedAt = Date.now();
    // Committed in Kafka: from here on nothing may undo the pass (retrying it would duplicate its outputs).
    for (const [role, next] of positions) this.committed.set(role as TopicRole, next);
    this.streamTime = streamTime;
    this.lastActivity = Date.now();
    const changelogNext = ends.get(`${names.changelog}:${this.partition}`)?.toString();
    const storeAt = performance.now();
    try {
      if (slice.due()) await slice.pause();
      await this.o.store.commitRawSliced(slice, rows, changelogNext, streamTime, desiredRows, written);
      this.clients.committed(sizes);
      for (const client_id of pass.forgotten) this.clients.forget(client_id);
    } catch (err) {
      // The store is only a cache of the changelog, which has these rows: the task is reopened and restored.
      this.stop("store", `the task store could not take a committed pass: ${errorMessage(err)}`);
      return;
    }
    this.o.log.debug(
      {
        records: pass.records,
        late: pass.late,
        dlq: dlq.length,
        clients: rows.length,
        desiredRows: desiredRows.length,
        transitions: pass.outputs.transitions.length,
        healCommands: pass.outputs.healCommands.length,
        txMs: committedAt - t0,
        // Encoding the changelog rows, and writing them to the store (wall time, other work let in every 20 ms).
        rowsMs: Math.round(rowsMs),
        storeMs: Math.round(performance.now() - storeAt),
      },
      "pass committed",
    );
    this.notifyCommitted({
      partition: this.partition,
      records: pass.records,
      dlq: dlq.length,
      late: pass.late,
      outputs: pass.outputs,
      durationMs: Date.now() - startedAt,
      newestEventAt: pass.newestEventAt,
      phases: { ...waits, process: t0 - startedAt, commit: committedAt - t0 },
    });
  }

  /**
   * Each changed client's rows, encoded once for the changelog (appended to `records`) and the store alike: its
   * runtime state always; a stack's desired state only when it is not in the changelog as it is (a new version, or
   * a state read from a row written before the split); a tombstone for a stack the pass removed.
   */
  private async changelogRows(pass: TaskPass, streamTime: number, records: OutRecord[], slice: TimeSlice) {
    const { codec, store, serde, names } = this.o;
    const topic = names.changelog;
    const rows: ClientRow[] = [];
    const desiredRows: DesiredRow[] = [];
    const written: Array<[DesiredStack, number]> = [];
    const sizes: Array<[string, ClientState, number]> = [];
    const emit = (key: string, body: Buffer | null) =>
      records.push({ topic, key, partition: this.partition, value: body === null ? null : serde.frame(topic, body) });
    for (const [client_id, state] of pass.clients) {
      if (slice.due()) await slice.pause();
      if (pass.forgotten.has(client_id)) {
        // Offboarded: a tombstone for its runtime entry and for every stack's desired entry it had.
        rows.push({ client_id, body: null, deadline: null });
        emit(client_id, null);
        for (const stack_id in pass.before.get(client_id)?.stacks ?? {}) {
          desiredRows.push({ client_id, stack_id, body: null });
          emit(`${client_id}/${stack_id}`, null);
        }
        continue;
      }
      const deadline = pass.deadlines.get(client_id) ?? null;
      const body = codec.encodeRuntime(state, deadline, streamTime);
      rows.push({ client_id, body, deadline });
      emit(client_id, body);
      let bytes = body.length;
      for (const stack_id in state.stacks) {
        const desired = state.stacks[stack_id]!.desired;
        const known = store.persistedBytes(desired);
        if (known !== undefined) {
          bytes += known;
          continue;
        }
        const desiredBody = codec.encodeDesired(desired, streamTime);
        desiredRows.push({ client_id, stack_id, body: desiredBody });
        written.push([desired, desiredBody.length]);
        emit(`${client_id}/${stack_id}`, desiredBody);
        bytes += desiredBody.length;
      }
      const before = pass.before.get(client_id);
      for (const stack_id in before?.stacks ?? {}) {
        if (state.stacks[stack_id]) continue;
        desiredRows.push({ client_id, stack_id, body: null });
        emit(`${client_id}/${stack_id}`, null);
      }
      sizes.push([client_id, state, bytes]);
    }
    return { rows, desiredRows, written, sizes };
  }

  /**
   * Notes an error the task cannot retry: fenced, or a commit whose outcome is unknown (retrying could write the pass
   * twice; once a new producer settled the transaction, the group's offsets and the changelog say what happened).
   * The task stops until the runner closes or reopens it.
   */
  private stoppedOn(err: unknown): boolean {
    if (!(err instanceof BlackwellError)) return false;
    if (err.code === "BLACKWELL_ERR_FENCED") this.stop("fenced", err.message);
    else if (err.code === "BLACKWELL_ERR_KAFKA_COMMIT_UNKNOWN") this.stop("commit", err.message);
    else return false;
    return true;
  }

  private stop(reason: StopReason, message: string): void {
    if (this.stoppedBy !== null) return;
    this.stoppedBy = message;
    this.o.log.warn({ reason, err: message }, "task stopped; it is closed, or reopened from the changelog");
    this.o.onStopped?.(this.partition, reason);
  }

  /** True once the task stopped (fenced, or its store failed): the runner must close it, or reopen it. */
  get stopped(): boolean {
    return this.stoppedBy !== null;
  }

  /**
   * After a rejoin: lift every pause this task took (a crash-restarted consumer forgot them, a rejoined one kept
   * them). The next fetch of an input still over its bound pauses it again.
   */
  liftPauses(): void {
    for (const resume of this.resumers.values()) {
      try {
        resume();
      } catch (err) {
        this.o.log.debug({ err: errorMessage(err) }, "resume after rejoin skipped");
      }
    }
    this.resumers.clear();
  }

  private notifyCommitted(summary: PassSummary): void {
    try {
      this.o.onCommitted?.(summary);
    } catch (err) {
      this.o.log.error({ err: errorMessage(err) }, "a committed-pass listener failed");
    }
  }

  /** Resumes paused inputs whose buffer has come down to half the bound. */
  private resumeDrained(): void {
    const bound = (this.o.maxBuffered ?? DEFAULT_MAX_BUFFERED) / 2;
    for (const [role, resume] of this.resumers) {
      if (this.order.size(role) <= bound) {
        this.resumers.delete(role);
        resume();
      }
    }
  }

  private now(): number {
    return this.o.clock ? this.o.clock() : Date.now();
  }

  /** Comes back at wall time `at` (an input the merge waits for, or a retry). */
  private wake(at: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.drain().catch((err: unknown) => this.o.log.error({ err: errorMessage(err) }, "drain failed"));
      },
      Math.max(1, at - Date.now()),
    );
  }

  /** Serializes work on the task: passes and ticks never overlap. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.busy.then(work, work);
    this.busy = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.busy;
    for (const resume of this.resumers.values()) {
      try {
        resume();
      } catch {
        // the consumer is gone
      }
    }
    await this.o.producer.close();
    this.o.store.close();
  }
}
