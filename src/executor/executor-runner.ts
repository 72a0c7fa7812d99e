/**
 * The executor role: a consumer group on heal-commands. Each assigned
 * partition gets an ExecutorPartition (fencing producer + ledger); commands
 * not yet due, or over their rate budget, pause their partition and are
 * fetched again when due.
 */
import { hostname } from "node:os";
import type { GroupConsumer, KafkaAdmin, KafkaPort, RecordProducer } from "../adapters/kafka/port.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import type { TopicNames } from "../adapters/kafka/topics.js";
import type { HealCommandOutput } from "../core/model/outputs.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { ActionTargets } from "./actions.js";
import { BuildWatcher } from "./build-watcher.js";
import { EffectLedger } from "./effect-ledger.js";
import { ExecutorPartition, type Handled } from "./executor-partition.js";
import type { EffectOutcome } from "./outcome.js";
import type { RateBudgets } from "./rate-budget.js";
import { FleetActions } from "./fleet-actions.js";
import { GlobalBreaker } from "./global-breaker.js";

export interface ExecutorOptions {
  kafka: KafkaPort;
  admin: KafkaAdmin;
  serde: AvroSerde;
  names: TopicNames;
  partitions: number;
  targets: ActionTargets;
  budgets: RateBudgets;
  /** Global circuit breaker of the fleet (default: 200 actions per 10 minutes). */
  breaker?: GlobalBreaker;
  /** Count the other executors' actions too (from heal-results). Default true. */
  fleetBreaker?: boolean;
  log: Logger;
  /** Consumer group and transactional-id prefix. Default `blackwell-executor`. */
  groupId?: string;
  /** Names this instance in the ledger and audit. Default host + pid. */
  executorId?: string;
  /** How often, and how long, to follow a started build. Defaults 15 s / 2 h. */
  watchIntervalMs?: number;
  watchTimeoutMs?: number;
  sessionTimeoutMs?: number;
  fault?: string;
  onFatal?: (err: Error) => void;
  /** Called after each command is committed (tests, metrics). */
  onHandled?: (command: HealCommandOutput | null, outcome: Pick<EffectOutcome, "status"> | null) => void;
}

export class ExecutorRunner {
  private readonly consumer: GroupConsumer;
  private readonly workers = new Map<number, Promise<ExecutorPartition>>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private readonly groupId: string;
  private readonly executorId: string;
  private reportProducer: RecordProducer | null = null;
  private watcher: BuildWatcher | null = null;
  private fleet: FleetActions | null = null;
  private stopped = false;
  private readonly breaker: GlobalBreaker;

  constructor(private readonly o: ExecutorOptions) {
    this.breaker = o.breaker ?? new GlobalBreaker(200, 600_000);
    this.groupId = o.groupId ?? "blackwell-executor";
    this.executorId = o.executorId ?? `${hostname()}:${process.pid}`;
    this.consumer = o.kafka.consumer({
      groupId: this.groupId,
      topics: [o.names["heal-commands"]],
      manualResolve: true,
      concurrency: o.partitions,
      ...(o.sessionTimeoutMs ? { sessionTimeoutMs: o.sessionTimeoutMs } : {}),
      maxWaitMs: 200,
    });
  }

