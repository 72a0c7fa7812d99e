/** Promotion, given/when/then: promotion drift, the gates, the promoted content and the automatic rollback. */
import { describe, expect, it } from "vitest";
import type { DesiredStack, PromotionSpec } from "../../../src/core/model/desired.js";
import { gateRefusals, promotedContent } from "../../../src/core/promotion/promote.js";
import { desiredHash, parseBlackwellYaml } from "../../../src/adapters/yaml/parse-blackwell-yaml.js";
import { applied, desiredStack, given, providerEvent, resourceEvent, run, t, tick } from "../../support/core-spec.js";

const MIN = 60;
const spec = (over: Partial<PromotionSpec> = {}): PromotionSpec => ({
  from: "web-staging",
  match: ["providers", "integrations"],
  ignore_paths: ["/integrations/orders-hook/config/secret"],
  max_lag_seconds: 60 * MIN,
  soak_seconds: 30 * MIN,
  verify_window_seconds: 15 * MIN,
  rollback_on: ["cms_provider_change", "provider_missing"],
  ...over,
});
const hook = (url: string, secret: string) => [{ name: "orders-hook", config: { url, secret }, ignore_paths: [] }];
const staging = (at: number, url: string, version = "v1.0.0", over: Partial<DesiredStack> = {}) =>
  applied(at, {
    stack_id: "web-staging",
    environment: "staging",
    state_version: version,
    desired_hash: `staging-${url}`,
    integrations: hook(url, "staging-secret"),
    ...over,
  });
const prod = (at: number, url: string, over: Partial<DesiredStack> = {}) =>
  applied(at, {
    stack_id: "web-prod",
    environment: "prod",
    desired_hash: `prod-${url}-${over.state_version ?? ""}`,
    integrations: hook(url, "prod-secret"),
    promotion: spec(),
    ...over,
  });
const promotionDrifts = (o: { transitions: Array<{ drift_type: string; transition: string; observed: unknown }> }) =>
  o.transitions.filter((d) => d.drift_type === "promotion").map((d) => [d.transition, d.observed]);

describe("promotion drift", () => {
  it("given staging's newer version, prod is in promotion drift once it has waited max_lag, until it is promoted", () => {
    const before = given(staging(t(0), "https://a"), prod(t(0), "https://a"));
    // Staging moves on at 10 min; prod differs only in its own secret (ignored) until then.
    const moved = before.when(staging(t(10 * MIN), "https://b", "v1.1.0"));
    expect(promotionDrifts(moved)).toEqual([]);
    expect(moved.reevaluateAt).toBeLessThanOrEqual(t(70 * MIN));
    const waiting = run([tick(t(69 * MIN))], { state: moved.state, now: t(10 * MIN) });
    expect(promotionDrifts(waiting)).toEqual([]);
    const late = run([tick(t(70 * MIN))], { state: waiting.state, now: t(69 * MIN) });
    expect(promotionDrifts(late)).toEqual([
      ["opened", { state_version: "v1.0.0", differs_at: ["/integrations/orders-hook"] }],
    ]);
    // Promoted: prod gets staging's URL (its own secret kept), and the drift resolves.
    const promoted = run([prod(t(80 * MIN), "https://b", { state_version: "v1.1.0" })], {
      state: late.state,
      now: t(70 * MIN),
    });
    expect(promotionDrifts(promoted).map(([transition]) => transition)).toEqual(["resolved"]);
  });

  it("prod edited on its own, apart from staging, is in promotion drift at once", () => {
    const out = given(staging(t(0), "https://a"), prod(t(0), "https://a")).when(
      prod(t(5 * MIN), "https://edited", { state_version: "v1.1.0" }),
    );
    expect(promotionDrifts(out).map(([transition]) => transition)).toEqual(["opened"]);
  });

  it("a difference only at an environment-specific pointer is no drift", () => {
    const out = given(staging(t(0), "https://a")).when(prod(t(MIN), "https://a"), tick(t(200 * MIN)));
    expect(promotionDrifts(out)).toEqual([]);
  });
});

