/**
 * Setting a stack's policy through the API (issue 14 items 6, 8 and 11): PUT replaces the whole policy and
 * names every field it lacks; PATCH merges an RFC 7386 patch into the current policy; a heal window without
 * a timezone is in UTC instead of a 500; a body nested 40,000 levels deep is a 400, not a 500.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DesiredStack } from "../../../src/core/model/desired.js";
import { ACME_TOKEN, bearer, decode, names, stackRow, startUnitApi, type UnitApi } from "./api-fixture.js";

const EXAMPLE = readFileSync("examples/acme-corp/blackwell.yaml", "utf8");
const URL = "/v1/clients/acme-corp/stacks/cms-ecom-prod/policy";

let api: UnitApi;
const json = (method: "PUT" | "PATCH", payload: string, type = "application/json") =>
  api.app.inject({ method, url: URL, payload, headers: { ...bearer(ACME_TOKEN), "content-type": type } });
/** The policy of the last desired-state version a route wrote for cms-ecom-prod. */
const lastPublished = () => {
  const mine = api.producer.sent.filter(
    (r) => r.topic === names["desired-state"] && r.key === "acme-corp/cms-ecom-prod",
  );
  return decode("DesiredState", mine.at(-1)!.value) as unknown as Pick<DesiredStack, "policy" | "policy_declared_json">;
};
/** The policy as GET answers it, from the version last written (the replica is not running in a unit test). */
let current: Record<string, unknown>;

beforeAll(async () => {
  api = await startUnitApi();
  api.stack("acme-corp", stackRow("cms-ecom-prod"));
});
beforeEach(async () => {
  api.producer.sent.length = 0;
  const applied = await api.app.inject({
    method: "POST",
    url: "/v1/clients/acme-corp/desired-state",
    payload: EXAMPLE,
    headers: { ...bearer(ACME_TOKEN), "content-type": "application/yaml" },
  });
  expect(applied.statusCode).toBe(200);
  current = {
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
      windows: [],
      content_quiet_period: "2m",
    },
    notifications: { channels: [] },
    observability: { metrics_retention: "30d", detailed_logging: false, performance_tracking: false },
  };
});
afterAll(async () => api.close());

describe("PUT policy: a full replacement", () => {
  it("refuses a partial policy, naming every missing field, and publishes nothing", async () => {
    const before = api.producer.sent.length;
    const res = await json("PUT", JSON.stringify({ auto_heal: { enabled: false } }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("BLACKWELL_ERR_INVALID_DESIRED_STATE");
    const message: string = res.json().error.message;
    for (const field of [
      "schedule.interval",
      "auto_heal.max_attempts",
      "auto_heal.require_approval",
      "auto_heal.circuit_breaker.max_heals",
      "notifications.channels",
      "observability.performance_tracking",
    ])
      expect(message).toContain(`policy.${field}: is required: the policy is replaced as a whole`);
    expect(api.producer.sent.length).toBe(before);
  });

  it("publishes a complete policy as the next version", async () => {
    const res = await json(
      "PUT",
      JSON.stringify({ ...current, auto_heal: { ...(current.auto_heal as object), enabled: false } }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ change: "updated", from: "v1.0.0", state_version: "v1.1.0" });
    expect(lastPublished().policy).toMatchObject({
      auto_heal: { enabled: false, require_approval: ["cms_provider_change"], max_attempts: 3 },
    });
  });

  // Issue 14 item 6: PUT /policy answered 500 ("Cannot access 'policyTimezone' before initialization").
  it("puts a heal window without a timezone in UTC", async () => {
    const windows = [{ action: "deny", days: ["sat", "sun"], start: "00:00", end: "24:00" }];
    const res = await json(
      "PUT",
      JSON.stringify({ ...current, auto_heal: { ...(current.auto_heal as object), windows } }),
    );
    expect(res.statusCode).toBe(200);
    expect(lastPublished().policy.auto_heal.windows).toEqual([{ ...windows[0], timezone: "UTC", drift_types: [] }]);
  });

  // Issue 14 item 8: 40,000 nested objects answered 500.
  it("answers 400 with the depth limit for a JSON body nested 40,000 levels deep", async () => {
    const deep = `${'{"a":'.repeat(40_000)}1${"}".repeat(40_000)}`;
    const res = await json("PUT", deep);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({
      code: "BLACKWELL_ERR_BAD_REQUEST",
      message: "the JSON body nests deeper than 100 levels",
    });
  });

  it("answers 400 for a YAML policy nested 40,000 levels deep", async () => {
    const res = await json("PUT", `schedule: ${"[".repeat(40_000)}${"]".repeat(40_000)}`, "application/yaml");
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain("nests more than 64 levels deep");
  });
});

describe("PATCH policy: a JSON merge patch (RFC 7386)", () => {
  it("changes only the fields the patch names", async () => {
    const res = await json("PATCH", JSON.stringify({ auto_heal: { enabled: false } }), "application/merge-patch+json");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ change: "updated", state_version: "v1.1.0" });
    const published = lastPublished().policy;
    expect(published.auto_heal).toMatchObject({
      enabled: false,
      max_attempts: 3,
      backoff_cap_seconds: 900,
      require_approval: ["cms_provider_change", "data_deletion", "resource_replacement"],
    });
    expect(published.notifications.channels).toHaveLength(2);
  });

  it("removes a field the stack set with null: it inherits it again (from the fleet policy, else the default)", async () => {
    const res = await json(
      "PATCH",
      JSON.stringify({ schedule: { interval: null }, auto_heal: { max_attempts: 2 } }),
      "application/merge-patch+json",
    );
    expect(res.statusCode).toBe(200);
    const published = lastPublished();
    // No fleet policy here: the built-in default interval.
    expect(published.policy.schedule.interval).toBe("5m");
    expect(published.policy.auto_heal.max_attempts).toBe(2);
    const declared = JSON.parse(published.policy_declared_json!) as { schedule: object; auto_heal: object };
    expect(declared.schedule).toEqual({ timezone: "UTC" });
    expect(declared.auto_heal).toMatchObject({ max_attempts: 2, enabled: true });
  });

  it("validates the patched policy like any other and names the field", async () => {
    const res = await json("PATCH", JSON.stringify({ auto_heal: { max_attempts: 0 } }), "application/merge-patch+json");
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain("policy.auto_heal.max_attempts: must be an integer from 1 to 100");
  });

  it("answers 415 for a body that is not application/merge-patch+json", async () => {
    const res = await json("PATCH", JSON.stringify({ auto_heal: { enabled: false } }));
    expect(res.statusCode).toBe(415);
  });
});

describe("POST desired-state", () => {
  // Issue 14 item 6: POST desired-state answered 500 for the same window.
  it("applies a blackwell.yaml whose heal window has no timezone", async () => {
    const text = EXAMPLE.replace(
      "        content_quiet_period: 2m\n",
      "        content_quiet_period: 2m\n        windows: [{action: allow, start: '08:00', end: '18:00'}]\n",
    );
    expect(text).not.toBe(EXAMPLE);
    const res = await api.app.inject({
      method: "POST",
      url: "/v1/clients/acme-corp/desired-state",
      payload: text,
      headers: { ...bearer(ACME_TOKEN), "content-type": "application/yaml" },
    });
    expect(res.statusCode).toBe(200);
    expect(lastPublished().policy.auto_heal.windows![0]).toMatchObject({ start: "08:00", timezone: "UTC" });
  });
});
