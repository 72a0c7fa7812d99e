/**
 * Follows CodeBuild builds the executors started until they finish and reports
 * `succeeded` or `failed` on heal-results and audit. Best effort: the watch
 * lives in the process that started the build (a restart forgets it; the drift
 * still resolves, or is retried, by observation).
 */
import type { HealCommandOutput } from "../core/model/outputs.js";
import type { RecordProducer } from "../adapters/kafka/port.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import type { TopicNames } from "../adapters/kafka/topics.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { CodeBuild } from "./codebuild.js";
import { executorAuditMessage, healResultMessage } from "./executor-partition.js";

export interface WatcherDeps {
  codebuild: CodeBuild;
  /** Idempotent, non-transactional: these reports carry no input offset. */
  producer: RecordProducer;
  serde: AvroSerde;
  names: TopicNames;
  executorId: string;
  log: Logger;
  intervalMs: number;
  timeoutMs: number;
  onReported?: (command: HealCommandOutput, outcome: { status: "succeeded" | "failed" }) => void;
}

export class BuildWatcher {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly d: WatcherDeps) {}

  watch(cmd: HealCommandOutput, buildId: string, partition: number, startedAt: number): void {
    const deadline = Date.now() + this.d.timeoutMs;
    const poll = async () => {
      if (this.stopped) return;
      let report: { status: "succeeded" | "failed"; error: string | null; buildStatus: string } | null = null;
      try {
        const state = await this.d.codebuild.buildState(buildId);
        if (state.done)
          report = {
            status: state.succeeded ? "succeeded" : "failed",
            error: state.succeeded ? null : `build ${buildId} ended ${state.status}`,
            buildStatus: state.status,
          };
        else if (Date.now() > deadline)
          report = {
            status: "failed",
            error: `build ${buildId} did not finish within ${this.d.timeoutMs} ms of watching`,
            buildStatus: "UNKNOWN",
          };
      } catch (err) {
        this.d.log.warn({ build_id: buildId, err: errorMessage(err) }, "build status check failed; will retry");
      }
      if (!report) {
        this.schedule(poll);
        return;
      }
      const outcome = {
        status: report.status,
        error: report.error,
        details: { build_id: buildId, build_status: report.buildStatus },
      };
      const now = Date.now();
      const { names, serde } = this.d;
      await this.d.producer
        .send([
          healResultMessage(names, serde, cmd, outcome, partition, startedAt, now),
          executorAuditMessage(names, serde, cmd, outcome, this.d.executorId, partition, now),
        ])
        .then(
          () => this.d.onReported?.(cmd, outcome),
          (err: unknown) =>
            this.d.log.error({ build_id: buildId, err: errorMessage(err) }, "could not report the build's end"),
        );
    };
    this.schedule(poll);
  }

  private schedule(fn: () => Promise<void>): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, this.d.intervalMs);
    this.timers.add(t);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
