/**
 * The state consistency score a StateRecord carries: the share of the stack's declared components verified matching.
 * Given/when/then through the pure core, as an operator reads it off stack-state.
 */
import { describe, expect, it } from "vitest";
import { componentStates, consistencyScore } from "../../../src/core/lifecycle/consistency.js";
import {
  applied,
  command,
  desiredStack,
  given,
  providerEvent,
  resourceEvent,
  t,
  type Outcome,
} from "../../support/core-spec.js";

// cms provider + cdn + bucket: three declared components.
const stack = {
  resources: [
    { name: "cdn", arn: "arn:aws:cloudfront::1:distribution/X", ignore_paths: [] },
    { name: "bucket", arn: "arn:aws:s3:::site", ignore_paths: [] },
  ],
};
const alive = (at: number) => providerEvent(at, "sanity", "provider.heartbeat");
const lastScore = (out: Outcome) => out.stackStates.at(-1)?.state?.consistency_score;

describe("state consistency score", () => {
  it("is 1 while every declared component matches", () => {
    // A forced reconcile publishes the StateRecord even when nothing changed.
    const out = given(applied(t(0), stack), alive(t(1)), resourceEvent(t(2), "cdn", "healthy")).when(
      resourceEvent(t(3), "bucket", "healthy"),
      command(t(4), "reconcile"),
    );
    expect(lastScore(out)).toBe(1);
  });

  it("drops by the share of components with an open drift, and comes back when they match again", () => {
    const base = given(
      applied(t(0), stack),
      alive(t(1)),
      resourceEvent(t(2), "cdn", "healthy"),
      resourceEvent(t(3), "bucket", "healthy"),
    );
    const broken = base.when(resourceEvent(t(4), "bucket", "deleted"));
    expect(lastScore(broken)).toBeCloseTo(2 / 3);
    const twice = base.when(
      resourceEvent(t(4), "bucket", "deleted"),
      providerEvent(t(5), "contentful", "provider.connected"),
    );
    expect(lastScore(twice)).toBeCloseTo(1 / 3);
    const healed = base.when(resourceEvent(t(4), "bucket", "deleted"), resourceEvent(t(6), "bucket", "healthy"));
    expect(lastScore(healed)).toBe(1);
  });

  it("counts an integration once, whether its configuration or its webhook drifts, and is 1 with nothing declared", () => {
    const desired = desiredStack({
      providers: { cms: null, ecommerce: null, ssg: null },
      integrations: [{ name: "shop", config: {}, ignore_paths: [] } as never],
    });
    const drifts = [
      { drift_id: "d1", type: "integration" as const, component: "shop" },
      { drift_id: "d2", type: "integration" as const, component: "shop/webhook" },
    ];
    expect(consistencyScore(desired, drifts)).toBe(0);
    expect(componentStates(desired, drifts)).toEqual([
      { kind: "integration", name: "shop", desired: {}, matching: false, drift_ids: ["d1", "d2"] },
    ]);
    expect(consistencyScore(desiredStack({ providers: { cms: null, ecommerce: null, ssg: null } }), [])).toBe(1);
  });

  it("says when each declared component was last observed, as of the StateRecord, and nothing for one never seen", () => {
    // Given the stack, a heartbeat of its CMS and one report of the CDN (the bucket never reports)
    const out = given(applied(t(0), stack), alive(t(1)), resourceEvent(t(2), "cdn", "healthy")).when(
      // When the CMS is heard from again and an operator forces a reconcile (a StateRecord goes out)
      alive(t(7)),
      command(t(9), "reconcile"),
    );
    // Then the record says the CMS at its newest heartbeat and the CDN at its report; the bucket is absent
    expect(out.stackStates.at(-1)?.state?.component_observed_at).toEqual({
      "provider:cms": t(7),
      "resource:cdn": t(2),
    });
  });

  it("lists every declared component with what is declared and whether it matches", () => {
    const desired = desiredStack({
      ...stack,
      content_types: ["post"],
      build_project: "site-build",
    });
    const states = componentStates(desired, [{ drift_id: "d9", type: "resource", component: "bucket" }]);
    expect(states.map((c) => [c.kind, c.name, c.matching])).toEqual([
      ["provider", "cms", true],
      ["resource", "cdn", true],
      ["resource", "bucket", false],
      ["site", "site-build", true],
    ]);
    expect(states[0]!.desired).toBe("sanity");
  });
});
