/**
 * Composition root of the executor role: config -> logger -> Kafka context ->
 * CodeBuild + Integration API adapters -> runner. SIGTERM/SIGINT stop it
 * gracefully.
 */
import { configOrExit } from "../../src/config/config-or-exit.js";
import { createLogger } from "../../src/observability/logger.js";
import { createAppContext } from "../../src/runtime/app-context.js";
import { runRole } from "../../src/runtime/signals.js";
import { CodeBuild } from "../../src/executor/codebuild.js";
import { executorConfigFromEnv, type ExecutorConfig } from "../../src/executor/executor-config.js";
import { ExecutorRunner } from "../../src/executor/executor-runner.js";
import { desiredStateTarget } from "../../src/runtime/rollback.js";
import { IntegrationApi } from "../../src/executor/integration-api.js";
import { RateBudgets } from "../../src/executor/rate-budget.js";
import { GlobalBreaker } from "../../src/executor/global-breaker.js";
import { processMetrics, recordHeal } from "../../src/observability/metrics.js";

/** Starts the role with `cfg`, read once by the caller (`executorConfigFromEnv`). */
export async function startExecutor(cfg: ExecutorConfig) {
  const log = createLogger("executor");
  const config = cfg.kafka;
  const ctx = await createAppContext(config, log);
  const codebuild = new CodeBuild();
  const integrationApi = cfg.integrationApiUrl
    ? new IntegrationApi({
        baseUrl: cfg.integrationApiUrl,
        ...(cfg.integrationApiToken ? { token: cfg.integrationApiToken } : {}),
      })
    : null;
  if (!integrationApi)
    log.warn(
      "BLACKWELL_INTEGRATION_API_URL is not set: provider.register and integration.configure commands will fail",
    );
  const runner = new ExecutorRunner({
    kafka: ctx.kafka,
    admin: ctx.admin,
    serde: ctx.serde,
    names: ctx.names,
    partitions: config.partitions,
    targets: { codebuild, integrationApi, desiredState: desiredStateTarget(ctx) },
    budgets: new RateBudgets((target) => (target === "codebuild" ? cfg.budgets.codebuild : cfg.budgets.integrationApi)),
    log,
    groupId: cfg.groupId,
    watchIntervalMs: cfg.watchIntervalMs,
    breaker: new GlobalBreaker(cfg.breaker.maxHeals, cfg.breaker.windowMs),
    ...(cfg.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: cfg.sessionTimeoutMs } : {}),
    ...(cfg.fault ? { fault: cfg.fault } : {}),
    onHandled: (command, outcome) => {
      if (command && outcome) recordHeal(processMetrics(), command.action, outcome.status);
    },
    onFatal: (err) => {
      log.fatal({ err: err.message }, "executor cannot continue; exiting so a supervisor restarts it");
      setTimeout(() => process.exit(70), 100);
    },
  });
  await runner.start();
  return {
    runner,
    ops: {
      admin: ctx.admin,
      groups: [{ groupId: cfg.groupId, topics: [ctx.names["heal-commands"]] }],
      ready: () => true,
    },
    stop: async () => {
      await runner.stop();
      codebuild.close();
      await ctx.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cfg = configOrExit("executor", () => executorConfigFromEnv());
  await runRole(() => startExecutor(cfg));
}
