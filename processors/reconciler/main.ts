/**
 * Composition root of the reconciler role: config -> logger -> Kafka context ->
 * runner; SIGTERM/SIGINT stop it gracefully within a bounded time.
 */
import { configOrExit } from "../../src/config/config-or-exit.js";
import { reconcilerConfigFromEnv, type ReconcilerConfig } from "../../src/config/reconciler-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { createAppContext } from "../../src/runtime/app-context.js";
import { ReconcilerRunner } from "../../src/runtime/reconciler-runner.js";
import { runRole } from "../../src/runtime/signals.js";
import { RECONCILER_INPUTS } from "../../src/adapters/kafka/topics.js";
import {
  countActiveReconciliations,
  countStateCache,
  processMetrics,
  recordPass,
} from "../../src/observability/metrics.js";

/** Starts the role with `cfg`, read once by the caller (`reconcilerConfigFromEnv`). */
export async function startReconciler(cfg: ReconcilerConfig) {
  const log = createLogger("reconciler");
  const config = cfg.kafka;
  const ctx = await createAppContext(config, log);
  const runner = new ReconcilerRunner({
    kafka: ctx.kafka,
    admin: ctx.admin,
    serde: ctx.serde,
    names: ctx.names,
    partitions: config.partitions,
    applicationId: cfg.applicationId,
    stateDir: cfg.stateDir,
    wallClockTicks: cfg.wallClockTicks,
    maxTaskIdleMs: cfg.maxTaskIdleMs,
    stateCacheBytes: cfg.stateCacheBytes,
    commitIntervalMs: cfg.commitIntervalMs,
    ...(cfg.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: cfg.sessionTimeoutMs } : {}),
    log,
    onCommitted: (pass) => recordPass(processMetrics(), pass),
    onAborted: () => processMetrics().reconciliationFailure.inc({ trigger: "event" }),
    onFatal: (err) => {
      log.fatal({ err: err.message }, "reconciler cannot continue; exiting so a supervisor restarts it");
      setTimeout(() => process.exit(70), 100);
    },
  });
  await runner.start();
  const uncount = countActiveReconciliations(() => runner.activePasses);
  const uncountCache = countStateCache(() => runner.stateCache);
  const groupId = cfg.applicationId;
  return {
    runner,
    ops: {
      admin: ctx.admin,
      groups: [{ groupId, topics: RECONCILER_INPUTS.map((r) => ctx.names[r]) }],
      ready: () => runner.restoredAt !== null && runner.taskCount > 0,
    },
    stop: async () => {
      uncount();
      uncountCache();
      await runner.stop();
      await ctx.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cfg = configOrExit("reconciler", () => reconcilerConfigFromEnv());
  await runRole(() => startReconciler(cfg));
}
