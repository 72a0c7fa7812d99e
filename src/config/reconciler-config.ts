/** The reconciler role's settings, read once at start-up. */
import { join } from "node:path";
import { projectRoot } from "../adapters/kafka/project-root.js";
import { readKafkaConfig, type KafkaConfig } from "./config.js";
import { EnvReader } from "./env-reader.js";
import { parseDuration } from "../core/duration.js";
import { DEFAULT_MAX_TASK_IDLE_MS } from "../runtime/merge/partition-group.js";

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
    ...readSessionTimeout(r),
  });
}
