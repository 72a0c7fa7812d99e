/** The executor's settings from the environment, read once and refused at start-up when malformed. */
import { readKafkaConfig, type KafkaConfig } from "../config/config.js";
import { EnvReader } from "../config/env-reader.js";
import { readSessionTimeout } from "../config/reconciler-config.js";
import { parseRate, type TargetBudget } from "./rate-budget.js";

export interface ExecutorConfig {
  kafka: KafkaConfig;
  /** Consumer group on heal-commands. `BLACKWELL_EXECUTOR_GROUP`, default `blackwell-executor`. */
  groupId: string;
  /** `BLACKWELL_INTEGRATION_API_URL`; null: provider.register and integration.configure fail. */
  integrationApiUrl: string | null;
  /** `BLACKWELL_INTEGRATION_API_TOKEN`, default none. */
  integrationApiToken: string | null;
  /**
   * Rate budgets, e.g. `30/min`: `BLACKWELL_BUDGET_CODEBUILD[_PER_CLIENT]` (default 30/min, 10/min),
   * `BLACKWELL_BUDGET_INTEGRATION_API[_PER_CLIENT]` (default 120/min, 30/min).
   */
  budgets: { codebuild: TargetBudget; integrationApi: TargetBudget };
  /** How often running builds are polled. `BLACKWELL_BUILD_WATCH_INTERVAL_MS`, default 15000. */
  watchIntervalMs: number;
  /** A fault to inject (crash tests). `BLACKWELL_FAULT`, default none. */
  fault: string | null;
  /**
   * The fleet-wide breaker: `BLACKWELL_GLOBAL_BREAKER_MAX_HEALS` (default 200) heals per
   * `BLACKWELL_GLOBAL_BREAKER_WINDOW` (default 10m).
   */
  breaker: { maxHeals: number; windowMs: number };
  /** Consumer group session timeout. `BLACKWELL_SESSION_TIMEOUT_MS`, default the runner's. */
  sessionTimeoutMs?: number;
}

function budget(r: EnvReader, name: string, total: string, perClient: string): TargetBudget {
  return {
    total: r.parse(name, parseRate(total), parseRate),
    perClient: r.parse(`${name}_PER_CLIENT`, parseRate(perClient), parseRate),
  };
}

export function executorConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ExecutorConfig {
  const r = new EnvReader(env);
  return r.finish({
    kafka: readKafkaConfig(r),
    groupId: r.string("BLACKWELL_EXECUTOR_GROUP", "blackwell-executor"),
    integrationApiUrl: r.httpUrl("BLACKWELL_INTEGRATION_API_URL") ?? null,
    integrationApiToken: r.optional("BLACKWELL_INTEGRATION_API_TOKEN") ?? null,
    budgets: {
      codebuild: budget(r, "BLACKWELL_BUDGET_CODEBUILD", "30/min", "10/min"),
      integrationApi: budget(r, "BLACKWELL_BUDGET_INTEGRATION_API", "120/min", "30/min"),
    },
    watchIntervalMs: r.milliseconds("BLACKWELL_BUILD_WATCH_INTERVAL_MS", 10) ?? 15_000,
    fault: r.optional("BLACKWELL_FAULT") ?? null,
    breaker: {
      maxHeals: r.positiveInt("BLACKWELL_GLOBAL_BREAKER_MAX_HEALS", 200),
      windowMs: r.duration("BLACKWELL_GLOBAL_BREAKER_WINDOW", "10m"),
    },
    ...readSessionTimeout(r),
  });
}