describe("promotion gates", () => {
  const facts = {
    now: t(100 * MIN),
    version: "v1.1.0",
    applied_at: t(10 * MIN),
    state: { state_version: "v1.1.0", status: "healthy", open_drifts: 0 },
    last_drift_change: t(50 * MIN),
  };
  it("pass for a stack judged under its version, healthy and soaked", () => {
    expect(gateRefusals(spec(), facts)).toEqual([]);
  });
  it("refuse a stack not soaked, not judged yet, or with a drift open, saying why", () => {
    expect(gateRefusals(spec(), { ...facts, last_drift_change: t(80 * MIN) })).toEqual([
      "web-staging has been healthy for 1200s of its 1800s soak",
    ]);
    expect(gateRefusals(spec(), { ...facts, state: { ...facts.state, state_version: "v1.0.0" } })).toEqual([
      "web-staging v1.1.0 has not been judged by the reconciler yet (it last judged v1.0.0)",
    ]);
    expect(
      gateRefusals(spec(), { ...facts, state: { ...facts.state, status: "drift_detected", open_drifts: 2 } }),
    ).toEqual(["web-staging is drift_detected with 2 open drift(s)"]);
    expect(gateRefusals(spec(), { ...facts, state: null })).toEqual([
      "web-staging has not been judged by the reconciler yet",
    ]);
  });
});

describe("promoted content", () => {
  it("carries the matched parts and keeps the later stack's values at its ignore pointers", () => {
    const earlier = desiredStack({
      stack_id: "web-staging",
      providers: { cms: "contentful", ecommerce: null, ssg: null },
      integrations: hook("https://b", "staging-secret"),
      build_project: "staging-site",
    });
    const later = desiredStack({
      stack_id: "web-prod",
      integrations: hook("https://a", "prod-secret"),
      build_project: "prod-site",
      promotion: spec(),
    });
    const next = promotedContent(earlier, later, spec())!;
    expect(next.providers.cms).toBe("contentful");
    expect(next.integrations).toEqual(hook("https://b", "prod-secret"));
    // Not a matched part: prod keeps its own.
    expect(next.build_project).toBe("prod-site");
    expect(promotedContent(earlier, next, spec())).toBeNull();
  });
});

describe("automatic rollback of a promotion", () => {
  const promoted = (at: number) =>
    prod(at, "https://b", {
      state_version: "v1.1.0",
      previous_versions: ["v1.0.0"],
      providers: { cms: "contentful", ecommerce: null, ssg: null },
      promoted_from: { stack_id: "web-staging", state_version: "v1.1.0" },
    });
  const history = () =>
    given(
      staging(t(0), "https://b", "v1.1.0", { providers: { cms: "contentful", ecommerce: null, ssg: null } }),
      prod(t(0), "https://a"),
      promoted(t(10 * MIN)),
    );

  it("when a drift of a named kind opens within the window, issues one rollback to the previous version, with the drifts", () => {
    // Sanity is still the CMS that reports: the promoted contentful is not the one connected.
    const out = history().when(providerEvent(t(12 * MIN), "sanity", "provider.connected", { provider_role: "cms" }));
    const opened = out.transitions.filter((d) => d.transition === "opened");
    expect(opened.map((d) => d.drift_type)).toEqual(["provider"]);
    expect(out.healCommands.map((c) => [c.action, c.params])).toEqual([
      ["desired.rollback", { to_version: "v1.0.0", from_version: "v1.1.0", drifts: [opened[0]!.drift_id] }],
    ]);
    const audit = out.audits.find((a) => a.action === "promotion_rolled_back")!;
    expect(audit.reason).toContain("cms_provider_change opened within 900s of promoting web-staging v1.1.0");
    // Another drift within the window: the rollback is not issued again.
    const again = run([providerEvent(t(13 * MIN), "sanity", "provider.disconnected")], {
      state: out.state,
      now: t(12 * MIN),
    });
    expect(again.healCommands.filter((c) => c.action === "desired.rollback")).toEqual([]);
  });

  it("a drift after the verification window rolls nothing back", () => {
    const out = history().when(providerEvent(t(26 * MIN), "sanity", "provider.connected", { provider_role: "cms" }));
    expect(out.transitions.filter((d) => d.transition === "opened")).toHaveLength(1);
    expect(out.healCommands).toEqual([]);
  });
});

