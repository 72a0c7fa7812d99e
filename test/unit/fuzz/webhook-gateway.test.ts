/**
 * Fuzzing the webhook gateway through inject() (issue 14 item 18): arbitrary bodies, content types and
 * headers, and validly signed arbitrary JSON bodies for each provider (so the normalizer sees them, not only
 * the signature check). Every answer is 2xx or 4xx (the producer never fails here, so no 503), and every record
 * written decodes with the ProviderEvent schema and as a provider-events input.
 */
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toInput } from "../../../src/adapters/kafka/records.js";
import { parseWebhookConfig, WEBHOOK_PROVIDERS } from "../../../src/gateway/webhook-config.js";
import { decode, names, startUnitApi, type UnitApi } from "../api/api-fixture.js";
import { interestingString, jsonValue, runs } from "./fuzz-support.js";

const SECRET = "fuzz-secret-0123456789";
const CODEBUILD_KEY = "fuzz-api-key-0123456789";
const config = [
  "sources:",
  `  - {provider: shopify, match: fuzz.myshopify.com, client_id: fuzz, environment: prod, secret: "${SECRET}"}`,
  `  - {provider: sanity, match: fuzzproj, client_id: fuzz, stack_id: site-prod, secret: "${SECRET}"}`,
  `  - {provider: contentful, match: fuzzspace, client_id: fuzz, environment: prod, secret: "${SECRET}"}`,
  `  - {provider: codebuild, match: fuzz-site, client_id: fuzz, environment: prod, secret: "${CODEBUILD_KEY}"}`,
  `  - {provider: generic, match: fuzz, client_id: fuzz, secret: "${SECRET}"}`,
].join("\n");

const hmac = (data: string) => createHmac("sha256", SECRET).update(data);

type Headers = Record<string, string>;
/** The headers that authenticate `body` for `provider` (and name its source), as the provider would send them. */
function signed(provider: string, body: string, extra: Headers): Headers {
  const ms = Date.now();
  switch (provider) {
    case "shopify":
      return {
        "x-shopify-shop-domain": "fuzz.myshopify.com",
        "x-shopify-hmac-sha256": hmac(body).digest("base64"),
        ...extra,
      };
    case "sanity":
      return {
        "sanity-project-id": "fuzzproj",
        "sanity-webhook-signature": `t=${ms},v1=${hmac(`${ms}.${body}`).digest("base64url")}`,
        ...extra,
      };
    case "contentful": {
      const canonical = `POST\n/webhooks/contentful\nx-contentful-timestamp:${ms}\n${body}`;
      return {
        "x-contentful-timestamp": String(ms),
        "x-contentful-signed-headers": "x-contentful-timestamp",
        "x-contentful-signature": hmac(canonical).digest("hex"),
        ...extra,
      };
    }
    case "codebuild":
      return { "x-blackwell-key": CODEBUILD_KEY, ...extra };
    default: {
      const t = Math.floor(ms / 1000);
      return {
        "x-blackwell-client": "fuzz",
        "x-blackwell-signature": `t=${t},v1=${hmac(`${t}.${body}`).digest("hex")}`,
        ...extra,
      };
    }
  }
}

/** Header values a real HTTP client can send (visible ASCII and spaces). */
const headerValue = () =>
  fc.oneof(interestingString(), fc.string({ maxLength: 20 })).map((v) => v.replace(/[^\x20-\x7e]/g, "x").trim());