  async start(): Promise<void> {
    const { log, names } = this.o;
    const topic = names["heal-commands"];
    this.reportProducer = await this.o.kafka.producer();
    this.watcher = new BuildWatcher({
      codebuild: this.o.targets.codebuild,
      producer: this.reportProducer,
      serde: this.o.serde,
      names,
      executorId: this.executorId,
      log,
      intervalMs: this.o.watchIntervalMs ?? 15_000,
      timeoutMs: this.o.watchTimeoutMs ?? 2 * 3_600_000,
      ...(this.o.onHandled ? { onReported: this.o.onHandled } : {}),
    });
    if (this.o.fleetBreaker ?? true) {
      this.fleet = new FleetActions({
        kafka: this.o.kafka,
        admin: this.o.admin,
        serde: this.o.serde,
        topic: names["heal-results"],
        windowMs: this.breaker.windowMs,
        groupPrefix: this.groupId,
        log,
        onAction: (key, at) => this.breaker.observe(at, key, Date.now()),
      });
      await this.fleet.start();
    }
    await this.consumer.start({
      onAssigned: (assignment) => {
        const assigned = new Set(assignment.get(topic) ?? []);
        for (const p of [...this.workers.keys()]) if (!assigned.has(p)) void this.release(p);
        log.info({ partitions: [...assigned] }, "executor partitions assigned");
      },
      onFatal: (error) => {
        log.error({ err: errorMessage(error) }, "executor consumer stopped for good");
        if (!this.stopped) this.o.onFatal?.(error);
      },
      eachBatch: async (batch, control) => {
        const worker = await this.workerFor(batch.partition);
        for (const message of batch.records) {
          if (!control.isActive() || this.stopped) return;
          const handled: Handled = await worker.handle(message, control.heartbeat);
          if (handled.kind === "defer") {
            // Fetch this command again when it is due; later commands of the partition wait behind it.
            const resume = control.pause(message.offset);
            const timer = setTimeout(
              () => {
                this.resumeTimers.delete(timer);
                try {
                  if (!this.stopped) resume();
                } catch (err) {
                  log.debug({ err: errorMessage(err) }, "resume skipped (partition no longer assigned)");
                }
              },
              Math.max(50, handled.ms),
            );
            this.resumeTimers.add(timer);
            log.debug(
              { partition: batch.partition, offset: message.offset, waitMs: handled.ms, reason: handled.reason },
              "heal command deferred",
            );
            return;
          }
          control.resolveOffset(message.offset);
          await control.heartbeat();
          const { command, outcome } = handled;
          if (command && outcome?.status === "started" && typeof outcome.details.build_id === "string") {
            this.watcher?.watch(command, outcome.details.build_id, batch.partition, Date.now());
          }
          this.o.onHandled?.(command, outcome);
        }
      },
    });
    log.info({ group: this.groupId, executor: this.executorId, topic }, "executor started");
  }

  private workerFor(partition: number): Promise<ExecutorPartition> {
    let w = this.workers.get(partition);
    if (!w) {
      w = this.open(partition);
      this.workers.set(partition, w);
      w.catch(() => this.workers.delete(partition));
    }
    return w;
  }

  /** Fences the partition's previous owner, then learns what it did from the ledger. */
  private async open(partition: number): Promise<ExecutorPartition> {
    const { kafka, serde, names, log } = this.o;
    // Opening the transactional producer fences the partition's previous owner before the ledger is read.
    const producer = await kafka.transactionalProducer(`${this.groupId}-${partition}`);
    const ledger = new EffectLedger(names["executor-ledger"], partition, serde);
    const t0 = Date.now();
    const known = await ledger.load(kafka, this.groupId);
    log.info({ partition, ledgerEntries: known, loadMs: Date.now() - t0 }, "executor partition ready");
    return new ExecutorPartition({
      partition,
      producer,
      ledger,
      serde,
      names,
      groupId: this.groupId,
      executorId: this.executorId,
      targets: this.o.targets,
      budgets: this.o.budgets,
      breaker: this.breaker,
      log: log.child({ partition }),
      now: () => Date.now(),
      ...(this.o.fault ? { fault: this.o.fault } : {}),
    });
  }

  private async release(partition: number): Promise<void> {
    const w = this.workers.get(partition);
    this.workers.delete(partition);
    await w?.then(
      (worker) => worker.close(),
      () => {},
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.resumeTimers) clearTimeout(t);
    this.watcher?.stop();
    await this.consumer.stop();
    for (const p of [...this.workers.keys()]) await this.release(p);
    await this.reportProducer?.disconnect().catch(() => {});
    await this.fleet?.stop();
  }
}
