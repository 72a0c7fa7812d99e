/**
 * Fuzzing the API bodies through inject() (issue 14 item 18): PUT and PATCH policy with generated JSON
 * (mutations of a complete policy, random merge patches, random documents) and POST desired-state with
 * arbitrary text and mutations of the example composition. Every answer is 2xx or 4xx, never 5xx.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACME_TOKEN, bearer, stackRow, startUnitApi, type UnitApi } from "../api/api-fixture.js";
import { EXAMPLE, jsonValue, mutated, mutatedExample, runs } from "./fuzz-support.js";

const URL = "/v1/clients/acme-corp/stacks/cms-ecom-prod/policy";
const POLICY = {
  schedule: { interval: "5m", timezone: "UTC" },
  auto_heal: {
    enabled: true,
    max_attempts: 3,
    backoff_strategy: "exponential",
    backoff_base: "30s",
    backoff_cap: "15m",
    allowed_drift_types: ["provider_missing"],
    require_approval: ["cms_provider_change"],
    circuit_breaker: { max_heals: 10, window: "1h" },
    flap_detection: { max_flips: 3, window: "30m" },
    windows: [{ action: "deny", days: ["sat", "sun"], start: "00:00", end: "24:00", timezone: "Europe/Paris" }],
    content_quiet_period: "2m",
  },
  notifications: { channels: [{ type: "email", addresses: ["ops@acme.com"], severity_threshold: "high" }] },
  observability: { metrics_retention: "30d", detailed_logging: false, performance_tracking: false },
};

let api: UnitApi;
/** Every method and status seen: the generated bodies must also get past validation, not only be refused. */
const statuses = new Set<string>();
beforeAll(async () => {
  api = await startUnitApi();
  api.stack("acme-corp", stackRow("cms-ecom-prod"));
  const applied = await api.app.inject({
    method: "POST",
    url: "/v1/clients/acme-corp/desired-state",
    payload: EXAMPLE,
    headers: { ...bearer(ACME_TOKEN), "content-type": "application/yaml" },
  });
  expect(applied.statusCode).toBe(200);
});
afterAll(async () => api.close());

const send = async (method: "PUT" | "PATCH" | "POST", url: string, payload: string, type: string) => {
  const res = await api.app.inject({ method, url, payload, headers: { ...bearer(ACME_TOKEN), "content-type": type } });
  expect([2, 4], `${method} ${res.statusCode} ${res.body}`).toContain(Math.floor(res.statusCode / 100));
  statuses.add(`${method} ${res.statusCode}`);
  return res;
};

/** A JSON text: a mutated complete policy, any JSON value, or not JSON at all. */
const policyText = fc.oneof(
  { weight: 4, arbitrary: mutated(POLICY).map((p) => JSON.stringify(p) ?? "null") },
  { weight: 2, arbitrary: jsonValue().map((v) => JSON.stringify(v) ?? "null") },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

describe("fuzz: API bodies", () => {
  it("PUT policy with a generated body answers 2xx or 4xx", async () => {
    const type = fc.constantFrom("application/json", "application/merge-patch+json", "text/plain");
    await fc.assert(
      fc.asyncProperty(policyText, type, async (body, t) => void (await send("PUT", URL, body, t))),
      runs(100),
    );
  });

  it("PATCH policy with a generated merge patch answers 2xx or 4xx", async () => {
    const type = fc.constantFrom("application/merge-patch+json", "application/merge-patch+json", "application/json");
    await fc.assert(
      fc.asyncProperty(policyText, type, async (body, t) => void (await send("PATCH", URL, body, t))),
      runs(100),
    );
  });

  it("POST desired-state with arbitrary text or a mutated composition answers 2xx or 4xx", async () => {
    const text = fc.oneof({ weight: 3, arbitrary: mutatedExample() }, { weight: 1, arbitrary: fc.string() });
    const type = fc.constantFrom("application/yaml", "application/yaml", "application/json", "text/plain");
    const url = fc.constantFrom(
      "/v1/clients/acme-corp/desired-state?dry_run=true",
      "/v1/clients/acme-corp/desired-state",
      "/v1/clients/acme-corp/desired-state?prune=true&dry_run=true",
    );
    await fc.assert(
      fc.asyncProperty(text, type, url, async (body, t, u) => void (await send("POST", u, body, t))),
      runs(100),
    );
  });

  it("the generated bodies were accepted as well as refused", () => {
    for (const m of ["PUT", "PATCH", "POST"]) expect([...statuses]).toEqual(expect.arrayContaining([`${m} 200`]));
  });
});
