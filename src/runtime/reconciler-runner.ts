/**
 * The reconciler process: one consumer group over the input topics with the
 * co-partitioned assigner; a task per assigned partition number, restored from
 * the changelog before its first batch. Fetched batches are handed to their
 * task, which takes records in timestamp order across its inputs (or, on
 * replay, in the journal's order); a timer ticks idle tasks on the wall clock.
 */
import { join } from "node:path";
import type {
  BatchControl,
  GroupConsumer,
  KafkaAdmin,
  KafkaPort,
  RecordBatch,
  TransactionalProducer,
} from "../adapters/kafka/port.js";
import type { InRecord } from "../adapters/kafka/port.js";
import type { InputRecord } from "../core/model/inputs.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import { RECONCILER_INPUTS, type TopicNames, type TopicRole } from "../adapters/kafka/topics.js";
import { restoreFromChangelog } from "../adapters/store/changelog-restore.js";
import { TaskStore } from "../adapters/store/task-store.js";
import { stateCodecOf, type StateCodec } from "../adapters/store/state-codec.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { JournalEntry } from "./merge/journal.js";
import { JournalOrder } from "./merge/journal-order.js";
import type { MergeOrder } from "./merge/merge-order.js";
import { DEFAULT_MAX_TASK_IDLE_MS, PartitionGroup } from "./merge/partition-group.js";
import { ReconcilerTask, type PassSummary, type StopReason } from "./reconciler-task.js";
import { DEFAULT_STATE_CACHE_BYTES } from "./client-cache.js";
import { retry, retryPolicy } from "./retry.js";
import { LoopTurns } from "./loop-turns.js";

/** Opening tasks is retried for about a minute. */
const OPEN_POLICY = retryPolicy({ attempts: 8, initialMs: 500, maxMs: 15_000 });

/** Ties between records of equal timestamp go to the input listed first: the declaration before what it judges. */
export const MERGE_ORDER: readonly TopicRole[] = [
  "desired-state",
  "commands",
  "provider-events",
  "resource-events",
  "heal-results",
];

export interface ReconcilerOptions {
  /** Input topics to consume (default: all of the reconciler's inputs). */
  inputs?: readonly TopicRole[];
  kafka: KafkaPort;
  admin: KafkaAdmin;
  serde: AvroSerde;
  names: TopicNames;
  partitions: number;
  /** Consumer group and transactional-id prefix. Default `blackwell-reconciler`. */
  applicationId: string;
  /** Where task stores live. */
  stateDir: string;
  log: Logger;
  /** Live mode re-evaluates idle partitions on the wall clock. Default true; replay turns it off. */
  wallClockTicks?: boolean;
  /** Tick period. Default 1000 ms. */
  tickIntervalMs?: number;
  /** A partition counts as idle after this long without records. Default 2000 ms. */
  idleMs?: number;
  /** How long the merge waits for an input that has unfetched data but nothing buffered. */
  maxTaskIdleMs?: number;
  /**
   * Replay: follow these journal entries per task (partition) instead of merging by arrival; tasks without entries
   * merge by timestamp, waiting for every input (perfect arrival).
   */
  journal?: ReadonlyMap<number, readonly JournalEntry[]>;
  /** Replay: per task (partition), per input role, the offset the replay stops at (live's committed position). */
  until?: ReadonlyMap<number, ReadonlyMap<string, bigint>>;
  /** What-if replays: each decoded input passes through this before the core sees it (`TaskOptions.transform`). */
  transform?: (input: InputRecord) => InputRecord;
  /** Group session timeout: how long a dead member keeps its partitions. Default 30 000 ms. */
  sessionTimeoutMs?: number;
  /**
   * Heap bytes the process's decoded client states may take, shared out per partition (a member owning every
   * partition gets all of it). Default 256 MiB.
   */
  stateCacheBytes?: number;
  /** Least wall time between the starts of a task's transactions (`ReconcilerTask`'s `commitIntervalMs`). Default 0. */
  commitIntervalMs?: number;
  onCommitted?: (summary: PassSummary) => void;
  onAborted?: (err: unknown) => void;
  /**
   * Called when the consumer crashed and the client will not restart it. The
   * process must not linger as a member doing nothing: composition roots exit
   * so a supervisor restarts them. Default: log only.
   */
  onFatal?: (error: Error) => void;
}

