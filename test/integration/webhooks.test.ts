import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseWebhookConfig } from "../../src/gateway/webhook-config.js";
import { startTestApi, type TestApi } from "../support/api-harness.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";

interface ProviderEvent {
  event_id: string;
  client_id: string;
  environment: string | null;
  stack_id: string | null;
  provider_name: string;
  event_type: string;
  content_type: string | null;
  content_id: string | null;
  payload_json: string;
}

const SHOPIFY_SECRET = "shpss_0123456789abcdef0123456789abcdef";
const SANITY_SECRET = "sanity-secret-0123456789";
const CONTENTFUL_SECRET = "c".repeat(64);
const CODEBUILD_KEY = "eventbridge-api-key-0123456789";
const GENERIC_SECRET = "generic-secret-0123456789";

const CONFIG = `
replay_window: 5m
sources:
  - {provider: shopify, match: acme.myshopify.com, client_id: acme-corp, environment: prod, secret: env:TEST_SHOPIFY_SECRET}
  - {provider: sanity, match: abc123, client_id: acme-corp, environment: prod, secret: "${SANITY_SECRET}"}
  - {provider: contentful, match: space42, client_id: beta-co, stack_id: web, secret: "${CONTENTFUL_SECRET}"}
  - {provider: codebuild, match: blackwell-acme-site-prod, client_id: acme-corp, stack_id: cms-ecom-prod, secret: "${CODEBUILD_KEY}", api_key_header: x-api-key}
  - {provider: generic, match: gamma, client_id: gamma, secret: "${GENERIC_SECRET}"}
`;