describe("promotion in blackwell.yaml", () => {
  const file = (promotion: string) => `apiVersion: blackwell.io/v1
kind: Composition
metadata: {client_id: acme}
spec:
  stacks:
    - stack_id: web-staging
      environment: staging
      providers: {cms: sanity}
    - stack_id: web-prod
      environment: prod
      providers: {cms: sanity}
${promotion}`;

  it("reads a stack's promotion with its defaults", () => {
    const parsed = parseBlackwellYaml(
      file(`      promotion: {from: web-staging, match: [providers, integrations], ignore: ["/providers/ssg"]}\n`),
      "blackwell.yaml",
    );
    expect(parsed.stacks[1]!.promotion).toEqual({
      from: "web-staging",
      match: ["providers", "integrations"],
      ignore_paths: ["/providers/ssg"],
      max_lag_seconds: 86_400,
      soak_seconds: 1800,
      verify_window_seconds: 900,
      rollback_on: [],
    });
  });

  it("refuses rolling back on promotion_drift: the earlier stack moving on would roll back a healthy version", () => {
    expect(() =>
      parseBlackwellYaml(
        file(`      promotion: {from: web-staging, match: [providers], verify: {rollback_on: [promotion_drift]}}\n`),
        "blackwell.yaml",
      ),
    ).toThrow(/promotion.rollback_on: cannot name promotion_drift/);
  });

  it("a promotion is bookkeeping, not content: the promoted version has the hash of the same content applied", () => {
    const stack = parseBlackwellYaml(file(`      promotion: {from: web-staging, match: [providers]}\n`), "b.yaml")
      .stacks[1]!;
    expect(desiredHash({ ...stack, promoted_from: { stack_id: "web-staging", state_version: "v1.2.0" } })).toBe(
      stack.desired_hash,
    );
  });

  it("refuses an unknown stack, a part that cannot be promoted, a bad pointer and an unknown kind, each with its line", () => {
    const refused = () =>
      parseBlackwellYaml(
        file(`      promotion:
        from: web-qa
        match: [policy]
        ignore: ["no-slash"]
        verify: {rollback_on: [everything]}
`),
        "blackwell.yaml",
      );
    expect(refused).toThrow(/blackwell.yaml:13: spec.stacks.1.promotion.from: no stack web-qa in this file/);
    expect(refused).toThrow(/blackwell.yaml:14: spec.stacks.1.promotion.match.0/);
    expect(refused).toThrow(/blackwell.yaml:15: spec.stacks.1.promotion.ignore.0/);
    expect(refused).toThrow(/blackwell.yaml:16: spec.stacks.1.promotion.verify.rollback_on.0/);
  });
});

describe("coordinated healing across environments", () => {
  const healing = {
    ...desiredStack().policy,
    auto_heal: { ...desiredStack().policy.auto_heal, enabled: true, allowed_drift_types: ["resource_unhealthy"] },
  };
  const db = [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:acme", ignore_paths: [] }];
  const both = (coordinate: boolean) =>
    given(
      staging(t(0), "https://a", "v1.0.0", { resources: db, policy: healing }),
      prod(t(0), "https://a", {
        resources: db,
        policy: healing,
        promotion: spec({ match: ["resources"], ...(coordinate ? { coordinate_heals: true } : {}) }),
      }),
    );
  const unhealthy = (env: string, at: number) => resourceEvent(at, "db", "unhealthy", { environment: env });
  const healthy = (env: string, at: number) => resourceEvent(at, "db", "healthy", { environment: env });

  it("heals the earlier environment first, and the later one once the earlier one's drift has resolved", () => {
    const out = both(true).when(unhealthy("staging", t(60)), unhealthy("prod", t(61)));
    expect(out.healCommands.map((c) => [c.stack_id, c.action])).toEqual([["web-staging", "resource.rebuild"]]);
    const waiting = out.audits.find((a) => a.action === "heal_wait_earlier")!;
    expect([waiting.stack_id, waiting.reason]).toEqual([
      "web-prod",
      "web-staging has the same resource_unhealthy on db open: it is healed and verified there first",
    ]);
    // Staging's db reports healthy: its drift resolves, and prod's heal goes out in the same pass.
    const verified = run([healthy("staging", t(300))], { state: out.state, now: t(61) });
    expect(verified.transitions.map((d) => [d.stack_id, d.transition])).toEqual([["web-staging", "resolved"]]);
    expect(verified.healCommands.map((c) => [c.stack_id, c.action])).toEqual([["web-prod", "resource.rebuild"]]);
  });

  it("without coordinate_heals, both environments heal at once", () => {
    const out = both(false).when(unhealthy("staging", t(60)), unhealthy("prod", t(61)));
    expect(out.healCommands.map((c) => c.stack_id)).toEqual(["web-staging", "web-prod"]);
  });
});
