/** The what-if report: two runs' outputs compared per client over a window, with known times. */
import { describe, expect, it } from "vitest";
import { renderWhatIf, whatIfReport, type RunRecords } from "../../../src/core/whatif/what-if-report.js";
import { withPolicy } from "../../../src/core/whatif/with-policy.js";
import { applied, desiredStack } from "../../support/core-spec.js";

const T = Date.parse("2026-11-01T00:00:00Z");
const s = (n: number) => T + n * 1000;
const heal = (client_id: string, key: string, at: number, action = "resource.rebuild") => ({
  client_id,
  stack_id: "web",
  drift_id: `drift-${key}`,
  command_key: key,
  action,
  attempt: 1,
  at,
});
const run = (r: Partial<RunRecords>): RunRecords => ({ heals: [], audits: [], states: [], drifts: [], ...r });

describe("what-if report", () => {
  const recorded = run({
    heals: [heal("a", "k1", s(10)), heal("a", "k2", s(20), "integration.configure"), heal("b", "k3", s(30))],
    audits: [
      { client_id: "a", stack_id: "web", action: "circuit_breaker_opened", at: s(25) },
      { client_id: "a", stack_id: "web", action: "heal_exhausted", at: s(40) },
    ],
    // a's stack is in error from 40 s to 100 s.
    states: [
      { client_id: "a", stack_id: "web", status: "drift_detected", at: s(5) },
      { client_id: "a", stack_id: "web", status: "error", at: s(40) },
      { client_id: "a", stack_id: "web", status: "healthy", at: s(100) },
    ],
    drifts: [
      { client_id: "a", transition: "opened", at: s(5) },
      { client_id: "b", transition: "opened", at: s(29) },
      { client_id: "a", transition: "resolved", at: s(100) },
    ],
  });
  const proposed = run({
    heals: [heal("a", "k1", s(10)), heal("b", "k3", s(30)), heal("b", "k4", s(200))],
    audits: [{ client_id: "a", stack_id: "web", action: "heal_await_approval", at: s(20) }],
    // Never in error; b's stack goes into error at 150 s and stays there.
    states: [
      { client_id: "a", stack_id: "web", status: "drift_detected", at: s(5) },
      { client_id: "b", stack_id: "web", status: "error", at: s(150) },
    ],
    drifts: [
      { client_id: "a", transition: "opened", at: s(5) },
      { client_id: "b", transition: "opened", at: s(29) },
    ],
  });

  it("counts each run per client and names the heals avoided and added, over the window only", () => {
    // Window 0..180 s: b's added heal at 200 s is outside; its error counts 30 s of it.
    const report = whatIfReport(recorded, proposed, { from: s(0), to: s(180) });
    expect(report.clients.map((c) => [c.client_id, c.recorded, c.proposed])).toEqual([
      [
        "a",
        {
          heals_issued: 2,
          approvals_asked: 0,
          breaker_openings: 1,
          heals_exhausted: 1,
          seconds_in_error: 60,
          drifts_opened: 1,
        },
        {
          heals_issued: 1,
          approvals_asked: 1,
          breaker_openings: 0,
          heals_exhausted: 0,
          seconds_in_error: 0,
          drifts_opened: 1,
        },
      ],
      [
        "b",
        {
          heals_issued: 1,
          approvals_asked: 0,
          breaker_openings: 0,
          heals_exhausted: 0,
          seconds_in_error: 0,
          drifts_opened: 1,
        },
        {
          heals_issued: 1,
          approvals_asked: 0,
          breaker_openings: 0,
          heals_exhausted: 0,
          seconds_in_error: 30,
          drifts_opened: 1,
        },
      ],
    ]);
    expect(report.clients[0]!.heals_avoided).toEqual([
      {
        stack_id: "web",
        drift_id: "drift-k2",
        action: "integration.configure",
        attempt: 1,
        at: new Date(s(20)).toISOString(),
      },
    ]);
    expect(report.clients[1]!.heals_added).toEqual([]);
    expect(report.fleet.recorded.heals_issued).toBe(3);
    expect(report.fleet.proposed.heals_issued).toBe(2);

    const wider = whatIfReport(recorded, proposed, { from: s(0), to: s(300) });
    expect(wider.clients[1]!.heals_added.map((h) => h.drift_id)).toEqual(["drift-k4"]);
    expect(wider.clients[1]!.proposed.seconds_in_error).toBe(150);
  });

  it("reports one client when asked, and says so when nothing happened", () => {
    const onlyB = whatIfReport(recorded, proposed, { from: s(0), to: s(300) }, "b");
    expect(onlyB.clients.map((c) => c.client_id)).toEqual(["b"]);
    expect(onlyB.fleet.recorded.heals_issued).toBe(1);
    const empty = whatIfReport(run({}), run({}), { from: s(0), to: s(10) });
    expect(renderWhatIf(empty)).toContain("no client had a drift, heal or audit entry in the window");
  });

  it("renders a table per client with the change of each figure", () => {
    const text = renderWhatIf(whatIfReport(recorded, proposed, { from: s(0), to: s(180) }, "a"));
    expect(text).toMatch(/heals issued\s+2\s+1\s+-1/);
    expect(text).toMatch(/approvals asked\s+0\s+1\s+\+1/);
    expect(text).toContain("avoided: 2026-11-01T00:00:20.000Z web integration.configure (attempt 1) for drift-k2");
  });
});

describe("the proposed policy in place", () => {
  const proposed = { ...desiredStack().policy, auto_heal: { ...desiredStack().policy.auto_heal, enabled: true } };
  const input = (client_id: string, stack_id: string) => applied(T, { client_id, stack_id });

  it("replaces the recorded policy on the chosen client's (or stack's) desired states only, and says which", () => {
    const changed = new Set<string>();
    const swap = withPolicy(proposed, "a", "web", changed);
    const mine = swap(input("a", "web"));
    expect(mine.kind === "DesiredStateApplied" && mine.desired.policy.auto_heal.enabled).toBe(true);
    for (const other of [input("a", "shop"), input("b", "web")]) expect(swap(other)).toBe(other);
    expect([...changed]).toEqual(["a/web"]);
  });
});