describe("the webhook gateway over real HTTP, on the real broker", () => {
  let h: Harness;
  let api: TestApi;
  let events: Collector<ProviderEvent>;

  beforeAll(async () => {
    h = await createHarness(3);
    const webhooks = parseWebhookConfig(CONFIG, "webhooks.yaml", { TEST_SHOPIFY_SECRET: SHOPIFY_SECRET });
    api = await startTestApi(h, "root@*:admin-token-0123456789abcdef", { webhooks, bodyLimit: 64 * 1024 });
    events = await collectTopic(h.ctx.kafka, h.ctx.names["provider-events"], "ProviderEvent", h.ctx.serde);
  });
  afterAll(async () => {
    await events?.stop();
    await api?.stop();
    await h?.close();
  });

  const post = (provider: string, body: string, headers: Record<string, string>) =>
    api.call("POST", `/webhooks/${provider}`, null, body, { "content-type": "application/json", ...headers });
  const arrived = (eventId: string) =>
    events
      .waitFor((i) => i.some((e) => e.value?.event_id === eventId), 15_000, `event ${eventId}`)
      .then((i) => i.find((e) => e.value?.event_id === eventId)!);

  it("accepts Shopify with X-Shopify-Hmac-Sha256 over the raw body, and refuses a wrong one", async () => {
    const body = JSON.stringify({ id: 632910392, title: "IPod Nano - 8GB" }, null, 2);
    const hmac = createHmac("sha256", SHOPIFY_SECRET).update(body).digest("base64");
    const headers = {
      "x-shopify-topic": "products/update",
      "x-shopify-shop-domain": "acme.myshopify.com",
      "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
      "x-shopify-hmac-sha256": hmac,
    };
    const res = await post("shopify", body, headers);
    expect(res.status).toBe(202);
    const record = await arrived("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
    expect(record.key).toBe("acme-corp");
    expect(record.value).toMatchObject({
      client_id: "acme-corp",
      environment: "prod",
      provider_name: "shopify",
      event_type: "content.updated",
      content_type: "product",
      content_id: "632910392",
    });
    // One changed byte (the parsed JSON would be equal) fails the signature.
    const wrong = await post("shopify", body.replace("\n", "\r\n"), headers);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toContain("X-Shopify-Hmac-Sha256 does not match");
    expect(
      (await post("shopify", body, { ...headers, "x-shopify-shop-domain": "stranger.myshopify.com" })).status,
    ).toBe(404);
    expect(
      (
        await post("shopify", body, {
          ...headers,
          "x-shopify-topic": "products/explode",
          "x-shopify-hmac-sha256": hmac,
        })
      ).status,
    ).toBe(400);
  });

  it("accepts Sanity's sanity-webhook-signature within the replay window and refuses a replay", async () => {
    const body = JSON.stringify({ _id: "product-1", _type: "product", title: "Chair" });
    const sign = (t: number) =>
      `t=${t},v1=${createHmac("sha256", SANITY_SECRET).update(`${t}.${body}`).digest("base64url")}`;
    const headers = { "sanity-project-id": "abc123", "sanity-operation": "update", "idempotency-key": "idem-sanity-1" };
    expect((await post("sanity", body, { ...headers, "sanity-webhook-signature": sign(Date.now()) })).status).toBe(202);
    expect((await arrived("idem-sanity-1")).value).toMatchObject({
      provider_name: "sanity",
      event_type: "content.published",
      content_type: "product",
      content_id: "product-1",
    });
    const replay = await post("sanity", body, {
      ...headers,
      "sanity-webhook-signature": sign(Date.now() - 10 * 60_000),
    });
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toContain("replay window");
    expect((await post("sanity", body, { ...headers, "sanity-webhook-signature": "t=1,v1=nope" })).status).toBe(401);
  });

  it("accepts Contentful's signed canonical request and refuses a tampered one", async () => {
    const body = JSON.stringify({
      sys: {
        id: "entry9",
        type: "Entry",
        version: 7,
        space: { sys: { id: "space42" } },
        contentType: { sys: { id: "page" } },
      },
      fields: {},
    });
    const timestamp = String(Date.now());
    const signedHeaders = "x-contentful-signed-headers,x-contentful-timestamp";
    const canonical = `POST\n/webhooks/contentful\nx-contentful-signed-headers:${signedHeaders};x-contentful-timestamp:${timestamp}\n${body}`;
    const headers = {
      "x-contentful-topic": "ContentManagement.Entry.publish",
      "x-contentful-timestamp": timestamp,
      "x-contentful-signed-headers": signedHeaders,
      "x-contentful-signature": createHmac("sha256", CONTENTFUL_SECRET).update(canonical).digest("hex"),
    };
    const res = await post("contentful", body, headers);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await arrived("entry9:7:publish")).value).toMatchObject({
      client_id: "beta-co",
      stack_id: "web",
      event_type: "content.published",
      content_type: "page",
    });
    expect(
      (await post("contentful", body, { ...headers, "x-contentful-timestamp": String(Date.now() + 1) })).status,
    ).toBe(401);
  });

  it("accepts CodeBuild build state changes from an EventBridge API destination with its API key", async () => {
    const event = {
      version: "0",
      id: "3b8f2c1e-eb-1",
      "detail-type": "CodeBuild Build State Change",
      source: "aws.codebuild",
      account: "123456789012",
      time: new Date().toISOString(),
      region: "eu-west-1",
      resources: [],
      detail: {
        "build-status": "SUCCEEDED",
        "project-name": "blackwell-acme-site-prod",
        "build-id": "arn:aws:codebuild:eu-west-1:123456789012:build/blackwell-acme-site-prod:abc",
        "additional-information": { "build-start-time": "Nov 26, 2026 10:00:00 AM" },
      },
    };
    expect((await post("codebuild", JSON.stringify(event), { "x-api-key": CODEBUILD_KEY })).status).toBe(202);
    const record = await arrived("3b8f2c1e-eb-1");
    expect(record.value).toMatchObject({
      stack_id: "cms-ecom-prod",
      provider_name: "codebuild",
      event_type: "build.succeeded",
    });
    expect(JSON.parse(record.value!.payload_json)).toMatchObject({ build_id: event.detail["build-id"] });
    expect((await post("codebuild", JSON.stringify(event), { "x-api-key": "wrong" })).status).toBe(401);
    expect(
      (await post("codebuild", JSON.stringify({ ...event, source: "aws.s3" }), { "x-api-key": CODEBUILD_KEY })).status,
    ).toBe(400);
  });

  it("accepts the generic signed format and answers bad input with clear 4xx", async () => {
    const body = JSON.stringify({ event_id: "gen-1", event_type: "provider.heartbeat", provider_name: "sanity" });
    const sign = (t: number, b = body) =>
      `t=${t},v1=${createHmac("sha256", GENERIC_SECRET).update(`${t}.${b}`).digest("hex")}`;
    const now = Math.floor(Date.now() / 1000);
    expect(
      (await post("generic", body, { "x-blackwell-client": "gamma", "x-blackwell-signature": sign(now) })).status,
    ).toBe(202);
    expect((await arrived("gen-1")).value).toMatchObject({ client_id: "gamma", event_type: "provider.heartbeat" });
    expect(
      (await post("generic", body, { "x-blackwell-client": "gamma", "x-blackwell-signature": sign(now - 3600) }))
        .status,
    ).toBe(401);
    expect(
      (await post("generic", body, { "x-blackwell-client": "nobody", "x-blackwell-signature": sign(now) })).status,
    ).toBe(404);
    const notJson = await post("generic", "{oops", {
      "x-blackwell-client": "gamma",
      "x-blackwell-signature": sign(now, "{oops"),
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toContain("not a JSON object");
    const badType = JSON.stringify({ event_type: "content.exploded", provider_name: "x" });
    expect(
      (await post("generic", badType, { "x-blackwell-client": "gamma", "x-blackwell-signature": sign(now, badType) }))
        .status,
    ).toBe(400);
    expect((await post("nosuch", body, {})).status).toBe(404);
    expect(
      (await post("generic", JSON.stringify({ pad: "x".repeat(70 * 1024) }), { "x-blackwell-client": "gamma" })).status,
    ).toBe(413);
  });

  it("counts webhook outcomes on /metrics without client labels", async () => {
    const text = (await api.call("GET", "/metrics", null)).body as string;
    expect(text).toMatch(/^webhook_requests_total\{provider="shopify",outcome="202"\} [1-9]/m);
    expect(text).toMatch(/^webhook_requests_total\{provider="shopify",outcome="401"\} [1-9]/m);
    expect(text).not.toContain("acme-corp");
  });
});
