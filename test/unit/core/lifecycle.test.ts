import { describe, expect, it } from "vitest";
import {
  applied,
  command,
  desiredStack,
  given,
  providerEvent,
  resourceEvent,
  run,
  summary,
  t,
  tick,
} from "../../support/core-spec.js";
import { evolve } from "../../../src/core/fold/evolve.js";

const withDb = (at: number, version = "v1.0.0", hash = "h1") =>
  applied(at, {
    state_version: version,
    desired_hash: hash,
    resources: [{ name: "db", arn: "arn:aws:rds:db", ignore_paths: [] }],
  });
const alive = (at: number) => providerEvent(at, "sanity", "provider.heartbeat");

describe("drift lifecycle", () => {
  it("derives a stable drift id: the same drift reopened later has the same id, distinct event ids", () => {
    const out = run([
      withDb(t(0)),
      alive(t(1)),
      resourceEvent(t(2), "db", "unhealthy"),
      resourceEvent(t(3), "db", "healthy"),
      resourceEvent(t(4), "db", "unhealthy"),
    ]);
    expect(out.transitions.map((x) => x.transition)).toEqual(["opened", "resolved", "opened"]);
    expect(new Set(out.transitions.map((x) => x.drift_id)).size).toBe(1);
    expect(new Set(out.transitions.map((x) => x.event_id)).size).toBe(3);
  });

  it("emits nothing for a duplicate event (idempotent fold)", () => {
    const bad = resourceEvent(t(2), "db", "unhealthy");
    const out = given(withDb(t(0)), alive(t(1)), bad).when(bad, bad);
    expect(out.transitions).toEqual([]);
  });

  it("replaying the same inputs gives the same transitions, ids included", () => {
    const inputs = [
      withDb(t(0)),
      alive(t(1)),
      resourceEvent(t(2), "db", "unhealthy"),
      tick(t(900)),
      resourceEvent(t(901), "db", "healthy"),
    ];
    expect(run(inputs).transitions).toEqual(run(inputs).transitions);
  });

  it("acknowledges once, audits who did it, and keeps the drift open", () => {
    const history = given(withDb(t(0)), alive(t(1)), resourceEvent(t(2), "db", "unhealthy"));
    const driftId = run([withDb(t(0)), alive(t(1)), resourceEvent(t(2), "db", "unhealthy")]).transitions[0]!.drift_id;
    const ack = command(t(3), "acknowledge", { drift_id: driftId });
    const out = history.when(ack, ack);
    expect(summary(out.transitions)).toEqual([["acknowledged", "resource", "db", "unhealthy"]]);
    expect(out.audits.filter((a) => a.action === "drift_acknowledged")).toHaveLength(2);
    expect(out.audits[0]).toMatchObject({ triggered_by: "ops@acme", success: true, drift_id: driftId });
    expect(out.stackStates.at(-1)!.state!.drift_details[0]!.acknowledged).toBe(true);
  });

  it("audits an acknowledge of an unknown drift as failed", () => {
    const out = given(withDb(t(0)), alive(t(1))).when(command(t(2), "acknowledge", { drift_id: "drift-nope" }));
    expect(out.audits).toMatchObject([
      { action: "drift_acknowledged", success: false, reason: "no open drift with this id" },
    ]);
  });

  it("publishes a StateRecord with status and the desired version it was computed against", () => {
    const out = run([withDb(t(0)), alive(t(1)), resourceEvent(t(2), "db", "unhealthy"), withDb(t(3), "v1.1.0", "h2")]);
    const states = out.stackStates.map((s) => s.state!);
    // Applied; the CMS heard from for the first time (a component observed at all goes out); the db drifts; v1.1.0.
    expect(states.map((s) => [s.status, s.state_version, s.observed_state_version])).toEqual([
      ["healthy", "v1.0.0", "v1.0.0"],
      ["healthy", "v1.0.0", "v1.0.0"],
      ["drift_detected", "v1.0.0", "v1.0.0"],
      ["drift_detected", "v1.1.0", "v1.1.0"],
    ]);
    expect(states[1]!.component_observed_at).toEqual({ "provider:cms": t(1) });
    expect(states[2]!.drift_details).toMatchObject([
      { type: "resource", component: "db", observed: "unhealthy", severity: "high" },
    ]);
  });

  it("does not publish a StateRecord for events that change nothing, but refreshes it on the schedule", () => {
    // The last StateRecord of the history went out at t2, when the db was first reported: the schedule runs from there.
    const history = given(withDb(t(0)), alive(t(1)), resourceEvent(t(2), "db", "healthy"));
    expect(history.when(alive(t(10)), resourceEvent(t(11), "db", "healthy")).stackStates).toEqual([]);
    expect(history.when(alive(t(290)), resourceEvent(t(301), "db", "healthy")).stackStates).toEqual([]);
    const refreshed = history.when(alive(t(290)), resourceEvent(t(302), "db", "healthy"));
    expect(refreshed.stackStates).toHaveLength(1);
    expect(refreshed.stackStates[0]!.state!.last_verified).toBe(t(302));
  });

  it("removing the stack resolves its drifts and tombstones its state", () => {
    const history = given(withDb(t(0)), alive(t(1)), resourceEvent(t(2), "db", "unhealthy"));
    const out = history.when({
      kind: "DesiredStateRemoved",
      at: t(5),
      client_id: "acme-corp",
      stack_id: "cms-ecom-prod",
    });
    expect(out.transitions.map((x) => [x.transition, x.note])).toEqual([["resolved", "desired state removed"]]);
    expect(out.stackStates).toEqual([{ client_id: "acme-corp", stack_id: "cms-ecom-prod", state: null }]);
    expect(out.state.stacks).toEqual({});
  });

  it("keeps observations that arrive before the desired state", () => {
    const out = run([resourceEvent(t(1), "db", "deleted"), alive(t(1)), withDb(t(2))]);
    expect(summary(out.transitions)).toEqual([["opened", "resource", "db", "deleted"]]);
  });

  it("asks to be re-evaluated at the scheduled full re-evaluation, a precursor's time, or when the nearest window runs out", () => {
    // schedule 5m from the last StateRecord (t100: the CMS, then the db, observed for the first time) comes before
    // the windows (db t650, sanity t700)
    expect(run([withDb(t(0)), alive(t(100)), resourceEvent(t(50), "db", "healthy")]).reevaluateAt).toBe(t(400));
    const hourly = applied(t(0), {
      resources: [{ name: "db", arn: "arn:aws:rds:db", ignore_paths: [] }],
      policy: { ...desiredStack().policy, schedule: { interval: "1h", timezone: "UTC" } },
    });
    // Hourly: the first is the db's report aging past 80% of its TTL (t530, a precursor the predictor watches), before
    // the TTL itself (t650).
    expect(run([hourly, alive(t(100)), resourceEvent(t(50), "db", "healthy")]).reevaluateAt).toBe(t(530));
  });

  it("does not touch state for a heal result alone (only observation resolves)", () => {
    const state = run([withDb(t(0)), resourceEvent(t(2), "db", "unhealthy")]).state;
    const after = evolve(state, {
      kind: "HealResultReported",
      at: t(3),
      command_key: "k",
      client_id: "acme-corp",
      stack_id: "cms-ecom-prod",
      drift_id: "d",
      action: "resource.rebuild",
      attempt: 1,
      status: "succeeded",
      error_message: null,
    });
    expect(after).toBe(state);
  });

  it("an event of one environment re-evaluates that environment's stacks, and any other stack whose window ran out", () => {
    const staging = applied(t(0), { stack_id: "cms-ecom-staging", environment: "staging", desired_hash: "hs" });
    const history = given(
      withDb(t(0)),
      staging,
      alive(t(1)),
      resourceEvent(t(2), "db", "healthy"),
      providerEvent(t(1), "sanity", "provider.heartbeat", { environment: "staging" }),
    );
    const stagingOnly = history.when(providerEvent(t(100), "sanity", "provider.heartbeat", { environment: "staging" }));
    expect(stagingOnly.stackStates.map((s) => s.stack_id)).toEqual([]);
    const late = history.when(providerEvent(t(700), "sanity", "provider.heartbeat", { environment: "staging" }));
    expect(summary(late.transitions)).toEqual([
      ["opened", "provider", "cms", "missing"],
      ["opened", "resource", "db", "unknown"],
    ]);
    expect(late.transitions.every((x) => x.stack_id === "cms-ecom-prod")).toBe(true);
  });
});
