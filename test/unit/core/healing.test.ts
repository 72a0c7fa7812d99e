import { describe, expect, it } from "vitest";
import {
  applied,
  command,
  desiredStack,
  given,
  providerEvent,
  resourceEvent,
  run,
  t,
  tick,
} from "../../support/core-spec.js";
import type { DesiredStack } from "../../../src/core/model/desired.js";

const healing = (autoHeal: Partial<DesiredStack["policy"]["auto_heal"]> = {}) =>
  applied(t(0), {
    providers: { cms: "sanity", ecommerce: null, ssg: "codebuild" },
    build_project: "acme-site",
    resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:acme", ignore_paths: [] }],
    policy: {
      ...desiredStack().policy,
      auto_heal: {
        enabled: true,
        max_attempts: 3,
        backoff_strategy: "exponential",
        backoff_base_seconds: 30,
        backoff_cap_seconds: 900,
        allowed_drift_types: ["resource_unhealthy"],
        require_approval: ["cms_provider_change"],
        ...autoHeal,
      },
    },
  });
const alive = [
  providerEvent(t(1), "sanity", "provider.heartbeat"),
  providerEvent(t(1), "codebuild", "provider.heartbeat"),
];

describe("healing decisions in a pass", () => {
  it("issues exactly one command for an allowed drift, with the parameters the executor needs", () => {
    const out = given(healing(), ...alive).when(
      resourceEvent(t(10), "db", "unhealthy"),
      resourceEvent(t(10), "db", "unhealthy"),
      resourceEvent(t(11), "db", "unhealthy"),
    );
    expect(out.healCommands).toHaveLength(1);
    expect(out.healCommands[0]).toMatchObject({
      action: "resource.rebuild",
      attempt: 1,
      not_before: t(10),
      params: { resource: "db", arn: "arn:aws:rds:eu-west-1:1:db:acme", project: "acme-site" },
    });
    expect(out.transitions.map((x) => [x.transition, x.auto_heal_eligible])).toEqual([["opened", true]]);
    expect(out.audits.filter((a) => a.action === "heal_command_issued")).toMatchObject([
      { triggered_by: "policy", success: true, reason: "resource_unhealthy is allowed to auto-heal" },
    ]);
    expect(out.stackStates.at(-1)!.state!.status).toBe("reconciling");
  });

  it("retries with the backoff while the drift stays open, then gives up at max attempts and marks the stack error", () => {
    const out = run([
      healing(),
      ...alive,
      resourceEvent(t(10), "db", "unhealthy"),
      tick(t(39)),
      tick(t(40)),
      tick(t(99)),
      tick(t(100)),
      tick(t(219)),
      tick(t(220)),
      resourceEvent(t(300), "db", "unhealthy"),
      tick(t(900)),
    ]);
    expect(out.healCommands.map((c) => [c.attempt, c.not_before])).toEqual([
      [1, t(10)],
      [2, t(40)],
      [3, t(100)],
    ]);
    expect(new Set(out.healCommands.map((c) => c.command_key)).size).toBe(3);
    expect(out.audits.filter((a) => a.action === "heal_exhausted")).toMatchObject([
      { success: false, reason: "3 of 3 attempts made", changes_made: { severity: { from: "high", to: "critical" } } },
    ]);
    expect(out.stackStates.at(-1)!.state!.status).toBe("error");
    // The drift is escalated once, with a note, and stays escalated on later passes.
    expect(out.transitions.filter((x) => x.transition === "updated")).toMatchObject([
      { severity: "critical", note: expect.stringContaining("severity escalated from high to critical") },
    ]);
    expect(out.stackStates.at(-1)!.state!.drift_details[0]!.severity).toBe("critical");
    expect(out.reevaluateAt).not.toBeNull();
  });

  it("never issues a command for a drift that resolved before its retry came due", () => {
    const out = run([
      healing(),
      ...alive,
      resourceEvent(t(10), "db", "unhealthy"),
      resourceEvent(t(20), "db", "healthy"),
      tick(t(40)),
      tick(t(500)),
    ]);
    expect(out.healCommands.map((c) => c.attempt)).toEqual([1]);
    expect(out.stackStates.at(-1)!.state!.status).toBe("healthy");
  });

  it("waits for approval of a gated change, issues on approve, and audits who approved", () => {
    const history = given(healing(), ...alive, providerEvent(t(10), "contentful", "provider.connected"));
    const driftId = run([healing(), ...alive, providerEvent(t(10), "contentful", "provider.connected")]).transitions[0]!
      .drift_id;
    expect(history.state.stacks["cms-ecom-prod"]!.drifts[driftId]!.heal?.last_decision).toMatch(/^await_approval/);
    const approved = history.when(command(t(20), "approve", { drift_id: driftId, issued_by: "lead@acme" }));
    expect(approved.healCommands).toMatchObject([
      {
        action: "provider.register",
        approved_by: "lead@acme",
        params: { provider_type: "cms", provider_name: "sanity" },
      },
    ]);
    expect(approved.audits.find((a) => a.action === "heal_approved")).toMatchObject({
      approver: "lead@acme",
      approval_required: true,
      success: true,
    });
    const rejected = history.when(
      command(t(20), "reject", { drift_id: driftId, issued_by: "lead@acme" }),
      tick(t(5000)),
    );
    expect(rejected.healCommands.filter((c) => c.drift_id === driftId)).toEqual([]);
    expect(rejected.audits.map((a) => a.action)).toContain("heal_rejected");
  });

  it("only alerts when auto-heal is off or the stack is paused, and says why once", () => {
    const off = given(healing({ enabled: false }), ...alive).when(
      resourceEvent(t(10), "db", "unhealthy"),
      resourceEvent(t(11), "db", "unhealthy"),
    );
    expect(off.healCommands).toEqual([]);
    expect(off.audits.filter((a) => a.action === "heal_alert_only")).toMatchObject([
      { reason: "auto-heal is off in the policy" },
    ]);
    const paused = given(healing(), ...alive, command(t(5), "pause")).when(resourceEvent(t(10), "db", "unhealthy"));
    expect(paused.healCommands).toEqual([]);
  });
});