/** The unsigned headers each provider's normalizer reads, each present or not. */
const providerHeaders: Record<string, fc.Arbitrary<Headers>> = {
  shopify: fc.record(
    {
      "x-shopify-topic": fc.oneof(
        fc.constantFrom("products/create", "orders/update", "products/delete"),
        headerValue(),
      ),
      "x-shopify-webhook-id": fc.oneof(fc.uuid(), headerValue()),
      "x-shopify-triggered-at": fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        headerValue(),
      ),
    },
    { requiredKeys: [] },
  ),
  sanity: fc.record(
    {
      "sanity-operation": fc.oneof(fc.constantFrom("create", "update", "delete"), headerValue()),
      "sanity-document-id": headerValue(),
      "sanity-transaction-id": headerValue(),
      "idempotency-key": fc.oneof(fc.uuid(), headerValue()),
      "sanity-dataset": headerValue(),
    },
    { requiredKeys: [] },
  ),
  contentful: fc.record(
    {
      "x-contentful-topic": fc.oneof(
        fc.constantFrom("ContentManagement.Entry.publish", "ContentManagement.Asset.delete", "ContentManagement.x"),
        headerValue(),
      ),
      "x-contentful-idempotency-key": fc.oneof(fc.uuid(), headerValue()),
    },
    { requiredKeys: [] },
  ),
  codebuild: fc.constant({}),
  generic: fc.constant({}),
};

const field = () => fc.oneof({ weight: 3, arbitrary: interestingString() }, { weight: 1, arbitrary: jsonValue() });
const GENERIC_TYPES = ["content.published", "provider.heartbeat", "build.failed", "provider.connected"];

/** JSON bodies shaped like each provider's, any field possibly missing or of another type. */
const providerBody: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  shopify: fc.record({ id: fc.oneof(fc.integer(), field()), title: field() }, { requiredKeys: [] }),
  sanity: fc.record({ _id: field(), _type: field() }, { requiredKeys: [] }),
  // The space id names the source: always present, or the request is a 404 before the normalizer.
  contentful: fc
    .record(
      {
        id: field(),
        version: fc.oneof(fc.integer(), field()),
        revision: field(),
        updatedAt: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          field(),
        ),
        contentType: fc.oneof(fc.record({ sys: fc.record({ id: field() }) }), field()),
      },
      { requiredKeys: [] },
    )
    .map((sys) => ({ sys: { ...sys, space: { sys: { id: "fuzzspace" } } } })),
  codebuild: fc
    .record(
      {
        id: fc.oneof(fc.uuid(), field()),
        time: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          field(),
        ),
        "detail-type": fc.oneof(fc.constant("CodeBuild Build State Change"), field()),
        source: fc.oneof(fc.constant("aws.codebuild"), field()),
        status: fc.constantFrom("IN_PROGRESS", "SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT", "BOGUS", ""),
        buildId: field(),
        info: fc.oneof(fc.record({ "build-start-time": field() }), field()),
      },
      { requiredKeys: ["status"] },
    )
    .map(({ status, buildId, info, ...top }) => ({
      ...top,
      detail: {
        "project-name": "fuzz-site",
        "build-status": status,
        "build-id": buildId,
        "additional-information": info,
      },
    })),
  generic: fc.record(
    {
      event_id: fc.oneof(fc.uuid(), field()),
      event_type: fc.oneof(fc.constantFrom(...GENERIC_TYPES), field()),
      provider_name: fc.oneof(fc.constant("sanity"), field()),
      provider_role: fc.oneof(fc.constantFrom("cms", "ecommerce", "ssg"), field()),
      content_id: field(),
      content_type: field(),
      timestamp: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        field(),
      ),
      payload: jsonValue(),
    },
    { requiredKeys: [] },
  ),
};

let api: UnitApi;
beforeAll(async () => {
  api = await startUnitApi({ webhooks: parseWebhookConfig(config, "webhooks.yaml") });
});
afterAll(async () => api.close());

/** Posts, then checks the answer class and every record written. Returns the status. */
async function postAndCheck(provider: string, payload: string | Buffer, headers: Headers): Promise<number> {
  const before = api.producer.sent.length;
  const res = await api.app.inject({ method: "POST", url: `/webhooks/${provider}`, payload, headers });
  expect([2, 4], `${res.statusCode} ${res.body}`).toContain(Math.floor(res.statusCode / 100));
  for (const r of api.producer.sent.slice(before)) {
    expect(r.topic).toBe(names["provider-events"]);
    const value = decode("ProviderEvent", r.value);
    // What the gateway accepted, the reconciler must not dead-letter.
    toInput("provider-events", String(r.key), value as never, Date.now());
  }
  return res.statusCode;
}

