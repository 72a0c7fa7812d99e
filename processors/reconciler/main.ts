/**
 * Composition root of the reconciler role: config -> logger -> Kafka context ->
 * runner; SIGTERM/SIGINT stop it gracefully within a bounded time.
 */
import { join } from "node:path";
import { resolveKafkaConfig } from "../../src/infra/connect.js";
import { createLogger } from "../../src/observability/logger.js";
import { createAppContext } from "../../src/runtime/app-context.js";
import { ReconcilerRunner } from "../../src/runtime/reconciler-runner.js";
import { projectRoot } from "../../src/adapters/kafka/project-root.js";
import { runRole } from "../../src/runtime/signals.js";
import { RECONCILER_INPUTS } from "../../src/adapters/kafka/topics.js";
import { processMetrics, recordPass } from "../../src/observability/metrics.js";


export interface ReconcilerProcessOptions {
  applicationId?: string;
  stateDir?: string;
  wallClockTicks?: boolean;
}

export async function startReconciler(options: ReconcilerProcessOptions = {}) {
  const log = createLogger("reconciler");
  const config = await resolveKafkaConfig((m) => log.info(m));
  const ctx = await createAppContext(config, log);
  const runner = new ReconcilerRunner({
    kafka: ctx.kafka, admin: ctx.admin, serde: ctx.serde, names: ctx.names, partitions: config.partitions,
    applicationId: options.applicationId ?? process.env.BLACKWELL_APPLICATION_ID ?? "blackwell-reconciler",
    stateDir: options.stateDir ?? process.env.BLACKWELL_STATE_DIR ?? join(projectRoot(), ".blackwell", "state"),
    wallClockTicks: options.wallClockTicks ?? process.env.BLACKWELL_WALL_CLOCK_TICKS !== "0",
    ...(process.env.BLACKWELL_SESSION_TIMEOUT_MS ? { sessionTimeoutMs: Number(process.env.BLACKWELL_SESSION_TIMEOUT_MS) } : {}),
    log,
    onCommitted: (pass) => recordPass(processMetrics(), pass),
    onAborted: () => processMetrics().reconciliationFailure.inc({ trigger: "event" }),
    onFatal: (err) => {
      log.fatal({ err: err.message }, "reconciler cannot continue; exiting so a supervisor restarts it");
      setTimeout(() => process.exit(70), 100);
    },
  });
  await runner.start();
  const groupId = options.applicationId ?? process.env.BLACKWELL_APPLICATION_ID ?? "blackwell-reconciler";
  return {
    runner,
    ops: { admin: ctx.admin, groups: [{ groupId, topics: RECONCILER_INPUTS.map((r) => ctx.names[r]) }], ready: () => runner.restoredAt !== null && runner.taskCount > 0 },
    stop: async () => {
      await runner.stop();
      await ctx.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runRole(() => startReconciler());
