import { describe, expect, it } from "vitest";
import { backoffMs } from "../../../src/core/policy/backoff.js";
import { decideHeal, type HealHistory } from "../../../src/core/policy/heal-decision.js";
import type { ReconciliationPolicy } from "../../../src/core/model/desired.js";
import { desiredStack } from "../../support/core-spec.js";

const policy = (autoHeal: Partial<ReconciliationPolicy["auto_heal"]> = {}): ReconciliationPolicy => {
  const base = desiredStack().policy;
  return {
    ...base,
    auto_heal: {
      ...base.auto_heal,
      enabled: true,
      allowed_drift_types: ["resource_unhealthy", "provider_missing"],
      require_approval: ["cms_provider_change"],
      ...autoHeal,
    },
  };
};
const fresh: HealHistory = { attempts: 0, lastIssuedAt: null, approvedBy: null, rejected: false };
const NOW = 1_000_000;

describe("heal policy", () => {
  it("alerts only when auto-heal is off, the stack is paused, or the kind is not allowed", () => {
    expect(
      decideHeal(policy({ enabled: false }), "resource_unhealthy", fresh, { now: NOW, paused: false }),
    ).toMatchObject({ decision: "alert_only", reason: "auto-heal is off in the policy" });
    expect(decideHeal(policy(), "resource_unhealthy", fresh, { now: NOW, paused: true }).decision).toBe("alert_only");
    expect(decideHeal(policy(), "site_stale", fresh, { now: NOW, paused: false })).toMatchObject({
      decision: "alert_only",
      reason: "site_stale is not in allowed_drift_types",
    });
  });

  it("heals an allowed kind now with the action that fixes it", () => {
    expect(decideHeal(policy(), "resource_unhealthy", fresh, { now: NOW, paused: false })).toEqual({
      decision: "heal_now",
      reason: "resource_unhealthy is allowed to auto-heal",
      action: "resource.rebuild",
      attempt: 1,
      notBefore: NOW,
    });
    expect(decideHeal(policy(), "provider_missing", fresh, { now: NOW, paused: false })).toMatchObject({
      action: "provider.register",
    });
  });

  it("waits for approval of a gated kind, heals once approved, and never after a rejection", () => {
    expect(decideHeal(policy(), "cms_provider_change", fresh, { now: NOW, paused: false }).decision).toBe(
      "await_approval",
    );
    expect(
      decideHeal(policy(), "cms_provider_change", { ...fresh, approvedBy: "ops@acme" }, { now: NOW, paused: false }),
    ).toMatchObject({ decision: "heal_now", reason: "approved by ops@acme" });
    expect(
      decideHeal(
        policy(),
        "cms_provider_change",
        { ...fresh, approvedBy: "ops@acme", rejected: true },
        { now: NOW, paused: false },
      ).decision,
    ).toBe("alert_only");
  });

  it("spaces retries by the exponential backoff, capped, and gives up at max attempts", () => {
    const p = policy({
      backoff_strategy: "exponential",
      backoff_base_seconds: 30,
      backoff_cap_seconds: 100,
      max_attempts: 4,
    });
    expect([2, 3, 4, 5].map((a) => backoffMs(p.auto_heal, a))).toEqual([30_000, 60_000, 100_000, 100_000]);
    const afterOne = { ...fresh, attempts: 1, lastIssuedAt: NOW };
    expect(decideHeal(p, "resource_unhealthy", afterOne, { now: NOW + 29_999, paused: false })).toMatchObject({
      decision: "wait_backoff",
      notBefore: NOW + 30_000,
    });
    expect(decideHeal(p, "resource_unhealthy", afterOne, { now: NOW + 30_000, paused: false })).toMatchObject({
      decision: "heal_now",
      attempt: 2,
      notBefore: NOW + 30_000,
    });
    expect(
      decideHeal(
        p,
        "resource_unhealthy",
        { ...fresh, attempts: 4, lastIssuedAt: NOW },
        { now: NOW + 10_000_000, paused: false },
      ),
    ).toMatchObject({ decision: "exhausted", reason: "4 of 4 attempts made" });
  });

  it("spaces retries linearly when the policy says linear", () => {
    const p = policy({ backoff_strategy: "linear", backoff_base_seconds: 30, backoff_cap_seconds: 900 });
    expect([2, 3, 4].map((a) => backoffMs(p.auto_heal, a))).toEqual([30_000, 60_000, 90_000]);
  });
});
