/** Runs an executor in the test process, on the harness's topics, against moto and a fake Integration API. */
import pino from "pino";
import { CodeBuild } from "../../src/executor/codebuild.js";
import { ExecutorRunner, type ExecutorOptions } from "../../src/executor/executor-runner.js";
import { IntegrationApi } from "../../src/executor/integration-api.js";
import { parseRate, RateBudgets } from "../../src/executor/rate-budget.js";
import type { Harness } from "./reconciler-harness.js";
import { desiredStateTarget } from "../../src/runtime/rollback.js";

export async function startTestExecutor(
  h: Harness,
  integrationApiUrl: string | null,
  overrides: Partial<ExecutorOptions> = {},
): Promise<ExecutorRunner> {
  const codebuild = new CodeBuild();
  const runner = new ExecutorRunner({
    kafka: h.ctx.kafka,
    admin: h.ctx.admin,
    serde: h.ctx.serde,
    names: h.ctx.names,
    partitions: h.config.partitions,
    targets: {
      codebuild,
      desiredState: desiredStateTarget(h.ctx),
      integrationApi: integrationApiUrl
        ? new IntegrationApi({ baseUrl: integrationApiUrl, retryBaseMs: 50, timeoutMs: 2000 })
        : null,
    },
    budgets: new RateBudgets(() => ({ total: parseRate("100/s"), perClient: parseRate("100/s") })),
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    groupId: `${h.config.topicPrefix}executor`,
    watchIntervalMs: 200,
    sessionTimeoutMs: 6000,
    ...overrides,
  });
  await runner.start();
  const stop = runner.stop.bind(runner);
  runner.stop = async () => {
    await stop();
    codebuild.close();
  };
  return runner;
}
