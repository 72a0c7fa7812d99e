/** The reconciler role's settings, read once at start-up. */
import { join } from "node:path";
import { projectRoot } from "../adapters/kafka/project-root.js";
import { readKafkaConfig, type KafkaConfig } from "./config.js";
import { EnvReader } from "./env-reader.js";

export interface ReconcilerConfig {
  kafka: KafkaConfig;
  /** Consumer group and transactional-id prefix. `BLACKWELL_APPLICATION_ID`, default `blackwell-reconciler`. */
  applicationId: string;
  /** Where the SQLite task stores live. `BLACKWELL_STATE_DIR`, default `<project>/.blackwell/state`. */
  stateDir: string;
  /** Re-evaluates idle partitions on the wall clock. `BLACKWELL_WALL_CLOCK_TICKS`, default on (`0` turns it off). */
  wallClockTicks: boolean;
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
    ...readSessionTimeout(r),
  });
}
