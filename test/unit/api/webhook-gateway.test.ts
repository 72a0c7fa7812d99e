/**
 * The webhook gateway through inject(): a signed event is written before
 * 202; a bad signature is refused with nothing written; a Kafka outage answers
 * 503 with Retry-After (the provider retries), a refusal by Kafka a final 500.
 */
import { createHmac } from "node:crypto";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseWebhookConfig } from "../../../src/gateway/webhook-config.js";
import { decode, names, startUnitApi, type UnitApi } from "./api-fixture.js";

const SECRET = "generic-secret-0123456789";
const source = `{provider: generic, match: gamma, client_id: gamma, environment: prod, secret: "${SECRET}"}`;
const config = `sources:\n  - ${source}\n`;
const body = JSON.stringify({ event_id: "gen-1", event_type: "provider.heartbeat", provider_name: "sanity" });
const sign = (b: string, t = Math.floor(Date.now() / 1000)) =>
  `t=${t},v1=${createHmac("sha256", SECRET).update(`${t}.${b}`).digest("hex")}`;

let api: UnitApi;
const post = (signature: string) =>
  api.app.inject({
    method: "POST",
    url: "/webhooks/generic",
    payload: body,
    headers: { "content-type": "application/json", "x-blackwell-client": "gamma", "x-blackwell-signature": signature },
  });

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

  it("refuses a wrong signature with 401 and the catalog's code, writing nothing", async () => {
    const res = await post(sign("another body"));
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe("BLACKWELL_ERR_SIGNATURE");
    expect(api.producer.sent).toHaveLength(0);
  });

  it("answers 503 with Retry-After when Kafka is away, so the provider retries", async () => {
    api.producer.onSend = () => {
      throw new kafkajs.KafkaJSConnectionError("Connection error: ECONNREFUSED");
    };
    const res = await post(sign(body));
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("30");
    expect(res.json().error.code).toBe("BLACKWELL_ERR_KAFKA");
  });

  it("answers a final 500 without Retry-After when Kafka refuses the write", async () => {
    api.producer.onSend = () => {
      const denied = Object.assign(new Error("Not authorized"), { type: "TOPIC_AUTHORIZATION_FAILED" });
      throw new kafkajs.KafkaJSProtocolError(Object.assign(denied, { code: 29, retriable: false }));
    };
    const res = await post(sign(body));
    expect(res.statusCode).toBe(500);
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
});
