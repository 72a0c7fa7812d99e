/**
 * The one backoff formula family, shared by heal scheduling (the policy's
 * linear/exponential backoff between heal attempts) and client retries
 * (src/runtime/retry.ts). Pure: jitter takes its random number as an input,
 * so heal scheduling stays deterministic on replay (it uses no jitter).
 */
import type { ReconciliationPolicy } from "../model/desired.js";

/**
 * - `none`: the computed delay;
 * - `full`: uniformly between 0 and the delay (spreads contending clients most);
 * - `equal`: between half the delay and the delay (keeps at least half the wait).
 */
export type Jitter = "none" | "full" | "equal";
export const JITTERS: readonly Jitter[] = ["none", "full", "equal"];

/** How delays grow. */
export interface BackoffShape {
  /** `linear`: initial × n; `exponential`: initial × factor^(n-1), for the n-th retry. */
  strategy: "linear" | "exponential";
  /** Delay before the first retry, ms. */
  initialMs: number;
  /** No delay exceeds this (before jitter), ms. */
  maxMs: number;
  /** Growth per retry of an exponential backoff. */
  factor: number;
  jitter: Jitter;
}

/**
 * The delay before the `retry`-th retry (1 = the one after the first failure).
 * `random` is in [0, 1); it is only read when the shape has jitter.
 */
export function backoffDelayMs(shape: BackoffShape, retry: number, random = 0): number {
  if (retry < 1) return 0;
  const grown = shape.strategy === "linear" ? shape.initialMs * retry : shape.initialMs * shape.factor ** (retry - 1);
  const capped = Math.min(grown, shape.maxMs);
  switch (shape.jitter) {
    case "none":
      return capped;
    case "full":
      return Math.floor(capped * random);
    case "equal":
      return Math.floor(capped / 2 + (capped / 2) * random);
  }
}

/** The policy's heal backoff: delay before attempt `attempt` (2, 3, ...) after a failed or unverified one. */
export function backoffMs(policy: ReconciliationPolicy["auto_heal"], attempt: number): number {
  const shape: BackoffShape = {
    strategy: policy.backoff_strategy,
    initialMs: policy.backoff_base_seconds * 1000,
    maxMs: policy.backoff_cap_seconds * 1000,
    factor: 2,
    jitter: "none",
  };
  return backoffDelayMs(shape, attempt - 1);
}
