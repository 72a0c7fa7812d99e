/**
 * `POST /webhooks/:provider`: identify the client from configuration (404 if
 * none), verify the provider's signature on the raw body (401), normalize
 * (400), produce with acks=all, and only then answer 202. A Kafka failure
 * answers 503 with Retry-After, so the provider retries: nothing accepted is
 * lost, nothing is acknowledged that was not written.
 */
import type { FastifyInstance } from "fastify";
import type { Kafka, Producer } from "kafkajs";
import { clientPartitioner } from "../adapters/kafka/partitioner.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import type { TopicNames } from "../adapters/kafka/topics.js";
import { errorMessage, isBlackwellError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { normalize, providerEventValue, sourceKey, type Json } from "./normalize.js";
import { verifyApiKey, verifyContentful, verifyGeneric, verifySanity, verifyShopify, type Verdict } from "./signatures.js";
import { WEBHOOK_PROVIDERS, type WebhookConfig, type WebhookProvider, type WebhookSource } from "./webhook-config.js";

/** The gateway's producer: acks=all, idempotent, and few retries, so a Kafka outage answers 503 quickly and the sender retries. */
export function webhookProducer(kafka: Kafka): Producer {
  return kafka.producer({ idempotent: true, createPartitioner: clientPartitioner, retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 } });
}

export interface WebhookDeps {
  config: WebhookConfig;
  producer: Producer;
  serde: AvroSerde;
  names: TopicNames;
  metrics: Metrics;
  log: Logger;
  now?: () => number;
}

function verify(provider: WebhookProvider, source: WebhookSource, headers: Record<string, string | string[] | undefined>, method: string, path: string, body: Buffer, now: number, windowMs: number): Verdict {
  switch (provider) {
    case "shopify": return verifyShopify(headers, body, source.secret);
    case "sanity": return verifySanity(headers, body, source.secret, now, windowMs);
    case "contentful": return verifyContentful(headers, method, path, body, source.secret, now, windowMs);
    case "codebuild": return verifyApiKey(headers, source.api_key_header, source.secret);
    case "generic": return verifyGeneric(headers, body, source.secret, now, windowMs);
  }
}

export async function webhookRoutes(app: FastifyInstance, deps: WebhookDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  // Signatures are over the exact bytes: keep the raw body, whatever the content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  app.post<{ Params: { provider: string } }>("/webhooks/:provider", async (req, reply) => {
    const provider = req.params.provider as WebhookProvider;
    const outcome = (status: number, code: string, message: string) => {
      deps.metrics.webhookRequests.inc({ provider: (WEBHOOK_PROVIDERS as readonly string[]).includes(provider) ? provider : "unknown", outcome: String(status) });
      return reply.code(status).send(status < 300 ? { status: "accepted", ...JSON.parse(message) } : { error: { code, message } });
    };
    if (!(WEBHOOK_PROVIDERS as readonly string[]).includes(provider)) return outcome(404, "BLACKWELL_ERR_NOT_FOUND", `no webhook provider ${provider} (known: ${WEBHOOK_PROVIDERS.join(", ")})`);
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let body: Json;
    try {
      const parsed: unknown = JSON.parse(raw.toString("utf8"));
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
      body = parsed as Json;
    } catch (err) {
      return outcome(400, "BLACKWELL_ERR_BAD_REQUEST", `body is not a JSON object: ${errorMessage(err)}`);
    }
    const key = sourceKey(provider, req.headers, body);
    const source = key === null ? undefined : deps.config.sources.find((s) => s.provider === provider && s.match === key);
    if (!source) return outcome(404, "BLACKWELL_ERR_NOT_FOUND", `no client is configured for this ${provider} source${key ? ` (${key})` : ""}`);
    const verdict = verify(provider, source, req.headers, req.method, req.url.split("?")[0]!, raw, now(), deps.config.replayWindowMs);
    if (!verdict.ok) {
      deps.log.warn({ provider, client: source.client_id, reason: verdict.reason }, "webhook refused");
      return outcome(401, "BLACKWELL_ERR_SIGNATURE", verdict.reason);
    }
    let value: Json;
    try {
      value = providerEventValue(source, normalize(provider, req.headers, body, new Date(now())));
    } catch (err) {
      if (isBlackwellError(err)) return outcome(400, err.code, err.message);
      throw err;
    }
    const topic = deps.names["provider-events"];
    try {
      await deps.producer.send({ topic, acks: -1, timeout: 10_000, messages: [{ key: source.client_id, value: deps.serde.encode(topic, "ProviderEvent", value) }] });
    } catch (err) {
      deps.log.error({ provider, client: source.client_id, err: errorMessage(err) }, "webhook could not be written to Kafka; answering 503 so the sender retries");
      void reply.header("retry-after", "30");
      return outcome(503, "BLACKWELL_ERR_KAFKA", "the event could not be stored; retry later");
    }
    return outcome(202, "", JSON.stringify({ client_id: source.client_id, event_id: value.event_id, event_type: value.event_type }));
  });
}
