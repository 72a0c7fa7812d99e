/**
 * The webhook gateway through inject(): a signed event is written before
 * 202; a bad signature is refused with nothing written; a Kafka outage answers
 * 503 with Retry-After (the provider retries), a refusal by Kafka a final 500.
 * A delivery is accepted once: a replay answers 200 and writes nothing, a
 * replay with another meaning 409 (issue 14 item 2).
 */
import { createHmac } from "node:crypto";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DeliveryLog } from "../../../src/gateway/delivery-log.js";
import { parseWebhookConfig } from "../../../src/gateway/webhook-config.js";
import { decode, names, startUnitApi, type UnitApi } from "./api-fixture.js";

const SECRET = "generic-secret-0123456789";
const SHOP_SECRET = "shopify-secret-0123456789";
const source = `{provider: generic, match: gamma, client_id: gamma, environment: prod, secret: "${SECRET}"}`;
const shop = `{provider: shopify, match: gamma.myshopify.com, client_id: gamma, environment: prod, secret: "${SHOP_SECRET}"}`;
const config = `sources:\n  - ${source}\n  - ${shop}\n`;
let ids = 0;
/** A generic event with its own delivery id (event_id). */
const event = (id = `evt-${++ids}`) =>
  JSON.stringify({ event_id: id, event_type: "provider.heartbeat", provider_name: "sanity" });
const body = event("gen-1");
const sign = (b: string, t = Math.floor(Date.now() / 1000)) =>
  `t=${t},v1=${createHmac("sha256", SECRET).update(`${t}.${b}`).digest("hex")}`;

let api: UnitApi;
const post = (signature: string, payload = body) =>
  api.app.inject({
    method: "POST",
    url: "/webhooks/generic",
    payload,
    headers: { "content-type": "application/json", "x-blackwell-client": "gamma", "x-blackwell-signature": signature },
  });
const shopify = (payload: string, topic: string, webhookId: string | null, extra: Record<string, string> = {}) =>
  api.app.inject({
    method: "POST",
    url: "/webhooks/shopify",
    payload,
    headers: {
      "content-type": "application/json",
      "x-shopify-shop-domain": "gamma.myshopify.com",
      "x-shopify-topic": topic,
      "x-shopify-hmac-sha256": createHmac("sha256", SHOP_SECRET).update(payload).digest("base64"),
      ...(webhookId ? { "x-shopify-webhook-id": webhookId } : {}),
      ...extra,
    },
  });
const counted = async (outcome: string) => {
  const metric = await api.metrics.registry.getSingleMetric("webhook_requests_total")!.get();
  return metric.values.find((v) => v.labels.provider === "generic" && v.labels.outcome === outcome)?.value ?? 0;
};

beforeAll(async () => {
  api = await startUnitApi({ webhooks: parseWebhookConfig(config, "webhooks.yaml") });
});
beforeEach(() => {
  api.producer.sent.length = 0;
  api.producer.onSend = () => {};
});
afterAll(async () => api.close());

