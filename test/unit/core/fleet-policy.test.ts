/** Fleet policy: what a stack inherits, where each field comes from, and what the rules refuse. */
import { describe, expect, it } from "vitest";
import { parseBlackwellYaml, parseFleetPolicy } from "../../../src/adapters/yaml/parse-blackwell-yaml.js";
import { policySources, ruleViolations } from "../../../src/core/policy/fleet-policy.js";
import type { FleetPolicy } from "../../../src/core/policy/fleet-policy.js";
import { underFleet } from "../../../src/runtime/fleet-policy.js";

const composition = (policy: string) =>
  parseBlackwellYaml(
    `apiVersion: blackwell.io/v1
kind: Composition
metadata: {client_id: acme}
spec:
  stacks:
    - stack_id: web
      environment: prod
      providers: {cms: sanity}
${policy}`,
    "blackwell.yaml",
  ).stacks[0]!;

const fleet = (text: string, version = 1): FleetPolicy => ({
  version,
  set_at: "2026-12-01T00:00:00.000Z",
  set_by: "platform",
  reason: null,
  ...parseFleetPolicy(text, "fleet.yaml"),
});

const FLEET = `
defaults:
  auto_heal:
    enabled: true
    max_attempts: 2
    allowed_drift_types: [resource_unhealthy]
    circuit_breaker: {max_heals: 4, window: 1h}
rules:
  max_attempts_at_most: 5
`;

describe("fleet policy inheritance", () => {
  it("given fleet defaults, a stack that sets nothing inherits them, and one that sets a field keeps its own", () => {
    const silent = underFleet(composition(""), fleet(FLEET)).stack;
    expect(silent.policy.auto_heal).toMatchObject({
      enabled: true,
      max_attempts: 2,
      allowed_drift_types: ["resource_unhealthy"],
      circuit_breaker: { max_heals: 4, window_seconds: 3600 },
    });
    expect(silent.fleet_policy_version).toBe(1);

    const own = underFleet(
      composition(`      policy:
        auto_heal:
          max_attempts: 4
          allowed_drift_types: [site_stale]
`),
      fleet(FLEET),
    ).stack;
    // Its own attempts and kinds (a list is replaced, not merged); the rest from the fleet.
    expect(own.policy.auto_heal).toMatchObject({
      enabled: true,
      max_attempts: 4,
      allowed_drift_types: ["site_stale"],
      circuit_breaker: { max_heals: 4, window_seconds: 3600 },
    });
  });

  it("without a fleet policy, the effective policy is what the file says (the same desired hash as before)", () => {
    const stack = composition(`      policy:
        auto_heal: {enabled: true, allowed_drift_types: [site_stale]}
`);
    const under = underFleet(stack, null).stack;
    expect(under.policy).toEqual(stack.policy);
    expect(under.desired_hash).toBe(stack.desired_hash);
  });

  it("a new fleet default changes the hash of a stack that inherits it, not of one that sets the field", () => {
    const inherits = composition("");
    const sets = composition(`      policy:
        auto_heal: {max_attempts: 3}
`);
    const v1 = fleet(`defaults: {auto_heal: {max_attempts: 2}}`);
    const v2 = fleet(`defaults: {auto_heal: {max_attempts: 1}}`, 2);
    expect(underFleet(inherits, v1).stack.desired_hash).not.toBe(underFleet(inherits, v2).stack.desired_hash);
    expect(underFleet(sets, v1).stack.desired_hash).toBe(underFleet(sets, v2).stack.desired_hash);
  });

  it("explains where each field comes from: the stack, the fleet or the built-in default", () => {
    const stack = composition(`      policy:
        auto_heal: {max_attempts: 4}
`);
    const sources = Object.fromEntries(
      policySources(JSON.parse(stack.policy_declared_json!), fleet(FLEET).defaults).map((s) => [s.field, s.source]),
    );
    expect(sources).toMatchObject({
      "auto_heal.max_attempts": "stack",
      "auto_heal.enabled": "fleet",
      "auto_heal.circuit_breaker": "fleet",
      "auto_heal.backoff_strategy": "default",
      "schedule.interval": "default",
    });
    // A stack written before fleet policies owns its whole policy.
    expect(new Set(policySources(null, fleet(FLEET).defaults).map((s) => s.source))).toEqual(new Set(["stack"]));
  });
});

describe("fleet rules", () => {
  const rules = fleet(`
rules:
  approval_required_from_severity: critical
  max_attempts_at_most: 3
  never_auto_heal: [cms_provider_change]
`);

  it("refuse auto-healing a critical drift without an approval, too many attempts, and a kind never to auto-heal", () => {
    const stack = composition(`      policy:
        auto_heal:
          enabled: true
          max_attempts: 5
          allowed_drift_types: [provider_missing, cms_provider_change, site_stale]
`);
    const { violations } = underFleet(stack, rules);
    expect(violations.map((v) => [v.stack, v.path])).toEqual([
      ["acme/web", "auto_heal.max_attempts"],
      ["acme/web", "auto_heal.allowed_drift_types"],
      ["acme/web", "auto_heal.require_approval"],
      ["acme/web", "auto_heal.require_approval"],
    ]);
    expect(violations[0]!.message).toBe("is 5; the fleet policy allows at most 3");
    expect(violations.map((v) => v.message).join("\n")).toContain("must name provider_missing: it is critical");
  });

  it("name the preempt list when a kind never to auto-heal is healed early", () => {
    const early = composition(`      policy:
        auto_heal:
          enabled: true
          allowed_drift_types: [site_stale]
          preempt: {min_confidence: 0.8, drift_types: [cms_provider_change]}
          require_approval: [cms_provider_change]
`);
    expect(underFleet(early, rules).violations.map((v) => [v.path, v.message])).toEqual([
      [
        "auto_heal.preempt.drift_types",
        "heals cms_provider_change before it opens, which the fleet policy never lets auto-heal",
      ],
    ]);
  });

  it("accept a critical drift auto-healed with an approval, and anything while auto-heal is off", () => {
    const approved = composition(`      policy:
        auto_heal:
          enabled: true
          allowed_drift_types: [provider_missing, site_stale]
          require_approval: [provider_missing, cms_provider_change]
`);
    expect(underFleet(approved, rules).violations).toEqual([]);
    const off = composition(`      policy:
        auto_heal: {enabled: false, allowed_drift_types: [provider_missing]}
`);
    expect(ruleViolations(off.policy, rules.rules)).toEqual([]);
  });

  it("a fleet policy file is checked like a policy, every problem named with its line", () => {
    expect(() =>
      parseFleetPolicy(
        `defaults:
  auto_heal: {enabled: maybe}
rules:
  approval_required_from_severity: severe
  never_auto_heal: [everything]
  bogus: 1
`,
        "fleet.yaml",
      ),
    ).toThrow(/fleet.yaml is invalid \(4 problems\)/);
  });
});
