import { describe, expect, it } from "vitest";
import {
  complianceReport,
  type ReportAudit,
  type ReportTransition,
} from "../../../src/core/report/compliance-report.js";
import { applied, desiredStack, given, providerEvent, t, tick } from "../../support/core-spec.js";

const drift = (
  client_id: string,
  stack_id: string,
  drift_id: string,
  transition: string,
  detected: number,
  at: number,
  evidence: number | null = null,
): ReportTransition => ({
  client_id,
  stack_id,
  drift_id,
  transition,
  drift_type: "resource",
  component: "db",
  severity: "high",
  detected_at: t(detected),
  at: t(at),
  evidence_at: evidence === null ? null : t(evidence),
});

const audit = (
  client_id: string,
  stack_id: string,
  drift_id: string | null,
  action: string,
  at: number,
  extra: Partial<ReportAudit> = {},
): ReportAudit => ({
  client_id,
  stack_id,
  drift_id,
  action,
  at: t(at),
  triggered_by: "policy",
  success: true,
  approver: null,
  reason: null,
  changes: {},
  ...extra,
});

/**
 * Window [0 s, 3600 s). acme/prod (applied long before): F opened before the window, resolved at 50 s; A healed
 * (issued 100, succeeded 160, resolved 200); B a silent provider whose window ran out at 601, opened at 661, gone
 * at 700 with nothing done (transient); C rejected as a false positive at 1100, resolved 1800; D approved at 2990,
 * healed at 3000, the heal failed at 3100, still open. beta/web applied at 1800; E opened 2000 (evidence 1990),
 * resolved 2600.
 */
const transitions = [
  drift("acme", "prod", "F", "opened", -500, -500, -500),
  drift("acme", "prod", "F", "resolved", -500, 50),
  drift("acme", "prod", "A", "opened", 100, 100, 100),
  drift("acme", "prod", "A", "resolved", 100, 200),
  drift("acme", "prod", "B", "opened", 661, 661, 601),
  drift("acme", "prod", "B", "resolved", 661, 700),
  drift("acme", "prod", "C", "opened", 1000, 1000, 1000),
  drift("acme", "prod", "C", "resolved", 1000, 1800),
  drift("acme", "prod", "D", "opened", 3000, 3000, 3000),
  drift("beta", "web", "E", "opened", 2000, 2000, 1990),
  drift("beta", "web", "E", "resolved", 2000, 2600),
];
const audits = [
  audit("acme", "prod", null, "desired_state_applied", -1000),
  audit("acme", "prod", "A", "heal_command_issued", 100, {
    changes: { action: "resource.rebuild", attempt: 1, command_key: "k-A" },
  }),
  audit("acme", "prod", "A", "resource.rebuild:started", 120, { changes: { command_key: "k-A" } }),
  audit("acme", "prod", "A", "resource.rebuild:succeeded", 160, { changes: { command_key: "k-A" } }),
  audit("acme", "prod", "C", "heal_rejected", 1100, {
    triggered_by: "ops@acme",
    changes: { command_id: "c1", false_positive: true },
  }),
  audit("acme", "prod", "D", "heal_approved", 2990, { triggered_by: "lead@acme", approver: "lead@acme" }),
  audit("acme", "prod", "D", "heal_command_issued", 3000, {
    triggered_by: "lead@acme",
    approver: "lead@acme",
    changes: { action: "integration.configure", attempt: 1, command_key: "k-D" },
  }),
  audit("acme", "prod", "D", "integration.configure:failed", 3100, {
    success: false,
    reason: "Integration API answered 503",
    changes: { command_key: "k-D" },
  }),
  audit("beta", "web", null, "desired_state_applied", 1800),
];
const window = { from: t(0), to: t(3600), transient_ms: 120_000 };

