import { describe, expect, it } from "vitest";
import { backoffDelayMs, backoffMs, type BackoffShape } from "../../../src/core/policy/backoff.js";
import { desiredStack } from "../../support/core-spec.js";

const shape = (over: Partial<BackoffShape> = {}): BackoffShape => ({
  strategy: "exponential",
  initialMs: 100,
  maxMs: 1000,
  factor: 2,
  jitter: "none",
  ...over,
});
const delays = (s: BackoffShape, random = 0) => [1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(s, n, random));

describe("backoff delays", () => {
  it("grows exponentially by the factor up to the cap", () => {
    expect(delays(shape())).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(delays(shape({ factor: 3 }))).toEqual([100, 300, 900, 1000, 1000, 1000]);
  });

  it("grows linearly up to the cap", () => {
    expect(delays(shape({ strategy: "linear", maxMs: 450 }))).toEqual([100, 200, 300, 400, 450, 450]);
  });

  it("full jitter spreads the delay from 0 to the computed delay", () => {
    expect(delays(shape({ jitter: "full" }), 0)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(delays(shape({ jitter: "full" }), 0.5)).toEqual([50, 100, 200, 400, 500, 500]);
    expect(backoffDelayMs(shape({ jitter: "full" }), 4, 0.999_999)).toBe(799);
  });

  it("equal jitter keeps at least half the computed delay", () => {
    expect(delays(shape({ jitter: "equal" }), 0)).toEqual([50, 100, 200, 400, 500, 500]);
    expect(backoffDelayMs(shape({ jitter: "equal" }), 4, 0.999_999)).toBe(799);
  });

  it("has no delay before the first try", () => {
    expect(backoffDelayMs(shape(), 0)).toBe(0);
  });
});

describe("the policy's heal backoff (same formula, no jitter: a replay decides the same)", () => {
  const autoHeal = (strategy: "linear" | "exponential") => ({
    ...desiredStack().policy.auto_heal,
    backoff_strategy: strategy,
    backoff_base_seconds: 30,
    backoff_cap_seconds: 200,
  });

  it("waits base × 2^(attempt-2) before attempt 2, 3, ... up to the cap", () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(autoHeal("exponential"), a))).toEqual([
      0, 30_000, 60_000, 120_000, 200_000,
    ]);
  });

  it("waits base × (attempt-1) when linear", () => {
    expect([1, 2, 3, 4, 8].map((a) => backoffMs(autoHeal("linear"), a))).toEqual([0, 30_000, 60_000, 90_000, 200_000]);
  });
});
