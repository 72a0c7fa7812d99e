/** The read routes answer from the replica, scoped to the caller's client, with the replica's freshness. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ACME_TOKEN,
  ADMIN_TOKEN,
  DRIFT_ID,
  OTHER_TOKEN,
  bearer,
  stackRow,
  startUnitApi,
  type UnitApi,
} from "./api-fixture.js";

let api: UnitApi;
const get = (url: string, token = ACME_TOKEN) => api.app.inject({ url, headers: bearer(token) });

beforeAll(async () => {
  api = await startUnitApi();
  api.stack("acme-corp", stackRow("web-prod"));
  api.stack("acme-corp", stackRow("web-staging", { status: "healthy", drift_details: [] }));
  api.desired("acme-corp", {
    stack_id: "web-prod",
    state_version: "v1.2.0",
    policy: {
      schedule: "*/5 * * * *",
      observability: null,
      notifications: { channels: [{ type: "slack", target: "#ops", events: [] }] },
      auto_heal: {
        enabled: true,
        max_attempts: 3,
        backoff_strategy: "exponential",
        backoff_base_seconds: 30,
        backoff_cap_seconds: 600,
        allowed_drift_types: ["resource"],
        require_approval: [],
        circuit_breaker: null,
        flap_detection: null,
        windows: null,
      },
    },
  });
  api.driftEvent({
    event_id: "e1",
    client_id: "acme-corp",
    stack_id: "web-prod",
    drift_id: DRIFT_ID,
    transition: "opened",
    detected_at: "2026-01-01T00:00:00.000Z",
    drift_type: "resource",
    component: "site_bucket",
    severity: "high",
  });
  api.audit({
    audit_id: "a1",
    client_id: "acme-corp",
    stack_id: "web-prod",
    action: "heal_issued",
    timestamp: "2026-01-01T00:01:00.000Z",
    triggered_by: "policy",
    success: true,
    changes_made_json: "{}",
  });
});
afterAll(async () => api.close());

describe("read routes", () => {
  it("lists a client's stacks with drift details parsed, and the replica's lag as a header and a field", async () => {
    const res = await get("/v1/clients/acme-corp/stacks");
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-blackwell-replica-lag"]).toBe("0");
    const body = res.json();
    expect(body.stacks.map((s: { stack_id: string }) => s.stack_id)).toEqual(["web-prod", "web-staging"]);
    const drift = body.stacks[0].drift_details[0];
    expect(drift).toMatchObject({ drift_id: DRIFT_ID, expected: "healthy", observed: "deleted" });
    expect(body.replica).toMatchObject({ lag_records: 0, caught_up: true });
  });

  it("answers one stack, and 404 with the catalog's code for one the reconciler has not evaluated", async () => {
    expect((await get("/v1/clients/acme-corp/stacks/web-prod")).json().status).toBe("drifted");
    const missing = await get("/v1/clients/acme-corp/stacks/nope");
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("BLACKWELL_ERR_NOT_FOUND");
  });

  it("hides a client from another client's token behind 404, and shows it to an admin", async () => {
    expect((await get("/v1/clients/acme-corp/drift", OTHER_TOKEN)).statusCode).toBe(404);
    expect((await get("/v1/clients/acme-corp/drift", ADMIN_TOKEN)).statusCode).toBe(200);
    expect((await get("/v1/clients/nobody/stacks", ADMIN_TOKEN)).statusCode).toBe(404);
  });

  it("answers a report of a client it does not know with 404, as the client's other routes do, and a known client's quiet window with zero counts", async () => {
    const unknown = await get("/v1/clients/nobody/report", ADMIN_TOKEN);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toEqual({ code: "BLACKWELL_ERR_NOT_FOUND", message: "no client nobody" });
    const quiet = await get("/v1/clients/acme-corp/report?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z");
    expect(quiet.statusCode).toBe(200);
    expect(quiet.json().clients).toEqual([
      expect.objectContaining({ client_id: "acme-corp", kpis: expect.objectContaining({ drifts_opened: 0 }) }),
    ]);
  });

  it("summarises drift across the client's stacks", async () => {
    const body = (await get("/v1/clients/acme-corp/drift")).json();
    expect(body).toMatchObject({ has_drift: true, drift_count: 1, auto_heal_eligible: true });
    expect(body.stacks).toEqual({ "web-prod": "drifted", "web-staging": "healthy" });
  });

  it("returns history newest first, limited, and refuses a limit out of range with 400", async () => {
    const all = (await get("/v1/clients/acme-corp/history")).json();
    expect(all.events.map((e: { kind: string }) => e.kind)).toEqual(["audit", "drift"]);
    expect((await get("/v1/clients/acme-corp/history?limit=1")).json().events).toHaveLength(1);
    const bad = await get("/v1/clients/acme-corp/history?limit=0");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("BLACKWELL_ERR_BAD_REQUEST");
  });

  it("serves a stack's policy in blackwell.yaml's format", async () => {
    const body = (await get("/v1/clients/acme-corp/stacks/web-prod/policy")).json();
    expect(body.state_version).toBe("v1.2.0");
    expect(body.policy.auto_heal).toMatchObject({ backoff_base: "30s", backoff_cap: "600s" });
    expect(body.policy.notifications.channels).toEqual([{ type: "slack", target: "#ops" }]);
    expect((await get("/v1/clients/acme-corp/stacks/web-staging/policy")).statusCode).toBe(404);
  });

  it("refuses malformed path parameters with 400 before reading anything", async () => {
    const res = await get("/v1/clients/ACME!/stacks");
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("BLACKWELL_ERR_BAD_REQUEST");
  });
});