describe("compliance report", () => {
  const report = complianceReport(transitions, audits, window);

  it("gives the fleet's KPIs over the window", () => {
    expect(report.fleet).toEqual({
      drifts_opened: 5,
      drifts_resolved: 5,
      // 0, 60, 0, 0, 10 s
      time_to_detection: { count: 5, mean_seconds: 14, p95_seconds: 60 },
      // F 550, A 100, B 39, C 800, E 600 s
      time_to_recovery: { count: 5, mean_seconds: 417.8, p95_seconds: 800 },
      auto_heal: { issued: 2, succeeded: 1, failed: 1, success_rate: 0.5 },
      false_positives: { rejected_as_false: 1, transient: 1, rate: 0.4 },
      manual_interventions: { total: 2, by_action: { heal_rejected: 1, heal_approved: 1 } },
      // healthy: acme/prod 3600 - (50 + 100 + 39 + 800 + 600) = 2011 s; beta/web 1800 - 600 = 1200 s; of 5400 s
      configuration_compliance: 0.5946,
    });
  });

  it("gives each client's figures, its stacks' healthy share and the audit trail of every heal with its approver", () => {
    const acme = report.clients.find((c) => c.client_id === "acme")!;
    expect(acme.stacks).toEqual([{ stack_id: "prod", healthy_share: 0.5586, unhealthy_seconds: 1589 }]);
    expect(acme.kpis.configuration_compliance).toBe(0.5586);
    expect(acme.heals).toEqual([
      {
        at: new Date(t(100)).toISOString(),
        stack_id: "prod",
        drift_id: "A",
        action: "resource.rebuild",
        attempt: 1,
        command_key: "k-A",
        approver: null,
        triggered_by: "policy",
        outcome: "succeeded",
        outcome_at: new Date(t(160)).toISOString(),
        error: null,
      },
      {
        at: new Date(t(3000)).toISOString(),
        stack_id: "prod",
        drift_id: "D",
        action: "integration.configure",
        attempt: 1,
        command_key: "k-D",
        approver: "lead@acme",
        triggered_by: "lead@acme",
        outcome: "failed",
        outcome_at: new Date(t(3100)).toISOString(),
        error: "Integration API answered 503",
      },
    ]);
    const beta = report.clients.find((c) => c.client_id === "beta")!;
    expect(beta.stacks).toEqual([{ stack_id: "web", healthy_share: 0.6667, unhealthy_seconds: 600 }]);
  });

  // Found trying a fresh clone: a drift closed by offboarding raised the mean time to recovery.
  it("leaves drifts closed by removing their stack or client out of the time to recovery", () => {
    const removed = { ...drift("beta", "web", "E", "resolved", 2000, 2600), closed_by_removal: true };
    const report = complianceReport([...transitions.slice(0, -1), removed], audits, window);
    expect(report.fleet.time_to_recovery).toEqual({ count: 4, mean_seconds: 372.25, p95_seconds: 800 });
    expect(report.fleet.drifts_resolved).toBe(5);
  });

  // A second reject of an already-rejected drift is audited as a success like the first: it counted twice.
  it("counts an operator's decision on a drift once, however often it was repeated, and again after the drift reopened", () => {
    const rejectC = (at: number) =>
      audit("acme", "prod", "C", "heal_rejected", at, { triggered_by: "ops@acme", changes: { command_id: `c${at}` } });
    const reopened = [
      ...transitions,
      drift("acme", "prod", "C", "opened", 2000, 2000, 2000),
      drift("acme", "prod", "C", "resolved", 2000, 2500),
    ];
    const repeated = complianceReport(reopened, [...audits, rejectC(1150), rejectC(1200), rejectC(2100)], window);
    expect(repeated.fleet.manual_interventions).toEqual({
      total: 3,
      by_action: { heal_rejected: 2, heal_approved: 1 },
    });
    // The repeat is not a decision of its own even when the first one fell before the window.
    const later = complianceReport(reopened, [...audits, rejectC(1200)], { ...window, from: t(1150) });
    expect(later.fleet.manual_interventions.by_action).toEqual({ heal_approved: 1 });
  });

  it("narrows to one client, and a window with nothing in it has no rates rather than zeros", () => {
    const beta = complianceReport(transitions, audits, window, "beta");
    expect(beta.clients.map((c) => c.client_id)).toEqual(["beta"]);
    expect(beta.fleet.drifts_opened).toBe(1);
    const quiet = complianceReport(transitions, audits, { ...window, from: t(5000), to: t(6000) }, "beta");
    expect(quiet.fleet.false_positives.rate).toBeNull();
    expect(quiet.fleet.auto_heal.success_rate).toBeNull();
    expect(quiet.fleet.time_to_detection).toEqual({ count: 0, mean_seconds: null, p95_seconds: null });
    // beta/web existed and had nothing open: fully compliant.
    expect(quiet.fleet.configuration_compliance).toBe(1);
  });

  it("measures time to detection on the core's own output: a provider silent past its window, seen by a late tick", () => {
    // provider_silence 600 s from the last heartbeat at 1 s: the window runs out at 601 s; the tick comes at 700 s.
    expect(desiredStack().staleness.provider_silence_seconds).toBe(600);
    const out = given(applied(t(0)), providerEvent(t(1), "sanity", "provider.heartbeat")).when(tick(t(700)));
    expect(out.transitions.map((d) => [d.transition, d.evidence_at])).toEqual([["opened", t(601)]]);
    const fromCore = complianceReport(out.transitions, [], window);
    expect(fromCore.fleet.time_to_detection).toEqual({ count: 1, mean_seconds: 99, p95_seconds: 99 });
  });
});
