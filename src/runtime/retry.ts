/**
 * The one retry loop: jittered exponential backoff with a bail-out. A policy
 * is validated when it is built (at start-up), not at the first failure; a
 * non-retriable error or an aborted signal stops at once. The delays come from
 * the core's backoff formula, so client retries and heal scheduling grow alike.
 */
import { setTimeout as sleepFor } from "node:timers/promises";
import { backoffDelayMs, JITTERS, type BackoffShape, type Jitter } from "../core/policy/backoff.js";
import { BlackwellError } from "../errors.js";

export interface RetryPolicyOptions {
  /** Tries in all, the first included. Default 4. */
  attempts?: number;
  /** Delay before the first retry, ms. Default 500. */
  initialMs?: number;
  /** Cap of any delay, ms. Default 30 000. */
  maxMs?: number;
  /** Growth per retry. Default 2. */
  factor?: number;
  /**
   * Default `equal`: at least half of each delay is kept, so a server that
   * asked us to slow down (429, 5xx) still gets that pause, while clients that
   * failed together no longer retry in lockstep.
   */
  jitter?: Jitter;
}

/** A validated retry policy (build it with `retryPolicy`). */
export interface RetryPolicy extends BackoffShape {
  readonly attempts: number;
}

/** Builds a retry policy; throws BLACKWELL_ERR_CONFIG on settings that cannot work. */
export function retryPolicy(options: RetryPolicyOptions = {}): RetryPolicy {
  const policy: RetryPolicy = {
    attempts: options.attempts ?? 4,
    strategy: "exponential",
    initialMs: options.initialMs ?? 500,
    maxMs: options.maxMs ?? 30_000,
    factor: options.factor ?? 2,
    jitter: options.jitter ?? "equal",
  };
  const { attempts, initialMs, maxMs, factor, jitter } = policy;
  const problems = [
    Number.isInteger(attempts) && attempts >= 1 ? null : `attempts must be an integer of at least 1, got ${attempts}`,
    Number.isFinite(initialMs) && initialMs >= 0 ? null : `initialMs must be a finite number >= 0, got ${initialMs}`,
    Number.isFinite(maxMs) && maxMs >= initialMs ? null : `maxMs must be finite and >= initialMs, got ${maxMs}`,
    Number.isFinite(factor) && factor >= 1 ? null : `factor must be a finite number >= 1, got ${factor}`,
    JITTERS.includes(jitter) ? null : `jitter must be one of ${JITTERS.join(", ")}, got ${String(jitter)}`,
  ].filter((p): p is string => p !== null);
  if (problems.length > 0) {
    throw new BlackwellError("BLACKWELL_ERR_CONFIG", `invalid retry policy: ${problems.join("; ")}`);
  }
  return Object.freeze(policy);
}

export interface RetryOptions {
  /** Whether a failure may be retried. Default: every error is. */
  retriable?: (err: unknown) => boolean;
  /** Called before waiting for retry `attempt` (2, 3, ...), with the error that caused it. */
  onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void;
  /** Stops retrying (and any wait) at once; the signal's reason is thrown. */
  signal?: AbortSignal;
  /** Source of jitter in [0, 1). Default Math.random; tests inject a seeded one. */
  random?: () => number;
  /** Waits `ms`, or rejects when `signal` aborts. Default: a timer; tests inject one that does not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  sleepFor(ms, undefined, signal ? { signal } : {});

/**
 * Runs `fn` (given the attempt number, 1-based) until it resolves, a failure
 * is not retriable, the signal aborts or the policy's attempts are spent; then
 * throws the last error (or the signal's reason).
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  options: RetryOptions = {},
): Promise<T> {
  const { retriable = () => true, onRetry, signal, random = Math.random, sleep = defaultSleep } = options;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !retriable(error)) throw error;
      signal?.throwIfAborted();
      const delayMs = backoffDelayMs(policy, attempt, random());
      onRetry?.({ error, attempt: attempt + 1, delayMs });
      try {
        await sleep(delayMs, signal);
      } catch (err) {
        // Timers reject with a generic AbortError; callers asked for their own reason.
        signal?.throwIfAborted();
        throw err;
      }
    }
  }
}
