/** The predictor's precursors, one spec each: given a history, when time or an event comes, then a prediction. */
import { describe, expect, it } from "vitest";
import { applied, desiredStack, given, providerEvent, resourceEvent, run, t, tick } from "../../support/core-spec.js";
import type { DesiredStack } from "../../../src/core/model/desired.js";
import type { PredictionTransition } from "../../../src/core/model/outputs.js";
import { loadSchemas } from "../../../src/adapters/kafka/schemas.js";
import { stateCodecOf } from "../../../src/adapters/store/state-codec.js";

const MIN = 60;
const stack = (overrides: Partial<DesiredStack> = {}) =>
  applied(t(0), {
    providers: { cms: "sanity", ecommerce: null, ssg: null },
    staleness: {
      provider_silence_seconds: 60 * MIN,
      resource_ttl_seconds: 30 * MIN,
      content_grace_seconds: 15 * MIN,
      webhook_failure_threshold: 3,
    },
    ...overrides,
  });
const beat = (s: number) => providerEvent(t(s), "sanity", "provider.heartbeat");
const summary = (ps: PredictionTransition[]) =>
  ps.map((p) => [p.transition, p.kind, p.component, p.precursor, p.confidence, (p.expected_at - t(0)) / 1000]);

describe("predicted drift", () => {
  it("a provider whose heartbeat gaps kept growing toward its silence window, then most of the window in silence: predicted, then confirmed", () => {
    // Gaps of 10, 20 and 40 minutes: the next, at that rate, is 80 minutes, past the 60-minute window.
    const before = given(stack(), beat(0), beat(10 * MIN), beat(30 * MIN));
    const slowing = before.when(beat(70 * MIN));
    // Growing gaps alone are not enough (a slowing provider often recovers within its window).
    expect(slowing.predictions).toEqual([]);
    // 80% of the window after the last beat: 118 min.
    const quiet = run([tick(t(117 * MIN))], { state: slowing.state, now: t(70 * MIN) });
    expect(quiet.predictions).toEqual([]);
    const out = run([tick(t(118 * MIN))], { state: quiet.state, now: t(117 * MIN) });
    expect(summary(out.predictions)).toEqual([
      ["predicted", "provider_missing", "cms", "heartbeat_gaps", 0.85, 130 * MIN],
    ]);
    expect(out.predictions[0]!.evidence).toContain("grew 10 min, 20 min, 40 min");
    expect(out.predictions[0]!.evidence).toContain("nothing has been heard for 48 min");
    // Nothing more is heard: the drift opens when the window runs out, and the prediction is confirmed.
    const later = run([tick(t(130 * MIN))], { state: out.state, now: t(118 * MIN) });
    expect(later.transitions.map((d) => [d.transition, d.kind])).toEqual([["opened", "provider_missing"]]);
    expect(later.predictions.map((p) => [p.transition, p.lead_ms])).toEqual([["confirmed", 12 * MIN * 1000]]);
  });

  it("a provider that slowed down and then speaks again within its window: nothing predicted", () => {
    const slowing = given(stack(), beat(0), beat(10 * MIN), beat(30 * MIN), beat(70 * MIN));
    const back = slowing.when(beat(115 * MIN), tick(t(200 * MIN)));
    expect(back.predictions).toEqual([]);
  });

  it("steady heartbeats predict nothing; a provider silent for most of its window does", () => {
    const steady = given(stack(), beat(0), beat(10 * MIN), beat(20 * MIN)).when(beat(30 * MIN));
    expect(steady.predictions).toEqual([]);
    // 80% of the 60-minute window after the last beat (at 30 min): 78 min; events usually 10 min apart.
    const silent = run([tick(t(78 * MIN))], { state: steady.state, now: t(30 * MIN) });
    expect(summary(silent.predictions)).toEqual([["predicted", "provider_missing", "cms", "silence", 0.85, 90 * MIN]]);
    // The provider speaks again: the drift never opens, and the prediction expires after its horizon.
    const back = run([beat(80 * MIN), tick(t(110 * MIN))], { state: silent.state, now: t(78 * MIN) });
    expect(back.transitions).toEqual([]);
    expect(back.predictions.map((p) => [p.transition, p.note])).toEqual([
      ["expired", "the drift did not open within the horizon"],
    ]);
  });

  it("a resource whose last report ages past 80% of its TTL", () => {
    const withDb = stack({ resources: [{ name: "db", arn: "arn:aws:rds:db", ignore_paths: [] }] });
    const before = given(withDb, beat(0), resourceEvent(t(0), "db", "healthy"), beat(10 * MIN), beat(20 * MIN));
    // TTL 30 min: 80% is 24 min.
    const out = before.when(tick(t(24 * MIN)));
    expect(summary(out.predictions)).toEqual([
      ["predicted", "resource_unhealthy", "db", "resource_aging", 0.7, 30 * MIN],
    ]);
    const expired = run([tick(t(30 * MIN))], { state: out.state, now: t(24 * MIN) });
    expect(expired.transitions.map((d) => [d.transition, d.kind, d.observed])).toEqual([
      ["opened", "resource_unhealthy", "unknown"],
    ]);
    expect(expired.predictions.map((p) => p.transition)).toEqual(["confirmed"]);
  });

  it("webhook deliveries failing below the threshold: 2 of 3 with nothing learned is a coin toss, 3 of 4 is predicted", () => {
    const hooked = (threshold: number) =>
      stack({
        integrations: [{ name: "orders-hook", config: {}, ignore_paths: [] }],
        staleness: {
          provider_silence_seconds: 60 * MIN,
          resource_ttl_seconds: 30 * MIN,
          content_grace_seconds: 15 * MIN,
          webhook_failure_threshold: threshold,
        },
      });
    const failed = (s: number) => providerEvent(t(s), "shopify", "webhook.failed", { integration: "orders-hook" });
    // Threshold 3: one failure is 0.33, two are 0.67, both under the publishing floor.
    const two = given(hooked(3), beat(0)).when(failed(60), failed(5 * MIN + 60));
    expect(two.predictions).toEqual([]);
    // Threshold 4: the third failure is 0.75. Failures 5 minutes apart: the fourth is expected 5 minutes later.
    const one = given(hooked(4), beat(0), failed(60), failed(5 * MIN + 60));
    const three = one.when(failed(10 * MIN + 60));
    expect(summary(three.predictions)).toEqual([
      ["predicted", "webhook_broken", "orders-hook/webhook", "webhook_failures", 0.75, 15 * MIN + 60],
    ]);
    expect(three.predictions[0]!.evidence).toContain("3 of 4 webhook deliveries of orders-hook failed in a row");
    const four = run([failed(15 * MIN + 60)], { state: three.state, now: t(10 * MIN + 60) });
    expect(four.transitions.map((d) => d.kind)).toEqual(["webhook_broken"]);
    expect(four.predictions.map((p) => [p.transition, p.lead_ms])).toEqual([["confirmed", 5 * MIN * 1000]]);
  });

  it("a webhook whose earlier double failure went on to break earns confidence in its next one", () => {
    const hooked = stack({ integrations: [{ name: "orders-hook", config: {}, ignore_paths: [] }] });
    const failed = (s: number) => providerEvent(t(s), "shopify", "webhook.failed", { integration: "orders-hook" });
    const delivered = (s: number) =>
      providerEvent(t(s), "shopify", "webhook.delivered", { integration: "orders-hook" });
    const broke = given(hooked, beat(0), failed(60), failed(120), failed(180), delivered(240));
    const out = broke.when(failed(40 * MIN), failed(41 * MIN));
    // Prior 2/3 worth three streaks, then 1 of 1 earlier double failure went on: (1 + 2) / (1 + 3) = 0.75.
    expect(out.predictions.map((p) => [p.transition, p.precursor, p.confidence])).toEqual([
      ["predicted", "webhook_failures", 0.75],
    ]);
    expect(out.predictions[0]!.evidence).toContain("of 1 earlier streaks this long, 1 reached 3");
  });

  it("a webhook whose double failures keep recovering earns little confidence in its next one", () => {
    const hooked = stack({ integrations: [{ name: "orders-hook", config: {}, ignore_paths: [] }] });
    const failed = (s: number) => providerEvent(t(s), "shopify", "webhook.failed", { integration: "orders-hook" });
    const delivered = (s: number) =>
      providerEvent(t(s), "shopify", "webhook.delivered", { integration: "orders-hook" });
    // Twice before, two failures in a row and then a delivery.
    const history = given(
      hooked,
      beat(0),
      failed(60),
      failed(120),
      delivered(180),
      failed(600),
      failed(660),
      delivered(720),
    );
    const out = history.when(failed(MIN * 40), failed(MIN * 41));
    // Prior 2/3 worth three streaks, then 0 of 2 earlier double failures went on: (0 + 2) / (2 + 3) = 0.4.
    expect(out.predictions).toEqual([]);
    expect(out.state.stacks["cms-ecom-prod"]!.predictions).toBeUndefined();
    expect(out.state.scopes["env:prod"]!.integrations["orders-hook"]!.webhook!.ended).toEqual([0, 2]);
  });

  it("content waiting for a build that can no longer finish within the grace period", () => {
    const site = stack({
      providers: { cms: "sanity", ecommerce: null, ssg: "codebuild" },
      build_project: "acme-site",
      content_types: ["page"],
    });
    const build = (s: number, type: "build.started" | "build.succeeded", id: string) =>
      providerEvent(t(s), "codebuild", type, { payload: { build_id: id } });
    const page = (s: number) => providerEvent(t(s), "sanity", "content.published", { content_type: "page" });
    // Builds seen so far took 8, 10 and 9 minutes (median 9; three seen, confidence 0.8).
    const history = given(
      site,
      beat(0),
      build(60, "build.started", "b1"),
      build(60 + 8 * MIN, "build.succeeded", "b1"),
      build(20 * MIN, "build.started", "b2"),
      build(30 * MIN, "build.succeeded", "b2"),
      build(30 * MIN + 30, "build.started", "b3"),
      build(39 * MIN + 30, "build.succeeded", "b3"),
    );
    // Published at 40 min, grace 15 min: stale at 55 min; a 9-minute build must start by 46 min.
    const published = history.when(page(40 * MIN), tick(t(45 * MIN)));
    expect(published.predictions).toEqual([]);
    const late = run([tick(t(46 * MIN))], { state: published.state, now: t(45 * MIN) });
    expect(summary(late.predictions)).toEqual([["predicted", "site_stale", "acme-site", "build_late", 0.8, 55 * MIN]]);
    expect(late.predictions[0]!.evidence).toContain("builds take 9 min (median of 3)");
  });

  it("a policy may start the rebuild before the content goes stale (auto_heal.preempt); off by default", () => {
    const site = (preempt?: { min_confidence: number; drift_types: string[] }) =>
      stack({
        providers: { cms: "sanity", ecommerce: null, ssg: "codebuild" },
        build_project: "acme-site",
        content_types: ["page"],
        policy: {
          ...desiredStack().policy,
          auto_heal: {
            ...desiredStack().policy.auto_heal,
            enabled: true,
            allowed_drift_types: ["site_stale"],
            ...(preempt ? { preempt } : {}),
          },
        },
      });
    const build = (s: number, type: "build.started" | "build.succeeded", id: string) =>
      providerEvent(t(s), "codebuild", type, { payload: { build_id: id } });
    const history = (desired: ReturnType<typeof stack>) =>
      given(
        desired,
        beat(0),
        ...[0, 1, 2].flatMap((k) => [
          build(60 + k * 10 * MIN, "build.started", `b${k}`),
          build(60 + k * 10 * MIN + 8 * MIN, "build.succeeded", `b${k}`),
        ]),
        providerEvent(t(40 * MIN), "sanity", "content.published", { content_type: "page" }),
      );
    // Builds take 8 minutes (three seen: confidence 0.8); published at 40 min, grace 15: the prediction comes at 47.
    const off = history(site()).when(tick(t(47 * MIN)));
    expect(off.predictions.map((p) => [p.transition, p.confidence])).toEqual([["predicted", 0.8]]);
    expect(off.healCommands).toEqual([]);

    const on = history(site({ min_confidence: 0.8, drift_types: ["site_stale"] })).when(tick(t(47 * MIN)));
    expect(on.healCommands.map((c) => [c.action, c.params, c.attempt])).toEqual([
      [
        "site.rebuild",
        { project: "acme-site", reason: "tracked content published after the last successful build" },
        1,
      ],
    ]);
    expect(on.audits.filter((a) => a.action === "heal_preempted").map((a) => a.drift_id)).toEqual([
      on.predictions[0]!.drift_id,
    ]);
    expect(on.predictions.map((p) => [p.transition, p.preempted])).toEqual([["predicted", true]]);
    // The early rebuild runs and covers the content: the drift never opens, and the prediction says why it expired.
    const after = run(
      [build(48 * MIN, "build.started", "early"), build(54 * MIN, "build.succeeded", "early"), tick(t(80 * MIN))],
      {
        state: on.state,
        now: t(47 * MIN),
      },
    );
    expect(after.transitions).toEqual([]);
    expect(after.predictions.map((p) => [p.transition, p.note])).toEqual([
      ["expired", "a heal started early on it; the drift did not open"],
    ]);
    // A prediction less sure than the policy asks for is not acted on.
    const unsure = history(site({ min_confidence: 0.9, drift_types: ["site_stale"] })).when(tick(t(47 * MIN)));
    expect(unsure.healCommands).toEqual([]);
  });

  it("a build in time predicts nothing", () => {
    const site = stack({
      providers: { cms: "sanity", ecommerce: null, ssg: "codebuild" },
      build_project: "acme-site",
      content_types: ["page"],
    });
    const out = given(
      site,
      providerEvent(t(60), "codebuild", "build.started", { payload: { build_id: "b1" } }),
      providerEvent(t(60 + 8 * MIN), "codebuild", "build.succeeded", { payload: { build_id: "b1" } }),
      providerEvent(t(40 * MIN), "sanity", "content.published", { content_type: "page" }),
    ).when(
      providerEvent(t(41 * MIN), "codebuild", "build.started", { payload: { build_id: "b2" } }),
      tick(t(50 * MIN)),
    );
    expect(out.predictions).toEqual([]);
  });

  it("a drift that recurs on a schedule, learned from its openings: every night at 02:00", () => {
    const hooked = stack({
      integrations: [{ name: "catalog-hook", config: { url: "https://a" }, ignore_paths: [] }],
    });
    const DAY = 24 * 60 * MIN;
    const configured = (s: number, url: string) =>
      providerEvent(t(s), "shopify", "integration.configured", {
        integration: "catalog-hook",
        payload: { configuration: { url } },
      });
    const nights: Parameters<typeof given> = [hooked];
    for (let d = 0; d < 3; d++) {
      nights.push(beat(d * DAY + 2 * 60 * MIN - 60), configured(d * DAY + 2 * 60 * MIN, "https://b"));
      nights.push(configured(d * DAY + 3 * 60 * MIN, "https://a"));
    }
    const learned = given(...nights);
    // Openings at 02:00 on days 0, 1 and 2: the next is expected on day 3 at 02:00, predicted an hour before.
    const out = learned.when(beat(3 * DAY + 60 * MIN));
    expect(summary(out.predictions)).toEqual([
      ["predicted", "integration_config", "catalog-hook", "recurring", 0.7, 3 * DAY + 2 * 60 * MIN],
    ]);
    const night = run([configured(3 * DAY + 2 * 60 * MIN + 30, "https://b")], {
      state: out.state,
      now: t(3 * DAY + 60 * MIN),
    });
    expect(night.predictions.map((p) => p.transition)).toEqual(["confirmed"]);
  });

  it("a drift without a precursor is not predicted", () => {
    const withDb = stack({ resources: [{ name: "db", arn: "arn:aws:rds:db", ignore_paths: [] }] });
    const out = given(withDb, beat(0), resourceEvent(t(60), "db", "healthy")).when(
      beat(5 * MIN),
      resourceEvent(t(6 * MIN), "db", "unhealthy"),
    );
    expect(out.transitions.map((d) => d.transition)).toEqual(["opened"]);
    expect(out.predictions).toEqual([]);
    expect(desiredStack().staleness.webhook_failure_threshold).toBe(3);
  });
});

