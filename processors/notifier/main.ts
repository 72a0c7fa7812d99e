/** Composition root of the notifier role: drift-events -> the policy's Slack and webhook channels. */
import { resolveKafkaConfig } from "../../src/infra/connect.js";
import { NotifierRunner } from "../../src/notifier/notifier-runner.js";
import { createLogger } from "../../src/observability/logger.js";
import { processMetrics } from "../../src/observability/metrics.js";
import { createAppContext } from "../../src/runtime/app-context.js";
import { runRole } from "../../src/runtime/signals.js";

export async function startNotifier() {
  const log = createLogger("notifier");
  const config = await resolveKafkaConfig((m) => log.info(m));
  const ctx = await createAppContext(config, log);
  const runner = new NotifierRunner({
    kafka: ctx.kafka, admin: ctx.admin, serde: ctx.serde, names: ctx.names, metrics: processMetrics(), log,
    groupId: process.env.BLACKWELL_NOTIFIER_GROUP ?? "blackwell-notifier",
  });
  await runner.start();
  const groupId = process.env.BLACKWELL_NOTIFIER_GROUP ?? "blackwell-notifier";
  return {
    ops: { admin: ctx.admin, groups: [{ groupId, topics: [ctx.names["drift-events"]] }], ready: () => true },
    stop: async () => {
      await runner.stop();
      await ctx.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runRole(() => startNotifier());