describe("fuzz: webhook gateway", () => {
  it("arbitrary bodies, content types and headers answer 2xx or 4xx", async () => {
    const request = fc.record({
      provider: fc.oneof(fc.constantFrom(...WEBHOOK_PROVIDERS), fc.constantFrom("x", "%2e%2e", "shopify%00")),
      body: fc.oneof(
        fc.string({ maxLength: 100 }),
        fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
        fc.json({ maxDepth: 3 }),
      ),
      type: fc.oneof(
        fc.constantFrom(
          "application/json",
          "text/plain",
          "application/x-www-form-urlencoded",
          "application/json; charset=latin1",
        ),
        headerValue(),
      ),
      headers: fc.dictionary(
        fc.oneof(
          fc.constantFrom(
            "x-shopify-shop-domain",
            "sanity-project-id",
            "x-blackwell-client",
            "x-blackwell-key",
            "x-shopify-topic",
          ),
          fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
        ),
        headerValue(),
        { maxKeys: 4 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ provider, body, type, headers }) => {
        const h: Headers = { ...headers };
        if (type) h["content-type"] = type;
        await postAndCheck(provider, body, h);
      }),
      runs(200),
    );
  });

  for (const provider of WEBHOOK_PROVIDERS) {
    it(`${provider}: a validly signed arbitrary JSON body answers 2xx or 4xx and writes only decodable events`, async () => {
      const statuses = new Set<number>();
      await fc.assert(
        fc.asyncProperty(providerBody[provider]!, providerHeaders[provider]!, async (body, extra) => {
          const text = JSON.stringify(body);
          statuses.add(
            await postAndCheck(provider, text, {
              "content-type": "application/json",
              ...signed(provider, text, extra),
            }),
          );
        }),
        runs(100),
      );
      // The bodies reach the normalizer and past it: some are written, some refused by it.
      expect([...statuses]).toContain(202);
    });
  }
});

// Counterexamples the properties above found: each was answered 202 and then dead-lettered by the reconciler's
// decoder, so the sender believed it delivered an event that no stack ever saw.
describe("webhook regressions found by fuzzing", () => {
  const generic = (body: Record<string, unknown>) => {
    const text = JSON.stringify(body);
    return api.app.inject({
      method: "POST",
      url: "/webhooks/generic",
      payload: text,
      headers: { "content-type": "application/json", ...signed("generic", text, {}) },
    });
  };

  it("Sanity: an empty idempotency-key is no key, not an empty event_id", async () => {
    const text = JSON.stringify({ _id: "low", _type: "J8R!jI" });
    const extra = { "sanity-transaction-id": "!", "idempotency-key": "" };
    const status = await postAndCheck("sanity", text, {
      "content-type": "application/json",
      ...signed("sanity", text, extra),
    });
    expect(status).toBe(202);
  });

  it("generic: a provider_role that is not cms, ecommerce or ssg is a 400", async () => {
    const res = await generic({
      event_id: "fz-role",
      event_type: "content.published",
      provider_name: "sanity",
      provider_role: "1970-01-01T00:00:00.010Z",
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain("provider_role");
  });

  it("generic: a blank event_id or provider_name is a 400", async () => {
    const blankId = await generic({ event_id: " ", event_type: "provider.heartbeat", provider_name: "sanity" });
    expect(blankId.statusCode).toBe(400);
    expect(blankId.json().error.message).toContain("event_id is required");
    const blankName = await generic({ event_id: "fz-name", event_type: "provider.heartbeat", provider_name: " " });
    expect(blankName.statusCode).toBe(400);
    expect(blankName.json().error.message).toContain("provider_name is required");
  });
});
