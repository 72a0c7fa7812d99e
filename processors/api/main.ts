/**
 * Composition root of the API role: config -> Kafka context -> read replica
 * -> HTTP server. Settings: BLACKWELL_API_TOKENS (required), BLACKWELL_API_HOST
 * (default 127.0.0.1), BLACKWELL_API_PORT (default 8080), BLACKWELL_STATE_DIR,
 * BLACKWELL_API_INSTANCE (names this instance's replica group), BLACKWELL_WEBHOOKS_FILE
 * (enables the webhook gateway on the same server).
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parseWebhookConfig, type WebhookConfig } from "../../src/gateway/webhook-config.js";
import { webhookProducer } from "../../src/gateway/webhook-routes.js";
import { join } from "node:path";
import { clientPartitioner } from "../../src/adapters/kafka/partitioner.js";
import type { RecordProducer } from "../../src/adapters/kafka/port.js";
import { recordProducerOf } from "../../src/adapters/kafka/record-producer-shim.js";
import { projectRoot } from "../../src/adapters/kafka/project-root.js";
import { TokenAuth } from "../../src/api/auth.js";
import { Replica } from "../../src/api/replica.js";
import { buildApi } from "../../src/api/server.js";
import { BlackwellError } from "../../src/errors.js";
import { resolveKafkaConfig } from "../../src/infra/connect.js";
import { createLogger } from "../../src/observability/logger.js";
import { processMetrics } from "../../src/observability/metrics.js";
import { createAppContext } from "../../src/runtime/app-context.js";
import { runRole } from "../../src/runtime/signals.js";

export async function startApi(overrides: NodeJS.ProcessEnv = {}) {
  const env = { ...process.env, ...overrides };
  const log = createLogger("api");
  if (!env.BLACKWELL_API_TOKENS) throw new BlackwellError("BLACKWELL_ERR_CONFIG", "BLACKWELL_API_TOKENS is not set (comma-separated <name>@<client_id|*>:<token>)");
  const auth = new TokenAuth(env.BLACKWELL_API_TOKENS);
  const port = Number(env.BLACKWELL_API_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new BlackwellError("BLACKWELL_ERR_CONFIG", `BLACKWELL_API_PORT must be a port number, got ${JSON.stringify(env.BLACKWELL_API_PORT)}`);
  const config = await resolveKafkaConfig((m) => log.info(m));
  const ctx = await createAppContext(config, log);
  const instance = (env.BLACKWELL_API_INSTANCE ?? hostname()).replace(/[^A-Za-z0-9._-]/g, "_");
  const prefix = config.topicPrefix.replace(/\.$/, "");
  const replica = new Replica({
    kafka: ctx.kafka, admin: ctx.admin, serde: ctx.serde, names: ctx.names, log,
    path: join(env.BLACKWELL_STATE_DIR ?? join(projectRoot(), ".blackwell", "state"), "api", `${instance}.db`),
    groupId: `${prefix}-api-${instance}`,
  });
  await replica.start();
  const producer = ctx.kafka.producer({ idempotent: true, createPartitioner: clientPartitioner });
  await producer.connect();
  let webhooks: { config: WebhookConfig; producer: RecordProducer } | undefined;
  if (env.BLACKWELL_WEBHOOKS_FILE) {
    const config = parseWebhookConfig(readFileSync(env.BLACKWELL_WEBHOOKS_FILE, "utf8"), env.BLACKWELL_WEBHOOKS_FILE, env);
    // Fail fast when Kafka is away: the sender gets 503 and retries, instead of waiting on our retries.
    const producer = webhookProducer(ctx.kafka);
    await producer.connect();
    webhooks = { config, producer: recordProducerOf(producer, 10_000) };
    log.info({ sources: config.sources.length }, "webhook gateway enabled");
  }
  const app = await buildApi({ ctx, replica, auth, metrics: processMetrics(), producer: recordProducerOf(producer), log, ...(webhooks ? { webhooks } : {}) });
  const address = await app.listen({ host: env.BLACKWELL_API_HOST ?? "127.0.0.1", port });
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

if (import.meta.url === `file://${process.argv[1]}`) await runRole(() => startApi());
