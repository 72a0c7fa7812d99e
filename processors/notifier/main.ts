/** Composition root of the notifier role: drift-events -> the policy's Slack and webhook channels. */
import { configOrExit } from "../../src/config/config-or-exit.js";
import { notifierConfigFromEnv, type NotifierConfig } from "../../src/config/notifier-config.js";
import { NotifierRunner } from "../../src/notifier/notifier-runner.js";
import { createLogger } from "../../src/observability/logger.js";
import { processMetrics } from "../../src/observability/metrics.js";
import { createAppContext } from "../../src/runtime/app-context.js";
import { runRole } from "../../src/runtime/signals.js";

/** Starts the role with `cfg`, read once by the caller (`notifierConfigFromEnv`). */
export async function startNotifier(cfg: NotifierConfig) {
  const log = createLogger("notifier");
  const config = cfg.kafka;
  const ctx = await createAppContext(config, log);
  const runner = new NotifierRunner({
    kafka: ctx.kafka,
    admin: ctx.admin,
    serde: ctx.serde,
    names: ctx.names,
    metrics: processMetrics(),
    log,
    groupId: cfg.groupId,
  });
  await runner.start();
  const groupId = cfg.groupId;
  return {
    ops: {
      admin: ctx.admin,
      groups: [{ groupId, topics: [ctx.names["drift-events"]], startOffsets: (t: string) => runner.startOffsets(t) }],
      ready: () => true,
    },
    stop: async () => {
      await runner.stop();
      await ctx.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cfg = configOrExit("notifier", () => notifierConfigFromEnv());
  await runRole(() => startNotifier(cfg));
}
