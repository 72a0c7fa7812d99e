/**
 * The reconciler's audit of an operator command says whether it did anything: the CLI and the API report that
 * audit, so a command that changed nothing must be audited as refused, with the reason (issue 14 item 9).
 */
import { describe, expect, it } from "vitest";
import type { InputRecord } from "../../../src/core/model/inputs.js";
import {
  CLIENT,
  STACK,
  applied,
  command,
  desiredStack,
  given,
  providerEvent,
  run,
  t,
} from "../../support/core-spec.js";

const gated = applied(t(0), {
  policy: {
    ...desiredStack().policy,
    auto_heal: { ...desiredStack().policy.auto_heal, enabled: true, require_approval: ["cms_provider_change"] },
  },
});
const foreignCms = [
  gated,
  providerEvent(t(1), "sanity", "provider.connected"),
  providerEvent(t(10), "contentful", "provider.connected"),
];
const removal: InputRecord = { kind: "DesiredStateRemoved", at: t(2), stack_id: STACK, client_id: CLIENT };
const driftId = run(foreignCms).transitions[0]!.drift_id;

describe("audits of operator commands", () => {
  it("refuses an approve after a reject, issues no heal, and says why", () => {
    const out = given(...foreignCms, command(t(20), "reject", { drift_id: driftId })).when(
      command(t(30), "approve", { drift_id: driftId, issued_by: "lead@acme" }),
    );
    expect(out.healCommands).toEqual([]);
    expect(out.audits.filter((a) => a.action === "heal_approved")).toMatchObject([
      { success: false, approver: null, reason: expect.stringContaining("rejected") },
    ]);
    expect(out.state.stacks[STACK]!.drifts[driftId]!.heal?.approved_by).toBeNull();
  });

  it("still approves a drift nobody rejected", () => {
    const out = given(...foreignCms).when(command(t(30), "approve", { drift_id: driftId, issued_by: "lead@acme" }));
    expect(out.audits.find((a) => a.action === "heal_approved")).toMatchObject({ success: true });
    expect(out.healCommands).toHaveLength(1);
  });

  it("refuses a reconcile of a stack the client does not have", () => {
    const out = given(gated).when(command(t(5), "reconcile", { stack_id: "nope" }));
    expect(out.audits.filter((a) => a.action === "stack_reconcile")).toMatchObject([
      { success: false, reason: `client ${CLIENT} has no stack nope` },
    ]);
  });

  it("refuses a reconcile of a client that has no stacks", () => {
    const out = run([command(t(5), "reconcile")]);
    expect(out.audits).toMatchObject([
      { action: "stack_reconcile", success: false, reason: `client ${CLIENT} has no stacks` },
    ]);
  });

  it("refuses a pause of an unknown stack and a reconcile of a removed one", () => {
    const removed = given(gated, removal);
    expect(removed.when(command(t(5), "reconcile", { stack_id: STACK })).audits).toMatchObject([
      { action: "stack_reconcile", success: false },
    ]);
    expect(given(gated).when(command(t(5), "pause", { stack_id: "nope" })).audits).toMatchObject([
      { action: "stack_pause", success: false, reason: `client ${CLIENT} has no stack nope` },
    ]);
  });

  it("reports a reconcile of a known stack as done", () => {
    const out = given(gated).when(command(t(5), "reconcile", { stack_id: STACK }));
    expect(out.audits.find((a) => a.action === "stack_reconcile")).toMatchObject({ success: true });
  });
});
