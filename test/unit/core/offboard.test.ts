import { describe, expect, it } from "vitest";
import { decide } from "../../../src/core/lifecycle/decide.js";
import { applied, command, given, providerEvent, resourceEvent, t } from "../../support/core-spec.js";

const withDb = applied(t(0), {
  resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:acme", ignore_paths: [] }],
});

describe("offboarding a client", () => {
  it("resolves its open drifts, tombstones every StateRecord, audits once and forgets the whole state", () => {
    const before = given(
      withDb,
      providerEvent(t(1), "sanity", "provider.heartbeat"),
      resourceEvent(t(2), "db", "deleted"),
    );
    const offboard = command(t(3), "offboard", { reason: "contract ended" });
    const decision = decide(before.state, {
      now: t(3),
      reconciliation_id: "r1",
      trigger: "commands/0@9",
      command: offboard,
    });
    expect(decision.outputs.forget).toBe(true);
    expect(decision.state).toEqual({ client_id: "acme-corp", stacks: {}, scopes: {} });
    expect(decision.outputs.transitions.map((d) => [d.transition, d.component, d.note])).toEqual([
      ["resolved", "db", "client offboarded"],
    ]);
    expect(decision.outputs.stackStates).toEqual([{ client_id: "acme-corp", stack_id: "cms-ecom-prod", state: null }]);
    expect(decision.outputs.healCommands).toEqual([]);
    expect(decision.outputs.audits).toEqual([
      expect.objectContaining({
        action: "client_offboarded",
        success: true,
        triggered_by: "ops@acme",
        reason: "contract ended",
        changes_made: { command_id: offboard.command_id, stacks: ["cms-ecom-prod"] },
      }),
    ]);
  });

  it("of a client the reconciler never saw still forgets it and says it had no stacks", () => {
    const out = given().when(command(t(1), "offboard"));
    expect(out.audits.map((a) => [a.action, a.changes_made])).toEqual([
      ["client_offboarded", { command_id: expect.any(String), stacks: [] }],
    ]);
    expect(out.stackStates).toEqual([]);
  });
});
