/**
 * `POST /webhooks/:provider`: identify the client from configuration (404 if
 * none), verify the provider's signature on the raw body (401), normalize
 * (400), produce with acks=all, and only then answer 202. A Kafka failure
 * answers 503 with Retry-After, so the provider retries: nothing accepted is
 * lost, nothing is acknowledged that was not written.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { kafkaError } from "../adapters/kafka/kafka-errors.js";
import type { RecordProducer } from "../adapters/kafka/port.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import type { TopicNames } from "../adapters/kafka/topics.js";
import { parseJsonBody } from "../api/json-depth.js";
import { PUBLIC_ROUTE } from "../api/route-auth.js";
import { ERRORS, errorBody, errorMessage, isBlackwellError, type ErrorCode } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { deliveryId } from "./delivery-id.js";
import { DeliveryLog } from "./delivery-log.js";
import { normalize, providerEventValue, sourceKey, type Json } from "./normalize.js";
import {
  verifyApiKey,
  verifyContentful,
  verifyGeneric,
  verifySanity,
  verifyShopify,
  type Verdict,
} from "./signatures.js";
import { WEBHOOK_PROVIDERS, type WebhookConfig, type WebhookProvider, type WebhookSource } from "./webhook-config.js";

export interface WebhookDeps {
  config: WebhookConfig;
  /** Writes provider events (acks=all); should fail fast (the port's `producer({ fastFail: true })`). */
  producer: RecordProducer;
  serde: AvroSerde;
  names: TopicNames;
  metrics: Metrics;
  log: Logger;
  now?: () => number;
}

function verify(
  provider: WebhookProvider,
  source: WebhookSource,
  headers: Record<string, string | string[] | undefined>,
  method: string,
  path: string,
  body: Buffer,
  now: number,
  windowMs: number,
): Verdict {
  switch (provider) {
    case "shopify":
      return verifyShopify(headers, body, source.secret);
    case "sanity":
      return verifySanity(headers, body, source.secret, now, windowMs);
    case "contentful":
      return verifyContentful(headers, method, path, body, source.secret, now, windowMs);
    case "codebuild":
      return verifyApiKey(headers, source.api_key_header, source.secret);
    case "generic":
      return verifyGeneric(headers, body, source.secret, now, windowMs);
  }
}

export async function webhookRoutes(app: FastifyInstance, deps: WebhookDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const deliveries = new DeliveryLog({ windowMs: deps.config.dedupeWindowMs });
  // Signatures are over the exact bytes: keep the raw body, whatever the content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  const isProvider = (name: string): name is WebhookProvider => (WEBHOOK_PROVIDERS as readonly string[]).includes(name);
  // Every answer is counted, including those the route never writes itself: 413 from the body limit, 500 from
  // the error handler.
  app.addHook("onResponse", async (req: FastifyRequest<{ Params: { provider?: string } }>, reply) => {
    const provider = req.params.provider ?? "";
    deps.metrics.webhookRequests.inc({
      provider: isProvider(provider) ? provider : "unknown",
      outcome: String(reply.statusCode),
    });
  });

  // Public: the caller is a provider, authenticated by its signature below, not by a bearer token.
  app.post<{ Params: { provider: string } }>("/webhooks/:provider", { config: PUBLIC_ROUTE }, async (req, reply) => {
    const provider = req.params.provider as WebhookProvider;
    const known = isProvider(provider);
    const refuse = (code: ErrorCode, message: string) => reply.code(ERRORS[code].http).send(errorBody(code, message));
    if (!known) {
      return refuse(
        "BLACKWELL_ERR_NOT_FOUND",
        `no webhook provider ${provider} (known: ${WEBHOOK_PROVIDERS.join(", ")})`,
      );
    }
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let body: Json;
    try {
      const parsed: unknown = parseJsonBody(raw.toString("utf8"));
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
      body = parsed as Json;
    } catch (err) {
      return refuse("BLACKWELL_ERR_BAD_REQUEST", `body is not a JSON object: ${errorMessage(err)}`);
    }
    const key = sourceKey(provider, req.headers, body);
    const source =
      key === null ? undefined : deps.config.sources.find((s) => s.provider === provider && s.match === key);
    if (!source) {
      return refuse(
        "BLACKWELL_ERR_NOT_FOUND",
        `no client is configured for this ${provider} source${key ? ` (${key})` : ""}`,
      );
    }
    const verdict = verify(
      provider,
      source,
      req.headers,
      req.method,
      req.url.split("?")[0]!,
      raw,
      now(),
      deps.config.replayWindowMs,
    );
    if (!verdict.ok) {
      deps.log.warn({ provider, client: source.client_id, reason: verdict.reason }, "webhook refused");
      return refuse("BLACKWELL_ERR_SIGNATURE", verdict.reason);
    }
    let value: Json;
    let delivery: string;
    try {
      delivery = deliveryId(provider, req.headers, body);
      value = providerEventValue(source, normalize(provider, req.headers, body, new Date(now())));
    } catch (err) {
      if (isBlackwellError(err)) return refuse(err.code, err.message);
      throw err;
    }
    const { event_id, event_type, content_id, content_type } = value;
    const seen = deliveries.check(
      {
        source: `${provider}:${source.match}`,
        deliveryId: delivery,
        body: raw,
        meaning: JSON.stringify([event_type, content_id, content_type]),
        eventType: String(event_type),
      },
      now(),
    );
    if (seen.kind === "duplicate") {
      const client_id = source.client_id;
      return reply.code(200).send({ status: "duplicate", client_id, delivery_id: delivery });
    }
    if (seen.kind === "conflict") {
      deps.log.warn({ provider, client: source.client_id, reason: seen.reason }, "webhook replay refused");
      return refuse("BLACKWELL_ERR_WEBHOOK_CONFLICT", seen.reason);
    }
    const topic = deps.names["provider-events"];
    let encoded: Buffer;
    try {
      encoded = deps.serde.encode(topic, "ProviderEvent", value);
    } catch (err) {
      seen.forget();
      throw err;
    }
    try {
      await deps.producer.send([{ topic, key: source.client_id, value: encoded }]);
    } catch (err) {
      seen.forget();
      const failure = kafkaError(err, `writing a ${provider} webhook of ${source.client_id}`);
      const client = source.client_id;
      deps.log.error({ provider, client, code: failure.code, err: failure.message }, "webhook not stored");
      // A refusal is final (500): retrying cannot help. Anything else answers 503 with Retry-After, so the
      // provider retries: nothing accepted is lost.
      if (failure.code === "BLACKWELL_ERR_KAFKA_REFUSED") return refuse(failure.code, "the event could not be stored");
      void reply.header("retry-after", "30");
      return refuse("BLACKWELL_ERR_KAFKA", "the event could not be stored; retry later");
    }
    return reply.code(202).send({ status: "accepted", client_id: source.client_id, event_id, event_type });
  });
}