// A reconciler stalled on `invalid "long": 1796194115413.875`: a recurring drift's mean interval made its expected
// time fractional, and the changelog (Avro longs) could not take the state.
describe("prediction times", () => {
  it("are whole milliseconds, so the state can be stored, whatever the intervals and rates they come from", () => {
    const withDb = stack({ resources: [{ name: "db", arn: "arn:aws:rds:db", ignore_paths: [] }] });
    const flips: Parameters<typeof given> = [withDb, beat(0)];
    // The db fails at 0, 2.001 s and 4.001 s (intervals 2001 and 2000 ms: a mean of 2000.5), healthy in between; a
    // healthy report at 5.6 s comes after the next failure's prediction point (6.0015 s - 0.5 s).
    const reports: Array<[number, "unhealthy" | "healthy"]> = [
      [0, "unhealthy"],
      [1000, "healthy"],
      [2001, "unhealthy"],
      [3000, "healthy"],
      [4001, "unhealthy"],
      [5000, "healthy"],
      [5600, "healthy"],
    ];
    for (const [ms, status] of reports) flips.push(resourceEvent(t(10) + ms, "db", status));
    const out = run(flips.slice(1) as Parameters<typeof run>[0], { state: given(withDb).state, now: t(0) });
    expect(out.predictions.map((p) => [p.transition, p.precursor])).toEqual([["predicted", "recurring"]]);
    const times = out.predictions.flatMap((p) => [p.expected_at, p.horizon_until, p.predicted_at, p.at]);
    expect(times.every(Number.isInteger)).toBe(true);
    expect(out.reevaluateAt === null || Number.isInteger(out.reevaluateAt)).toBe(true);
    const types = loadSchemas();
    const codec = stateCodecOf({ type: (name) => types.get(name)! });
    expect(() => codec.encodeRuntime(out.state, out.reevaluateAt, t(20))).not.toThrow();
  });
});