describe("webhook gateway", () => {
  it("writes a signed event to provider-events, keyed by client, before answering 202 (no token)", async () => {
    const res = await post(sign(body));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: "accepted", client_id: "gamma", event_id: "gen-1" });
    expect(api.producer.sent).toHaveLength(1);
    expect(api.producer.sent[0]).toMatchObject({ topic: names["provider-events"], key: "gamma" });
    const event = decode("ProviderEvent", api.producer.sent[0]!.value);
    expect(event).toMatchObject({ client_id: "gamma", event_id: "gen-1" });
  });

  it("takes an event's time from its own receipt clock, not from Shopify's unsigned X-Shopify-Triggered-At", async () => {
    // A tenant who sets the header to 2099 must not move the stream time of its partition (other clients' deadlines).
    const before = Date.now();
    const res = await shopify(JSON.stringify({ id: 7 }), "products/update", "wh-time-1", {
      "x-shopify-triggered-at": "2099-01-01T00:00:00Z",
    });
    expect(res.statusCode).toBe(202);
    const event = decode("ProviderEvent", api.producer.sent[0]!.value);
    const at = Date.parse(String(event.timestamp));
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  it("refuses a wrong signature with 401 and the catalog's code, writing nothing", async () => {
    const res = await post(sign("another body"));
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe("BLACKWELL_ERR_SIGNATURE");
    expect(api.producer.sent).toHaveLength(0);
  });

  it("answers 503 with Retry-After when Kafka is away, and accepts the provider's retry", async () => {
    api.producer.onSend = () => {
      throw new kafkajs.KafkaJSConnectionError("Connection error: ECONNREFUSED");
    };
    const payload = event();
    const res = await post(sign(payload), payload);
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("30");
    expect(res.json().error.code).toBe("BLACKWELL_ERR_KAFKA");
    api.producer.onSend = () => {};
    const retry = await post(sign(payload), payload);
    expect(retry.statusCode).toBe(202);
    expect(api.producer.sent).toHaveLength(1);
  });

  it("answers a final 500 without Retry-After when Kafka refuses the write", async () => {
    api.producer.onSend = () => {
      const denied = Object.assign(new Error("Not authorized"), { type: "TOPIC_AUTHORIZATION_FAILED" });
      throw new kafkajs.KafkaJSProtocolError(Object.assign(denied, { code: 29, retriable: false }));
    };
    const before = await counted("500");
    const payload = event();
    const res = await post(sign(payload), payload);
    expect(res.statusCode).toBe(500);
    expect(await counted("500")).toBe(before + 1);
    expect(res.headers["retry-after"]).toBeUndefined();
    expect(res.json().error.code).toBe("BLACKWELL_ERR_KAFKA_REFUSED");
  });

  // Issue 14 item 8: a webhook body 20,000 levels deep answered 500.
  it("answers 400 with the depth limit for a signed body nested 20,000 levels deep, writing nothing", async () => {
    const nested = `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`;
    const deep = `{"event_id":"gen-deep","event_type":"provider.heartbeat","provider_name":"sanity","payload":${nested}}`;
    const res = await api.app.inject({
      method: "POST",
      url: "/webhooks/generic",
      payload: deep,
      headers: {
        "content-type": "application/json",
        "x-blackwell-client": "gamma",
        "x-blackwell-signature": sign(deep),
      },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain("nests deeper than 100 levels");
    expect(api.producer.sent).toHaveLength(0);
  });

  // Issue 14 item 12: answers the route did not write itself were not counted.
  it("counts a 413 answer in webhook_requests_total", async () => {
    const before = await counted("413");
    const res = await post(sign("x"), JSON.stringify({ pad: "x".repeat(300 * 1024) }));
    expect(res.statusCode).toBe(413);
    expect(await counted("413")).toBe(before + 1);
  });
});

describe("webhook replay (issue 14 item 2)", () => {
  it("answers a replayed delivery with 200 and writes nothing the second time", async () => {
    const payload = event();
    const first = await post(sign(payload), payload);
    expect(first.statusCode).toBe(202);
    const replay = await post(sign(payload), payload);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ status: "duplicate", client_id: "gamma" });
    expect(api.producer.sent).toHaveLength(1);
  });

  it("refuses a generic event without event_id (its delivery id, covered by the signature)", async () => {
    const payload = JSON.stringify({ event_type: "provider.heartbeat", provider_name: "sanity" });
    const res = await post(sign(payload), payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain("event_id is required in the signed body");
    expect(api.producer.sent).toHaveLength(0);
  });

  it("refuses a Shopify replay whose unsigned topic was changed to a delete, by delivery id or by body", async () => {
    const product = JSON.stringify({ id: 632910392, title: "IPod Nano" });
    const accepted = await shopify(product, "products/update", "wh-1");
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json().event_type).toBe("content.updated");
    const sameId = await shopify(product, "products/delete", "wh-1");
    expect(sameId.statusCode).toBe(409);
    expect(sameId.json().error.code).toBe("BLACKWELL_ERR_WEBHOOK_CONFLICT");
    const newId = await shopify(product, "products/delete", "wh-forged");
    expect(newId.statusCode).toBe(409);
    expect(api.producer.sent).toHaveLength(1);
    const retry = await shopify(product, "products/update", "wh-1");
    expect(retry.statusCode).toBe(200);
    expect(api.producer.sent).toHaveLength(1);
  });

  it("accepts a real Shopify delete (its own body and delivery id) after an update", async () => {
    const updated = await shopify(JSON.stringify({ id: 77, title: "Gone soon" }), "products/update", "wh-77-u");
    expect(updated.statusCode).toBe(202);
    const deleted = await shopify(JSON.stringify({ id: 77 }), "products/delete", "wh-77-d");
    expect(deleted.statusCode).toBe(202);
    expect(deleted.json().event_type).toBe("content.deleted");
  });

  it("refuses a Shopify request without X-Shopify-Webhook-Id", async () => {
    const res = await shopify(JSON.stringify({ id: 1 }), "products/update", null);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain("X-Shopify-Webhook-Id is required");
  });

  it("forgets a delivery once the dedupe window has passed", () => {
    const log = new DeliveryLog({ windowMs: 60_000 });
    const d = { source: "generic:gamma", deliveryId: "e1", body: Buffer.from("{}"), meaning: "m", eventType: "t" };
    expect(log.check(d, 0).kind).toBe("new");
    expect(log.check(d, 60_000).kind).toBe("duplicate");
    expect(log.check(d, 60_001).kind).toBe("new");
  });
});