interface TaskSlot {
  ready: Promise<ReconcilerTask>;
}

export class ReconcilerRunner {
  private readonly o: ReconcilerOptions;
  private readonly consumer: GroupConsumer;
  private readonly tasks = new Map<number, TaskSlot>();
  /** Tasks restored and running, for the calls that cannot wait. */
  private readonly running = new Map<number, ReconcilerTask>();
  private readonly topicRoles: Map<string, TopicRole>;
  private readonly inputs: readonly TopicRole[];
  private readonly codec: StateCodec;
  private timer: NodeJS.Timeout | null = null;
  private assignment: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The partitions of the latest assignment. */
  private assigned = new Set<number>();
  /**
   * Per input partition (`topic:partition`) where a fetch that started past its task was dropped: the log start offset
   * looked up then (undefined while the lookup runs), which says whether records were deleted before the task got them.
   */
  private readonly logStart = new Map<string, bigint | undefined>();
  /** Set once every assigned task has been restored. */
  restoredAt: number | null = null;

  constructor(options: ReconcilerOptions) {
    this.o = options;
    const wanted = new Set(options.inputs ?? RECONCILER_INPUTS);
    this.inputs = MERGE_ORDER.filter((r) => wanted.has(r));
    this.topicRoles = new Map(this.inputs.map((role) => [options.names[role], role]));
    this.codec = stateCodecOf(options.serde);
    this.consumer = options.kafka.consumer({
      groupId: options.applicationId,
      topics: [...this.topicRoles.keys()],
      coPartitioned: true,
      manualResolve: true,
      // Tasks work in parallel; each task serializes its own passes (one transaction at a time per producer).
      concurrency: options.partitions,
      ...(options.sessionTimeoutMs ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
      maxWaitMs: 100,
      // A fetched record stays in memory until its task processes it, and with it the whole fetch response it was
      // cut from. Since fetching no longer waits for processing, fetch size no longer sets the transaction size
      // (the buffered records do): 1 MiB per partition, 8 MiB per fetch.
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 8 * 1024 * 1024,
    });
  }

  async start(): Promise<void> {
    const { log } = this.o;
    await this.consumer.start({
      onAssigned: (assignment) => {
        const partitions = new Set<number>();
        for (const [topic, ps] of assignment) if (this.topicRoles.has(topic)) for (const p of ps) partitions.add(p);
        this.assigned = partitions;
        for (const task of this.running.values()) task.liftPauses();
        this.assignment = this.assignment
          .then(() => this.reassign(partitions))
          .catch((err: unknown) => {
            log.error({ err: errorMessage(err) }, "task assignment failed");
          });
      },
      onPosition: (topic, partition, lastOffset, fetchedOffset) => {
        // A fetch of only a transaction marker (heal-results are written in transactions) moves the position without
        // a batch, and the task must know it has nothing more to wait for.
        const role = this.topicRoles.get(topic);
        const task = this.running.get(partition);
        if (
          role &&
          task &&
          (fetchedOffset === undefined || this.inSequence(task, role, topic, partition, BigInt(fetchedOffset)))
        )
          task.notePosition(role, lastOffset);
      },
      onFatal: (error) => {
        log.error({ err: errorMessage(error) }, "consumer stopped for good");
        if (!this.stopped) this.o.onFatal?.(error);
      },
      eachBatch: (batch, control) => this.handle(batch, control),
    });
    if (this.o.wallClockTicks ?? true) {
      this.timer = setInterval(() => void this.tickAll(), this.o.tickIntervalMs ?? 1000);
    }
    log.info({ group: this.o.applicationId, inputs: [...this.topicRoles.keys()] }, "reconciler started");
  }

  /**
   * Time during which no task was draining: what a task's merge waits on for an input with unfetched records. On a
   * busy machine draining can hold the event loop for seconds with no fetch answered meanwhile: on wall time the
   * merge would give up on an input that was never asked for.
   */
  fetchClock(): number {
    return this.clockBase + (this.activeDrains === 0 ? Date.now() - this.freeSince : 0);
  }

  private activeDrains = 0;
  /** The tasks' passes and commits take turns on the event loop, one stretch per turn. */
  private readonly turns = new LoopTurns();
  private clockBase = 0;
  private freeSince = Date.now();

  /**
   * Buffers the batch and hands it to the task's drain without waiting for it: the consumer fetches again at once.
   * (Waiting made every fetch wait for the slowest task's transaction: at 1 000 events/s, half the records waited
   * over 200 ms to be fetched.) Back-pressure is the task's pause of an input whose buffer is full.
   */
  private async handle(batch: RecordBatch, control: BatchControl): Promise<void> {
    const task = await this.taskFor(batch.partition, control.heartbeat);
    const role = this.topicRoles.get(batch.topic)!;
    // Fetched from further on than the task stands (from where the consumer was before a seek to where the task
    // starts): dropped. One that follows on from the task is taken, even if KafkaJS marks it stale: the task drops the
    // records it has.
    if (
      batch.fetchedOffset !== undefined &&
      !this.inSequence(task, role, batch.topic, batch.partition, BigInt(batch.fetchedOffset))
    )
      return;
    task.enqueue(role, batch, control);
    // Buffered: the fetch position moves on; group offsets are committed with each transaction.
    control.resolveOffset(batch.lastOffset);
    if (this.activeDrains++ === 0) this.clockBase += Date.now() - this.freeSince;
    task
      .drain()
      .catch((err: unknown) => this.o.log.error({ err: errorMessage(err), task: task.partition }, "drain failed"))
      .finally(() => {
        if (--this.activeDrains === 0) this.freeSince = Date.now();
      });
  }

  /**
   * Whether a fetch of `role` that started at `from` follows on from what the task has. One that started at or before
   * the task's fetch position does (records the task already has are dropped by it). One that started further on
   * skipped records: it was fetched from where the consumer stood before a seek to where the task starts (a task
   * reopened in place), possibly by a broker that led the partition before, and KafkaJS may have moved its position
   * with it. It is dropped and the consumer sought back to the task, unless the records in between were deleted from
   * the log (retention; the log start, looked up on the first drop, is past the task): then the task goes on from there.
   */
  private inSequence(task: ReconcilerTask, role: TopicRole, topic: string, partition: number, from: bigint): boolean {
    const key = `${topic}:${partition}`;
    const at = task.fetchPosition(role);
    if (from <= at) {
      this.logStart.delete(key);
      return true;
    }
    const start = this.logStart.get(key);
    if (start !== undefined && start > at && from <= start) {
      this.logStart.delete(key);
      this.o.log.warn(
        { topic, partition, expected: at.toString(), fetched: from.toString() },
        "records were deleted from the input before the task processed them; going on from the next one there is",
      );
      return true;
    }
    this.o.log.debug({ topic, partition, expected: at.toString(), fetched: from.toString() }, "fetch dropped");
    this.seek(topic, partition, at);
    if (!this.logStart.has(key)) {
      this.logStart.set(key, undefined);
      this.o.admin
        .endOffsets(topic)
        .then((ends) => {
          const low = ends.find((e) => e.partition === partition)?.low;
          if (this.logStart.has(key) && low !== undefined) this.logStart.set(key, low);
        })
        .catch(() => this.logStart.delete(key));
    }
    return false;
  }

  /** Has the consumer fetch `topic`/`partition` from `offset` next. */
  private seek(topic: string, partition: number, offset: bigint): void {
    try {
      this.consumer.seek(topic, partition, offset.toString());
    } catch (err) {
      // The consumer is restarting: it fetches from the group's offsets again, which are where the task starts.
      this.o.log.debug({ err: errorMessage(err), topic, partition }, "seek skipped");
    }
  }

  /** Waits for the task's restore, heartbeating so a long restore does not cost the group membership. */
  private async taskFor(partition: number, heartbeat: () => Promise<void>): Promise<ReconcilerTask> {
    const deadline = Date.now() + 60_000;
    while (!this.tasks.has(partition)) {
      if (Date.now() > deadline) throw new Error(`no task for partition ${partition} after 60 s`);
      await new Promise((r) => setTimeout(r, 50));
      await heartbeat();
    }
    const slot = this.tasks.get(partition)!;
    let settled = false;
    const ready = slot.ready.finally(() => {
      settled = true;
    });
    while (!settled) {
      await Promise.race([ready, new Promise((r) => setTimeout(r, 1000))]);
      if (!settled) await heartbeat();
    }
    return ready;
  }

  private async reassign(partitions: Set<number>): Promise<void> {
    const { log } = this.o;
    // A stopped task (fenced by another instance, or its store failed) is reopened like a gained one (restored,
    // with a new producer) if the partition is still ours.
    const revoked = [...this.tasks.keys()].filter((p) => !partitions.has(p) || this.running.get(p)?.stopped === true);
    for (const p of revoked) {
      const slot = this.tasks.get(p)!;
      this.tasks.delete(p);
      this.running.delete(p);
      await slot.ready.then(
        (t) => t.close(),
        () => {},
      );
    }
    const gained = [...partitions].filter((p) => !this.tasks.has(p)).sort((a, b) => a - b);
    if (gained.length === 0) {
      log.info({ tasks: [...this.tasks.keys()], revoked }, "assignment unchanged apart from revocations");
      return;
    }
    this.restoredAt = null;
    const started = Date.now();
    // Opening asks the cluster (producer init, changelog, offsets): a transient failure is retried; one that
    // persists stops the consumer for good (the process exits and its supervisor restarts it).
    const opening = retry(() => this.openTasks(gained), OPEN_POLICY, {
      onRetry: ({ error, attempt }) =>
        log.warn({ err: errorMessage(error), attempt, tasks: gained }, "opening tasks failed; retrying"),
    });
    opening.catch((err: unknown) => {
      for (const p of gained) this.tasks.delete(p);
      if (!this.stopped) this.o.onFatal?.(err instanceof Error ? err : new Error(String(err)));
    });
    for (const p of gained) this.tasks.set(p, { ready: opening.then((tasks) => tasks.get(p)!) });
    await opening;
    this.restoredAt = Date.now();
    log.info({ gained, revoked, tasks: [...this.tasks.keys()], restoreMs: Date.now() - started }, "tasks ready");
  }

  /** Fences predecessors (producer init), then restores every gained store from the changelog in one pass. */
  private async openTasks(partitions: number[]): Promise<Map<number, ReconcilerTask>> {
    const { kafka, applicationId, stateDir, names, log } = this.o;
    const opened = new Map<number, { store: TaskStore; producer: TransactionalProducer }>();
    for (const p of partitions) {
      const store = new TaskStore(join(stateDir, applicationId, `task-${p}.db`), this.codec);
      const producer = await kafka.transactionalProducer(`${applicationId}-${p}`);
      opened.set(p, { store, producer });
    }
    const report = await restoreFromChangelog(
      kafka,
      this.o.serde,
      this.codec,
      names.changelog,
      partitions.map((p) => ({ partition: p, store: opened.get(p)!.store })),
      applicationId,
    );
    log.info({ tasks: partitions, ...report }, "changelog restored");
    const starts = await this.startPositions(partitions);
    const tasks = new Map<number, ReconcilerTask>();
    for (const [p, { store, producer }] of opened) {
      const task = new ReconcilerTask({
        partition: p,
        partitions: this.o.partitions,
        inputs: this.inputs,
        start: starts.get(p)!,
        order: this.orderFor(p, store.meta().streamTime),
        producer,
        store,
        codec: this.codec,
        ...(this.o.commitIntervalMs ? { commitIntervalMs: this.o.commitIntervalMs } : {}),
        stateCacheBytes: Math.floor((this.o.stateCacheBytes ?? DEFAULT_STATE_CACHE_BYTES) / this.o.partitions),
        serde: this.o.serde,
        names,
        groupId: applicationId,
        log: log.child({ task: p }),
        ...(this.o.onCommitted ? { onCommitted: this.o.onCommitted } : {}),
        ...(this.o.transform ? { transform: this.o.transform } : {}),
        ...(this.o.onAborted ? { onAborted: this.o.onAborted } : {}),
        onStopped: (partition, reason) => this.reopenLater(partition, reason),
        clock: () => this.fetchClock(),
        turns: this.turns,
      });
      // The consumer fetches each input from where the task starts. It may have fetched further for a task that was
      // reopened in place (after a commit with an unknown outcome, or a store failure): those records were buffered
      // by the task that was closed, and would never come again.
      for (const role of this.inputs) {
        const topic = names[role];
        this.logStart.delete(`${topic}:${p}`);
        this.seek(topic, p, starts.get(p)!.get(role)!.committed);
      }
      tasks.set(p, task);
      this.running.set(p, task);
    }
    return tasks;
  }

  /**
   * Reopens a stopped task if its partition is still ours. A fenced one waits two session timeouts first: if
   * another member owns the partition, the rebalance that gave it away revokes it here meanwhile (reopening at
   * once would fence that member back).
   */
  private reopenLater(partition: number, reason: StopReason): void {
    const delay = reason === "fenced" ? 2 * (this.o.sessionTimeoutMs ?? 30_000) : 1000;
    const timer = setTimeout(() => {
      if (this.stopped || !this.assigned.has(partition) || this.running.get(partition)?.stopped !== true) return;
      this.o.log.warn({ partition, reason }, "reopening a stopped task that is still ours");
      this.assignment = this.assignment
        .then(() => this.reassign(new Set(this.assigned)))
        .catch((err: unknown) => this.o.log.error({ err: errorMessage(err) }, "reopening a task failed"));
    }, delay);
    timer.unref();
  }

  /** Where each gained task starts in each input (the group's committed offset) and how far the input goes. */
  private async startPositions(partitions: number[]) {
    const { admin, names, applicationId } = this.o;
    const starts = new Map<number, Map<TopicRole, { committed: bigint; high: bigint }>>();
    for (const p of partitions) starts.set(p, new Map());
    for (const role of this.inputs) {
      const [committed, ends] = await Promise.all([
        admin.committedOffsets(applicationId, names[role]),
        admin.endOffsets(names[role]),
      ]);
      for (const p of partitions) {
        starts.get(p)!.set(role, {
          committed: committed.get(p) ?? 0n,
          high: ends.find((e) => e.partition === p)?.high ?? 0n,
        });
      }
    }
    return starts;
  }

  private orderFor(partition: number, streamTime: number): MergeOrder<InRecord> {
    if (this.o.journal) {
      const entries = this.o.journal.get(partition) ?? [];
      return new JournalOrder<InRecord>(this.inputs, entries, streamTime, this.o.until?.get(partition) ?? null);
    }
    return new PartitionGroup<InRecord>({
      inputs: this.inputs,
      maxIdleMs: this.o.maxTaskIdleMs ?? DEFAULT_MAX_TASK_IDLE_MS,
      streamTime,
    });
  }

  private ticking = false;
  private async tickAll(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const now = Date.now();
      for (const slot of this.tasks.values()) {
        const task = await slot.ready.catch(() => null);
        if (task)
          await task
            .tick(now, this.o.idleMs ?? 2000)
            .catch((err: unknown) => this.o.log.warn({ err: errorMessage(err), task: task.partition }, "tick failed"));
      }
    } finally {
      this.ticking = false;
    }
  }

