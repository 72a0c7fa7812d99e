/** The executor's settings from the environment, refused at start-up when malformed. */
import { BlackwellError } from "../errors.js";
import { parseRate, type TargetBudget } from "./rate-budget.js";
import { parseDuration } from "../core/duration.js";

export interface ExecutorConfig {
  groupId: string;
  integrationApiUrl: string | null;
  integrationApiToken: string | null;
  budgets: { codebuild: TargetBudget; integrationApi: TargetBudget };
  watchIntervalMs: number;
  fault: string | null;
  breaker: { maxHeals: number; windowMs: number };
}

function rate(env: NodeJS.ProcessEnv, name: string, fallback: string) {
  try {
    return parseRate(env[name] ?? fallback);
  } catch (err) {
    throw new BlackwellError("BLACKWELL_ERR_CONFIG", `${name}: ${(err as Error).message}`);
  }
}

function breakerFrom(env: NodeJS.ProcessEnv): { maxHeals: number; windowMs: number } {
  const max = Number(env.BLACKWELL_GLOBAL_BREAKER_MAX_HEALS ?? 200);
  if (!Number.isInteger(max) || max < 1) throw new BlackwellError("BLACKWELL_ERR_CONFIG", "BLACKWELL_GLOBAL_BREAKER_MAX_HEALS must be a positive integer");
  const windowMs = parseDuration(env.BLACKWELL_GLOBAL_BREAKER_WINDOW ?? "10m");
  if (windowMs === null || windowMs <= 0) throw new BlackwellError("BLACKWELL_ERR_CONFIG", "BLACKWELL_GLOBAL_BREAKER_WINDOW must be a duration like 10m");
  return { maxHeals: max, windowMs };
}

export function executorConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ExecutorConfig {
  const url = env.BLACKWELL_INTEGRATION_API_URL ?? null;
  if (url !== null && !/^https?:\/\//.test(url)) throw new BlackwellError("BLACKWELL_ERR_CONFIG", `BLACKWELL_INTEGRATION_API_URL must be an http(s) URL, got ${JSON.stringify(url)}`);
  const watch = Number(env.BLACKWELL_BUILD_WATCH_INTERVAL_MS ?? 15_000);
  if (!Number.isFinite(watch) || watch < 10) throw new BlackwellError("BLACKWELL_ERR_CONFIG", "BLACKWELL_BUILD_WATCH_INTERVAL_MS must be a number of milliseconds >= 10");
  return {
    groupId: env.BLACKWELL_EXECUTOR_GROUP ?? "blackwell-executor",
    integrationApiUrl: url,
    integrationApiToken: env.BLACKWELL_INTEGRATION_API_TOKEN ?? null,
    budgets: {
      codebuild: { total: rate(env, "BLACKWELL_BUDGET_CODEBUILD", "30/min"), perClient: rate(env, "BLACKWELL_BUDGET_CODEBUILD_PER_CLIENT", "10/min") },
      integrationApi: { total: rate(env, "BLACKWELL_BUDGET_INTEGRATION_API", "120/min"), perClient: rate(env, "BLACKWELL_BUDGET_INTEGRATION_API_PER_CLIENT", "30/min") },
    },
    watchIntervalMs: watch,
    fault: env.BLACKWELL_FAULT ?? null,
    breaker: breakerFrom(env),
  };
}
