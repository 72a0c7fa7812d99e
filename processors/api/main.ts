/**
 * Composition root of the API role: config -> Kafka context -> read replica
 * -> HTTP server. Settings: see `ApiConfig` (src/config/api-config.ts).
 */
import type { WebhookConfig } from "../../src/gateway/webhook-config.js";
import { join } from "node:path";
import type { RecordProducer } from "../../src/adapters/kafka/port.js";
import { Replica } from "../../src/api/replica.js";
import { buildApi } from "../../src/api/server.js";
import { apiConfigFromEnv, type ApiConfig } from "../../src/config/api-config.js";
import { configOrExit } from "../../src/config/config-or-exit.js";
import { createLogger } from "../../src/observability/logger.js";
import { processMetrics } from "../../src/observability/metrics.js";
import { createAppContext } from "../../src/runtime/app-context.js";
import { runRole } from "../../src/runtime/signals.js";

/** Starts the role with `cfg`, read once by the caller (`apiConfigFromEnv`). */
export async function startApi(cfg: ApiConfig) {
  const log = createLogger("api");
  const { auth, port, instance } = cfg;
  const config = cfg.kafka;
  const ctx = await createAppContext(config, log);
  const prefix = config.topicPrefix.replace(/\.$/, "");
  const replica = new Replica({
    kafka: ctx.kafka,
    admin: ctx.admin,
    serde: ctx.serde,
    names: ctx.names,
    log,
    path: join(cfg.stateDir, "api", `${instance}.db`),
    groupId: `${prefix}-api-${instance}`,
    ...(ctx.config.retention ? { retention: ctx.config.retention } : {}),
  });
  await replica.start();
  const producer = await ctx.kafka.producer();
  let webhooks: { config: WebhookConfig; producer: RecordProducer } | undefined;
  if (cfg.webhooks) {
    const config = cfg.webhooks;
    // Fail fast when Kafka is away: the sender gets 503 and retries, instead of waiting on our retries.
    webhooks = { config, producer: await ctx.kafka.producer({ fastFail: true }) };
    log.info({ sources: config.sources.length }, "webhook gateway enabled");
  }
  const app = await buildApi({
    ctx,
    replica,
    auth,
    metrics: processMetrics(),
    producer,
    log,
    reconcilerGroup: cfg.reconcilerGroup,
    ...(webhooks ? { webhooks } : {}),
  });
  const address = await app.listen({ host: cfg.host, port });
  log.info({ address, tokens: auth.size }, "API listening");
  return {
    url: address,
    replica,
    stop: async () => {
      await app.close();
      await producer.disconnect().catch(() => {});
      await webhooks?.producer.disconnect().catch(() => {});
      await replica.stop();
      await ctx.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cfg = configOrExit("api", () => apiConfigFromEnv());
  await runRole(() => startApi(cfg));
}
