import { readFileSync } from "node:fs";
import parsePrometheus from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resourceEventValue, providerEventValue } from "../support/events.js";
import { startTestApi, type TestApi } from "../support/api-harness.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { createMetrics, recordPass } from "../../src/observability/metrics.js";
import { eventually } from "../support/eventually.js";

const ACME = "acme-token-0123456789abcdef";
const OTHER = "other-token-0123456789abcdef";
const ADMIN = "admin-token-0123456789abcdef";
const TOKENS = `acme-ops@acme-corp:${ACME},other-ops@other-co:${OTHER},root@*:${ADMIN}`;
const EXAMPLE = readFileSync("examples/acme-corp/blackwell.yaml", "utf8");

describe("the HTTP API over real HTTP, on the real broker", () => {
  let h: Harness;
  let api: TestApi;
  let driftId: string;
  const metrics = createMetrics();

  beforeAll(async () => {
    h = await createHarness(3);
    await h.startReconciler({ onCommitted: (pass) => recordPass(metrics, pass) });
    api = await startTestApi(h, TOKENS, { bodyLimit: 64 * 1024, metrics });
    const applied = await api.call("POST", "/v1/clients/acme-corp/desired-state", ACME, EXAMPLE, {
      "content-type": "application/yaml",
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    expect(applied.body.changes.map((c: { change: string }) => c.change)).toEqual(["created", "created"]);
    const other = EXAMPLE.replace("client_id: acme-corp", "client_id: other-co");
    expect(
      (
        await api.call("POST", "/v1/clients/other-co/desired-state", OTHER, other, {
          "content-type": "application/yaml",
        })
      ).status,
    ).toBe(200);
    const now = Date.now();
    await h.produce(
      "provider-events",
      "ProviderEvent",
      "acme-corp",
      ["sanity", "shopify", "codebuild"].map((p) =>
        providerEventValue({
          client_id: "acme-corp",
          environment: "prod",
          provider_name: p,
          event_type: "provider.connected",
          at: new Date(now),
        }),
      ),
    );
    await h.produce("resource-events", "ResourceEvent", "acme-corp", [
      resourceEventValue({
        client_id: "acme-corp",
        environment: "prod",
        resource_name: "site_bucket",
        status: "deleted",
        at: new Date(now + 1000),
      }),
    ]);
    const drift = await eventually(
      "the bucket drift in the API",
      () => api.call("GET", "/v1/clients/acme-corp/drift", ACME),
      (r) => r.status === 200 && r.body.drift_details.some((d: { component: string }) => d.component === "site_bucket"),
    );
    driftId = drift.body.drift_details.find((d: { component: string }) => d.component === "site_bucket").drift_id;
  });
  afterAll(async () => {
    await api?.stop();
    await h?.close();
  });

  it("refuses requests without a valid token and hides other clients' data behind 404", async () => {
    expect((await api.call("GET", "/v1/clients/acme-corp/stacks", null)).status).toBe(401);
    const wrong = await api.call("GET", "/v1/clients/acme-corp/stacks", "not-a-token-at-all-xxxxxxxx");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain("Bearer");
    expect((await api.call("GET", "/v1/clients/acme-corp/stacks", OTHER)).status).toBe(404);
    expect((await api.call("GET", "/v1/clients/acme-corp/drift", OTHER)).status).toBe(404);
    expect((await api.call("POST", `/v1/clients/acme-corp/drifts/${driftId}/acknowledge`, OTHER, {})).status).toBe(404);
    expect(
      (
        await api.call("POST", "/v1/clients/acme-corp/desired-state", OTHER, EXAMPLE, {
          "content-type": "application/yaml",
        })
      ).status,
    ).toBe(404);
    expect((await api.call("GET", "/v1/clients/other-co/stacks", ADMIN)).status).toBe(200);
    expect((await api.call("GET", "/v1/clients/nobody/stacks", ADMIN)).status).toBe(404);
  });

  it("serves a stack's StateRecord and the client's DriftStatus, with the replica's freshness", async () => {
    const state = await api.call("GET", "/v1/clients/acme-corp/stacks/cms-ecom-prod", ACME);
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({
      client_id: "acme-corp",
      stack_id: "cms-ecom-prod",
      status: "reconciling",
      state_version: "v1.0.0",
    }); // auto-heal issued a rebuild
    expect(state.body.drift_details[0]).toMatchObject({
      type: "resource",
      component: "site_bucket",
      expected: "healthy",
      observed: "deleted",
      severity: "high",
      // One report that the bucket is deleted: observed evidence, seen once.
      confidence: 0.75,
    });
    expect(state.body.replica).toMatchObject({ caught_up: expect.any(Boolean), lag_records: expect.any(Number) });
    expect(state.headers.get("x-blackwell-replica-lag")).toMatch(/^\d+$/);
    const drift = await api.call("GET", "/v1/clients/acme-corp/drift", ACME);
    expect(drift.body).toMatchObject({
      client_id: "acme-corp",
      has_drift: true,
      drift_count: 1,
      auto_heal_eligible: true,
    });
    expect((await api.call("GET", "/v1/clients/acme-corp/stacks/nope", ACME)).status).toBe(404);
  });

  it("acknowledges a drift through the reconciler and shows it acknowledged", async () => {
    const ack = await api.call("POST", `/v1/clients/acme-corp/drifts/${driftId}/acknowledge`, ACME, {
      reason: "known, rebuilding",
    });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({
      status: "done",
      audit: { action: "drift_acknowledged", triggered_by: "acme-ops", success: true },
    });
    await eventually(
      "acknowledged in the state",
      () => api.call("GET", "/v1/clients/acme-corp/drift", ACME),
      (r) => r.body.drift_details[0].acknowledged === true,
    );
    expect(
      (await api.call("POST", "/v1/clients/acme-corp/drifts/drift-000000000000000000000000/acknowledge", ACME, {}))
        .status,
    ).toBe(404);
    const bad = await api.call("POST", "/v1/clients/acme-corp/drifts/not-a-drift/acknowledge", ACME, {});
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("BLACKWELL_ERR_BAD_REQUEST");
    expect(
      (await api.call("POST", `/v1/clients/acme-corp/drifts/${driftId}/acknowledge`, ACME, { surprise: 1 })).status,
    ).toBe(400);
  });

  it("records approvals and rejections with the approver", async () => {
    const approve = await api.call("POST", `/v1/clients/acme-corp/drifts/${driftId}/approve`, ACME, { reason: "go" });
    expect(approve.body).toMatchObject({ status: "done", audit: { action: "heal_approved", approver: "acme-ops" } });
    const reject = await api.call("POST", `/v1/clients/acme-corp/drifts/${driftId}/reject`, ADMIN, {});
    expect(reject.body).toMatchObject({ status: "done", audit: { action: "heal_rejected", triggered_by: "root" } });
  });

  it("records a rejection as a false positive and reports the client's KPIs, heals and approvers over a window", async () => {
    const reject = await api.call("POST", `/v1/clients/acme-corp/drifts/${driftId}/reject`, ACME, {
      reason: "the bucket was never gone",
      false_positive: true,
    });
    expect(reject.body).toMatchObject({ status: "done", audit: { action: "heal_rejected", success: true } });
    expect(JSON.parse(reject.body.audit.changes_made_json)).toMatchObject({ false_positive: true });
    const bad = await api.call("POST", `/v1/clients/acme-corp/drifts/${driftId}/reject`, ACME, {
      false_positive: "yes",
    });
    expect(bad.status).toBe(400);
    expect(
      (await api.call("POST", `/v1/clients/acme-corp/drifts/${driftId}/approve`, ACME, { false_positive: true }))
        .status,
    ).toBe(400);

    const window = `from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 3_600_000).toISOString()}`;
    const report = await eventually(
      "the rejection in the report",
      () => api.call("GET", `/v1/clients/acme-corp/report?${window}`, ACME),
      (r) => r.status === 200 && r.body.fleet.false_positives.rejected_as_false === 1,
    );
    const acme = report.body.clients.find((c: { client_id: string }) => c.client_id === "acme-corp");
    expect(report.body.clients).toHaveLength(1);
    expect(acme.kpis).toMatchObject({
      drifts_opened: 1,
      drifts_resolved: 0,
      // The bucket's report opened the drift in the same pass: no time passed between evidence and detection.
      time_to_detection: { count: 1, mean_seconds: 0, p95_seconds: 0 },
      false_positives: { rejected_as_false: 1, transient: 0, rate: 1 },
      // Rejected twice (the second time as a false positive): one decision on the drift, counted once.
      manual_interventions: { by_action: { drift_acknowledged: 1, heal_approved: 1, heal_rejected: 1 } },
    });
    // The policy auto-heals the bucket: one rebuild, issued by the policy, no executor here to report its outcome.
    expect(acme.heals).toEqual([
      expect.objectContaining({
        stack_id: "cms-ecom-prod",
        drift_id: driftId,
        action: "resource.rebuild",
        approver: null,
        outcome: "no outcome yet",
      }),
    ]);
    expect(acme.stacks.map((s: { stack_id: string }) => s.stack_id).sort()).toEqual([
      "cms-ecom-prod",
      "cms-ecom-staging",
    ]);
    expect(acme.stacks.find((s: { stack_id: string }) => s.stack_id === "cms-ecom-staging").healthy_share).toBe(1);

    const md = await api.call("GET", `/v1/clients/acme-corp/report?${window}&format=md`, ACME);
    expect(md.headers.get("content-type")).toContain("text/markdown");
    expect(md.body).toContain("| False-positive rate | 100.0% (1 rejected as false, 0 transient) |");
    const csv = await api.call("GET", `/v1/clients/acme-corp/report?${window}&format=csv`, ACME);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(csv.body.split("\r\n")[0]).toMatch(/^client_id,from,to,drifts_opened,/);
    expect(csv.body.split("\r\n")[1]).toMatch(/^acme-corp,/);

    const wrong = await api.call("GET", "/v1/clients/acme-corp/report?from=yesterday", ACME);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toContain("from must be an ISO 8601 time");
    expect((await api.call("GET", "/v1/clients/acme-corp/report?format=pdf", ACME)).status).toBe(400);
    expect((await api.call("GET", "/v1/clients/acme-corp/report", OTHER)).status).toBe(404);
    expect((await api.call("GET", "/v1/report", ACME)).status).toBe(403);
    const fleet = await api.call("GET", `/v1/report?${window}`, ADMIN);
    expect(fleet.status).toBe(200);
    expect(fleet.body.clients.map((c: { client_id: string }) => c.client_id)).toEqual(["acme-corp", "other-co"]);
  });

  it("triggers a reconciliation and answers its ReconciliationResult", async () => {
    const res = await api.call("POST", "/v1/clients/acme-corp/reconcile", ACME, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      client_id: "acme-corp",
      status: "success",
      drift_detected: true,
      drift_count: 1,
      stacks: { "cms-ecom-prod": expect.any(String), "cms-ecom-staging": expect.any(String) },
    });
    expect(res.body.reconciliation_id).toMatch(/^recon-commands-/);
    expect(Date.parse(res.body.completed_at)).not.toBeNaN();
  });

  it("returns history newest first, limited", async () => {
    const all = await api.call("GET", "/v1/clients/acme-corp/history?limit=100", ACME);
    expect(all.status).toBe(200);
    expect(
      all.body.events.some(
        (e: { kind: string; transition?: string }) => e.kind === "drift" && e.transition === "opened",
      ),
    ).toBe(true);
    expect(
      all.body.events.some(
        (e: { kind: string; action?: string }) => e.kind === "audit" && e.action === "drift_acknowledged",
      ),
    ).toBe(true);
    const two = await api.call("GET", "/v1/clients/acme-corp/history?limit=2", ACME);
    expect(two.body.events).toHaveLength(2);
    expect(two.body.events[0].at >= two.body.events[1].at).toBe(true);
    expect((await api.call("GET", "/v1/clients/acme-corp/history?limit=0", ACME)).status).toBe(400);
  });

  it("gets and sets the reconciliation policy as a new desired-state version, refusing bad policies with every problem", async () => {
    const got = await api.call("GET", "/v1/clients/acme-corp/stacks/cms-ecom-staging/policy", ACME);
    expect(got.body.policy.auto_heal).toMatchObject({ enabled: true, max_attempts: 3, backoff_base: "30s" });
    const bad = await api.call("PUT", "/v1/clients/acme-corp/stacks/cms-ecom-staging/policy", ACME, {
      auto_heal: { enabled: "yes", max_attempts: 0 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("policy.auto_heal.enabled: must be true or false");
    expect(bad.body.error.message).toContain("policy.auto_heal.max_attempts");
    const put = await api.call("PUT", "/v1/clients/acme-corp/stacks/cms-ecom-staging/policy", ACME, {
      ...got.body.policy,
      auto_heal: { ...got.body.policy.auto_heal, enabled: false },
    });
    expect(put.body).toMatchObject({ change: "updated", from: "v1.0.0", state_version: "v1.1.0" });
    const after = await eventually(
      "the new policy",
      () => api.call("GET", "/v1/clients/acme-corp/stacks/cms-ecom-staging/policy", ACME),
      (r) => r.body.policy.auto_heal.enabled === false && r.body.state_version === "v1.1.0",
    );
    // What GET returned, PUT back, changes nothing else: the staging deny window and the guards survive.
    expect(after.body.policy.auto_heal).toMatchObject({
      windows: [{ action: "deny", timezone: "Europe/Berlin", drift_types: ["site_stale"] }],
      circuit_breaker: { max_heals: 10, window: "3600s" },
      content_quiet_period: "120s",
    });
    const state = await eventually(
      "the stack evaluated against v1.1.0",
      () => api.call("GET", "/v1/clients/acme-corp/stacks/cms-ecom-staging", ACME),
      (r) => r.body.observed_state_version === "v1.1.0",
    );
    expect(state.body.reconciliation_policy.auto_heal).toBe(false);
  });

  it("rolls a stack back to an earlier version", async () => {
    const back = await api.call("POST", "/v1/clients/acme-corp/stacks/cms-ecom-staging/rollback", ACME, {
      to: "v1.0.0",
    });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body).toMatchObject({ from: "v1.1.0", to: "v1.2.0", content_of: "v1.0.0" });
    await eventually(
      "auto-heal back on",
      () => api.call("GET", "/v1/clients/acme-corp/stacks/cms-ecom-staging/policy", ACME),
      (r) => r.body.state_version === "v1.2.0" && r.body.policy.auto_heal.enabled === true,
    );
    expect(
      (await api.call("POST", "/v1/clients/acme-corp/stacks/cms-ecom-staging/rollback", ACME, { to: "latest" })).status,
    ).toBe(400);
    const missing = await api.call("POST", "/v1/clients/acme-corp/stacks/cms-ecom-staging/rollback", ACME, {
      to: "v7.0.0",
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain("not in the desired history");
    expect(
      (await api.call("POST", "/v1/clients/acme-corp/stacks/cms-ecom-staging/rollback", OTHER, { to: "v1.0.0" }))
        .status,
    ).toBe(404);
  });

  it("refuses bad desired state, the wrong client, the wrong content type and oversized bodies", async () => {
    const wrong = await api.call(
      "POST",
      "/v1/clients/acme-corp/desired-state",
      ADMIN,
      EXAMPLE.replace("client_id: acme-corp", "client_id: someone-else"),
      { "content-type": "application/yaml" },
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toContain("for client someone-else, not acme-corp");
    const invalid = await api.call(
      "POST",
      "/v1/clients/acme-corp/desired-state",
      ACME,
      EXAMPLE.replace("content_grace: 5m", "content_grace: later"),
      { "content-type": "application/yaml" },
    );
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({
      code: "BLACKWELL_ERR_INVALID_DESIRED_STATE",
      message: expect.stringContaining("content_grace: must be a duration"),
    });
    expect((await api.call("POST", "/v1/clients/acme-corp/desired-state", ACME, { yaml: "no" })).status).toBe(415);
    const huge = await api.call(
      "POST",
      "/v1/clients/acme-corp/desired-state",
      ACME,
      `${EXAMPLE}\n# ${"x".repeat(70 * 1024)}`,
      { "content-type": "application/yaml" },
    );
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("BLACKWELL_ERR_BODY_TOO_LARGE");
    const notJson = await api.call("POST", `/v1/clients/acme-corp/drifts/${driftId}/acknowledge`, ACME, "{not json", {
      "content-type": "application/json",
    });
    expect(notJson.status).toBe(400);
  });

  it("serves health, readiness, OpenAPI and Prometheus metrics that move with drift", async () => {
    expect((await api.call("GET", "/healthz", null)).status).toBe(200);
    const ready = await eventually(
      "ready",
      () => api.call("GET", "/readyz", null),
      (r) => r.status === 200,
    );
    expect(ready.body.ready).toBe(true);
    const doc = await api.call("GET", "/openapi.json", null);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        "/v1/clients/{client}/drift",
        "/v1/clients/{client}/reconcile",
        "/v1/clients/{client}/stacks/{stack}/policy",
      ]),
    );
    const families = parsePrometheus((await api.call("GET", "/metrics", null)).body as string);
    const byName = new Map(families.map((f) => [f.name, f]));
    for (const name of [
      "reconciliation_duration_seconds",
      "reconciliation_success_total",
      "drift_detected_total",
      "auto_heal_attempts_total",
      "auto_heal_success_total",
      "auto_heal_failure_total",
      "active_reconciliations",
      "state_consistency_score",
      "event_processing_lag_seconds",
    ]) {
      expect(byName.has(name), name).toBe(true);
    }
    const detected = () =>
      byName
        .get("drift_detected_total")!
        .metrics.find((m) => m.labels?.drift_type === "resource" && m.labels?.severity === "high");
    expect(Number(detected()?.value ?? 0)).toBeGreaterThanOrEqual(1);
    expect(Number(byName.get("state_consistency_score")!.metrics[0]!.value)).toBeLessThan(1);
    const before = Number(detected()!.value);
    await h.produce("resource-events", "ResourceEvent", "acme-corp", [
      resourceEventValue({
        client_id: "acme-corp",
        environment: "prod",
        resource_name: "content_cache_table",
        status: "unhealthy",
        at: new Date(Date.now() + 5000),
      }),
    ]);
    await eventually(
      "drift_detected_total to move",
      async () => parsePrometheus((await api.call("GET", "/metrics", null)).body as string),
      (f) =>
        Number(
          f
            .find((x) => x.name === "drift_detected_total")!
            .metrics.find((m) => m.labels?.drift_type === "resource" && m.labels?.severity === "high")?.value ?? 0,
        ) > before,
    );
  });
});