  /** True when every input partition (`topic:partition`) has been processed up to `ends` (high watermarks taken earlier). */
  drainedTo(ends: Map<string, bigint>): boolean {
    for (const [tp, high] of ends) {
      if (high === 0n) continue;
      const cut = tp.lastIndexOf(":");
      const role = this.topicRoles.get(tp.slice(0, cut));
      const task = this.running.get(Number(tp.slice(cut + 1)));
      if (!role || !task || task.handled(role) < high) return false;
    }
    return true;
  }

  /** Number of assigned tasks. */
  get taskCount(): number {
    return this.tasks.size;
  }

  /** Tasks whose reconciliation pass is under way right now. */
  get activePasses(): number {
    let n = 0;
    for (const task of this.running.values()) if (task.passing) n++;
    return n;
  }

  /** Client states the running tasks hold decoded, and their estimated heap bytes. */
  get stateCache(): { clients: number; bytes: number } {
    const total = { clients: 0, bytes: 0 };
    for (const task of this.running.values()) {
      const { clients, bytes } = task.cacheSize;
      total.clients += clients;
      total.bytes += bytes;
    }
    return total;
  }

  /** Graceful stop: finish the batch in flight, leave the group, close stores. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.consumer.stop();
    await this.assignment;
    for (const slot of this.tasks.values())
      await slot.ready.then(
        (t) => t.close(),
        () => {},
      );
    this.tasks.clear();
    this.running.clear();
  }
}
