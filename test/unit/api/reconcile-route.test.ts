/**
 * POST /reconcile answers the ReconciliationResult. Issue 14 item 12: auto_heal_success_count was always 0;
 * it counts the heals of the pass's scope the executors audited as succeeded since the previous pass.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACME_TOKEN, bearer, decode, stackRow, startUnitApi, type UnitApi } from "./api-fixture.js";

let api: UnitApi;

const heal = (audit_id: string, stack_id: string, timestamp: string, status = "succeeded") =>
  api.audit({
    audit_id,
    client_id: "acme-corp",
    stack_id,
    action: `site.rebuild:${status}`,
    timestamp,
    success: status !== "failed",
  });

beforeAll(async () => {
  api = await startUnitApi();
  api.stack("acme-corp", stackRow("web-prod"));
  api.audit({
    audit_id: "pass-1",
    client_id: "acme-corp",
    stack_id: null,
    action: "stack_reconcile",
    timestamp: "2026-01-01T01:00:00.000Z",
    success: true,
  });
  heal("h0", "web-prod", "2026-01-01T00:30:00.000Z"); // before the previous pass
  heal("h1", "web-prod", "2026-01-01T01:30:00.000Z");
  heal("h2", "web-staging", "2026-01-01T01:40:00.000Z");
  heal("h3", "web-prod", "2026-01-01T01:50:00.000Z", "failed");
  heal("h4", "web-prod", "2026-01-01T01:55:00.000Z", "started");
});
afterAll(async () => api.close());

describe("POST /v1/clients/{client}/reconcile", () => {
  it("counts the heals that succeeded since the previous pass of the same scope", async () => {
    // Stands in for the reconciler: its audit of the command reaches the replica right after the write.
    api.producer.onSend = (records) => {
      const command_id = String(decode("Command", records[0]!.value).command_id);
      api.audit(
        {
          audit_id: "pass-2",
          client_id: "acme-corp",
          stack_id: null,
          action: "stack_reconcile",
          timestamp: "2026-01-01T02:00:00.000Z",
          success: true,
          changes_made_json: JSON.stringify({
            command_id,
            reconciliation_id: "rec-2",
            stacks: { "web-prod": "drifted" },
            drift_count: 1,
            heal_commands_issued: 1,
          }),
        },
        command_id,
      );
    };
    // Without a body, as `curl -X POST` sends it: a pass over the whole client.
    const res = await api.app.inject({
      method: "POST",
      url: "/v1/clients/acme-corp/reconcile",
      headers: bearer(ACME_TOKEN),
    });
    expect(res.statusCode).toBe(200);
    expect(decode("Command", api.producer.sent.at(-1)!.value)).toMatchObject({ command: "reconcile", stack_id: null });
    expect(res.json()).toMatchObject({
      reconciliation_id: "rec-2",
      completed_at: "2026-01-01T02:00:00.000Z",
      auto_heal_attempted: true,
      auto_heal_success_count: 2,
    });
  });

  it("answers 404 with the reconciler's reason when it refused the pass (an unknown stack), not a success", async () => {
    api.producer.onSend = (records) => {
      const command_id = String(decode("Command", records[0]!.value).command_id);
      api.audit(
        {
          audit_id: "pass-refused",
          client_id: "acme-corp",
          stack_id: "nope",
          action: "stack_reconcile",
          timestamp: "2026-01-01T03:00:00.000Z",
          success: false,
          reason: "client acme-corp has no stack nope",
          changes_made_json: JSON.stringify({ command_id }),
        },
        command_id,
      );
    };
    const res = await api.app.inject({
      method: "POST",
      url: "/v1/clients/acme-corp/reconcile",
      payload: { stack_id: "nope" },
      headers: bearer(ACME_TOKEN),
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: "BLACKWELL_ERR_NOT_FOUND", message: "client acme-corp has no stack nope" },
    });
  });
});
