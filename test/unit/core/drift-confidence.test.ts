import { describe, expect, it } from "vitest";
import { applied, desiredStack, given, providerEvent, resourceEvent, run, t, tick } from "../../support/core-spec.js";
import type { DesiredStack } from "../../../src/core/model/desired.js";

const withDb = (autoHeal: Partial<DesiredStack["policy"]["auto_heal"]> = {}) =>
  applied(t(0), {
    resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:acme", ignore_paths: [] }],
    policy: {
      ...desiredStack().policy,
      auto_heal: { ...desiredStack().policy.auto_heal, ...autoHeal },
    },
  });
const alive = (at: number) => providerEvent(at, "sanity", "provider.heartbeat");
const confidenceOf = (out: {
  stackStates: Array<{ state: { drift_details: Array<{ confidence: number | null }> } | null }>;
}) => out.stackStates.at(-1)?.state?.drift_details.map((d) => d.confidence);

describe("drift confidence", () => {
  it("a single report of an unhealthy resource opens with 0.75; each further report raises it, up to a bound", () => {
    const base = given(withDb(), alive(t(1)), resourceEvent(t(2), "db", "healthy"));
    const opened = base.when(resourceEvent(t(3), "db", "unhealthy"));
    expect(opened.transitions.map((d) => [d.transition, d.confidence])).toEqual([["opened", 0.75]]);

    const reports = [4, 5, 6, 7, 8].map((s) => resourceEvent(t(s), "db", "unhealthy"));
    const later = run([...reports], { state: opened.state, now: t(3) });
    // Confidence is carried by the state; the same finding opens no transition of its own.
    expect(later.transitions).toEqual([]);
    expect(later.stackStates.map((s) => s.state!.drift_details[0]!.confidence)).toEqual([0.94, 0.98, 1]);
    const resolved = run([resourceEvent(t(9), "db", "healthy")], { state: later.state, now: t(8) });
    expect(resolved.transitions.map((d) => [d.transition, d.confidence])).toEqual([["resolved", 1]]);
  });

  it("a report repeated with the same observation time is not independent evidence", () => {
    const out = given(withDb(), alive(t(1)), resourceEvent(t(3), "db", "unhealthy")).when(
      resourceEvent(t(3), "db", "unhealthy"),
    );
    expect(out.stackStates).toEqual([]);
    expect(out.state.stacks["cms-ecom-prod"]!.drifts).toSatisfy((d: object) =>
      Object.values(d).every((x: { confidence: { value: number } }) => x.confidence.value === 0.75),
    );
  });

  it("degraded is weaker evidence than unhealthy", () => {
    const out = given(withDb(), alive(t(1))).when(resourceEvent(t(3), "db", "degraded"));
    expect(out.transitions.map((d) => d.confidence)).toEqual([0.6]);
  });

  it("a provider silent for one window is a single late observation (0.5); every further silent window counts", () => {
    // provider_silence 600 s: nothing heard from sanity after t(1).
    const silent = given(
      withDb(),
      alive(t(1)),
      resourceEvent(t(2), "db", "healthy"),
      resourceEvent(t(500), "db", "healthy"),
    );
    const opened = silent.when(tick(t(601)));
    expect(opened.transitions.map((d) => [d.transition, d.component, d.confidence])).toEqual([["opened", "cms", 0.5]]);
    // The pass asks to be woken by the time the next window of silence completes (the schedule may come first).
    expect(opened.reevaluateAt).toBeLessThanOrEqual(t(1201));
    const twice = run([tick(t(1201))], { state: opened.state, now: t(601) });
    expect(confidenceOf(twice)).toContain(0.75);
    const thrice = run([tick(t(1801))], { state: twice.state, now: t(1201) });
    expect(confidenceOf(thrice)).toContain(0.88);
  });

  it("a provider that said it disconnected is observed evidence, not an inference from silence", () => {
    const out = given(withDb(), alive(t(1))).when(providerEvent(t(5), "sanity", "provider.disconnected"));
    expect(out.transitions.map((d) => [d.transition, d.confidence])).toEqual([["opened", 0.75]]);
  });
});

describe("min_confidence in the healing policy", () => {
  const policy = { enabled: true, allowed_drift_types: ["resource_unhealthy"], min_confidence: 0.9 };

  it("holds the heal of a drift seen once, audits why once, and heals once more reports raise the confidence", () => {
    const first = given(withDb(policy), alive(t(1))).when(resourceEvent(t(3), "db", "unhealthy"));
    expect(first.healCommands).toEqual([]);
    const why = first.audits.filter((a) => a.action === "heal_wait_confidence");
    expect(why.map((a) => a.reason)).toEqual([
      "confidence 0.75 is below the policy's min_confidence 0.9: waits for more evidence",
    ]);

    const second = run([resourceEvent(t(4), "db", "unhealthy")], { state: first.state, now: t(3) });
    expect(second.healCommands.map((c) => [c.action, c.attempt])).toEqual([["resource.rebuild", 1]]);
  });

  it("does not hold a drift an operator approved", () => {
    const approval = { ...policy, allowed_drift_types: [], require_approval: ["resource_unhealthy"] };
    const first = given(withDb(approval), alive(t(1)), resourceEvent(t(3), "db", "unhealthy"));
    const driftId = Object.keys(first.state.stacks["cms-ecom-prod"]!.drifts)[0]!;
    const out = first.when({
      kind: "CommandIssued",
      at: t(4),
      command_id: "c1",
      command: "approve",
      client_id: "acme-corp",
      stack_id: "cms-ecom-prod",
      drift_id: driftId,
      issued_by: "ops@acme",
      reason: null,
    } as never);
    expect(out.healCommands.map((c) => [c.action, c.approved_by])).toEqual([["resource.rebuild", "ops@acme"]]);
  });

  it("without min_confidence a single report heals at once (the default is unchanged)", () => {
    const out = given(withDb({ enabled: true, allowed_drift_types: ["resource_unhealthy"] }), alive(t(1))).when(
      resourceEvent(t(3), "db", "unhealthy"),
    );
    expect(out.healCommands).toHaveLength(1);
  });
});
