/** The reconciler role's settings, read once at start-up. */
import { join } from "node:path";
import { projectRoot } from "../adapters/kafka/project-root.js";
import { readKafkaConfig, type KafkaConfig } from "./config.js";
import { EnvReader } from "./env-reader.js";
import { parseDuration } from "../core/duration.js";
import { DEFAULT_MAX_TASK_IDLE_MS } from "../runtime/merge/partition-group.js";
import { DEFAULT_STATE_CACHE_BYTES } from "../runtime/client-cache.js";

export interface ReconcilerConfig {
  kafka: KafkaConfig;
  /** Consumer group and transactional-id prefix. `BLACKWELL_APPLICATION_ID`, default `blackwell-reconciler`. */
  applicationId: string;
  /** Where the SQLite task stores live. `BLACKWELL_STATE_DIR`, default `<project>/.blackwell/state`. */
  stateDir: string;
  /** Re-evaluates idle partitions on the wall clock. `BLACKWELL_WALL_CLOCK_TICKS`, default on (`0` turns it off). */
  wallClockTicks: boolean;
  /**
   * How long a task's merge waits for an input partition that has unfetched records but none buffered before it goes
   * on without it (records that then arrive older than stream time are late). `BLACKWELL_MAX_TASK_IDLE`, a duration
   * (`500ms`, `2s`; `0` never waits), default 1 s.
   */
  maxTaskIdleMs: number;
  /** Consumer group session timeout. `BLACKWELL_SESSION_TIMEOUT_MS`, default the runner's. */
  sessionTimeoutMs?: number;
  /**
   * Heap the decoded client states may take, shared out per partition (least recently used go first; a client not
   * held is read back from the task store). `BLACKWELL_STATE_CACHE_MB`, default 256.
   */
  stateCacheBytes: number;
  /**
   * Least wall time between the starts of a task's transactions (Kafka Streams' `commit.interval.ms`).
   * `BLACKWELL_COMMIT_INTERVAL`, a duration; default 0 (a transaction starts as soon as the last committed).
   */
  commitIntervalMs: number;
}

/** Where every role keeps local state unless `BLACKWELL_STATE_DIR` says otherwise. */
export function defaultStateDir(): string {
  return join(projectRoot(), ".blackwell", "state");
}

/** Reads the session timeout shared by the consuming roles; the broker refuses less than 6 s by default. */
export function readSessionTimeout(r: EnvReader): { sessionTimeoutMs?: number } {
  const ms = r.milliseconds("BLACKWELL_SESSION_TIMEOUT_MS", 1000);
  return ms === undefined ? {} : { sessionTimeoutMs: ms };
}

export function reconcilerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ReconcilerConfig {
  const r = new EnvReader(env);
  return r.finish({
    kafka: readKafkaConfig(r),
    applicationId: r.string("BLACKWELL_APPLICATION_ID", "blackwell-reconciler"),
    stateDir: r.string("BLACKWELL_STATE_DIR", defaultStateDir()),
    wallClockTicks: r.flag("BLACKWELL_WALL_CLOCK_TICKS", true),
    maxTaskIdleMs: r.parse("BLACKWELL_MAX_TASK_IDLE", DEFAULT_MAX_TASK_IDLE_MS, (raw) => {
      const ms = parseDuration(raw);
      if (ms === null) throw new Error("must be a duration like 500ms or 2s (0: never wait)");
      return ms;
    }),
    commitIntervalMs: r.parse("BLACKWELL_COMMIT_INTERVAL", 0, (raw) => {
      const ms = parseDuration(raw);
      if (ms === null) throw new Error("must be a duration like 100ms (0: commit as soon as the last commit is done)");
      return ms;
    }),
    ...readSessionTimeout(r),
    stateCacheBytes: r.parse("BLACKWELL_STATE_CACHE_MB", DEFAULT_STATE_CACHE_BYTES, (raw) => {
      const mb = Number(raw);
      if (!Number.isInteger(mb) || mb < 1) throw new Error("must be a whole number of megabytes, at least 1");
      return mb * 1024 * 1024;
    }),
  });
}
