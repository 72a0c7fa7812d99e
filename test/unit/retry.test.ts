import { describe, expect, it } from "vitest";
import { retry, retryPolicy, type RetryOptions } from "../../src/runtime/retry.js";
import { BlackwellError } from "../../src/errors.js";

/** A seeded generator (mulberry32), so jittered delays are reproducible. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Records the waits instead of waiting. */
function fakeClock(): { slept: number[]; sleep: NonNullable<RetryOptions["sleep"]> } {
  const slept: number[] = [];
  return {
    slept,
    sleep: async (ms) => {
      slept.push(ms);
    },
  };
}

/** Fails `failures` times with `error`, then answers "ok". */
function flaky(failures: number, error: () => unknown = () => new Error("503")) {
  const calls: number[] = [];
  const fn = async (attempt: number) => {
    calls.push(attempt);
    if (calls.length <= failures) throw error();
    return "ok";
  };
  return { calls, fn };
}

describe("retryPolicy", () => {
  it.each([
    [{ attempts: 0 }, "attempts must be an integer of at least 1"],
    [{ attempts: 2.5 }, "attempts must be an integer of at least 1"],
    [{ initialMs: -1 }, "initialMs must be a finite number >= 0"],
    [{ initialMs: 1000, maxMs: 500 }, "maxMs must be finite and >= initialMs"],
    [{ factor: 0.5 }, "factor must be a finite number >= 1"],
    [{ jitter: "some" as never }, "jitter must be one of none, full, equal"],
  ])("refuses %j at build time with BLACKWELL_ERR_CONFIG", (options, message) => {
    expect(() => retryPolicy(options)).toThrow(message);
    expect(() => retryPolicy(options)).toThrow(BlackwellError);
    try {
      retryPolicy(options);
    } catch (err) {
      expect((err as BlackwellError).code).toBe("BLACKWELL_ERR_CONFIG");
    }
  });

  it("has working defaults: 4 attempts, 500 ms doubling, capped at 30 s, equal jitter", () => {
    expect(retryPolicy()).toMatchObject({ attempts: 4, initialMs: 500, factor: 2, maxMs: 30_000, jitter: "equal" });
  });
});

describe("retry", () => {
  it("retries a failing call with growing jittered delays until it succeeds", async () => {
    const clock = fakeClock();
    const { calls, fn } = flaky(3);
    const retries: number[] = [];
    const policy = retryPolicy({ attempts: 5, initialMs: 100, jitter: "equal" });
    const out = await retry(fn, policy, {
      sleep: clock.sleep,
      random: seeded(42),
      onRetry: (r) => retries.push(r.attempt),
    });
    expect(out).toBe("ok");
    expect(calls).toEqual([1, 2, 3, 4]);
    expect(retries).toEqual([2, 3, 4]);
    // Equal jitter: each wait lies in [half, whole] of 100, 200, 400.
    clock.slept.forEach((ms, i) => expect(ms).toBeGreaterThanOrEqual(50 * 2 ** i));
    clock.slept.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(100 * 2 ** i));
    // The same seed gives the same waits.
    const again = fakeClock();
    await retry(flaky(3).fn, policy, { sleep: again.sleep, random: seeded(42) });
    expect(again.slept).toEqual(clock.slept);
  });

  it("waits exactly the backoff without jitter", async () => {
    const clock = fakeClock();
    await retry(flaky(3).fn, retryPolicy({ attempts: 4, initialMs: 10, maxMs: 25, jitter: "none" }), {
      sleep: clock.sleep,
    });
    expect(clock.slept).toEqual([10, 20, 25]);
  });

  it("gives up after the policy's attempts and throws the last error", async () => {
    const clock = fakeClock();
    let n = 0;
    const { calls, fn } = flaky(10, () => new Error(`failure ${++n}`));
    await expect(retry(fn, retryPolicy({ attempts: 3 }), { sleep: clock.sleep })).rejects.toThrow("failure 3");
    expect(calls).toEqual([1, 2, 3]);
    expect(clock.slept).toHaveLength(2);
  });

  it("stops at once on an error that is not retriable", async () => {
    const clock = fakeClock();
    const { calls, fn } = flaky(10, () => new BlackwellError("BLACKWELL_ERR_INVALID_RECORD", "bad"));
    const retriable = (err: unknown) => !(err instanceof BlackwellError) || err.retriable;
    await expect(retry(fn, retryPolicy({ attempts: 5 }), { sleep: clock.sleep, retriable })).rejects.toThrow("bad");
    expect(calls).toEqual([1]);
    expect(clock.slept).toEqual([]);
  });

  it("does not start when the signal is already aborted", async () => {
    const { calls, fn } = flaky(0);
    await expect(retry(fn, retryPolicy(), { signal: AbortSignal.abort(new Error("shutting down")) })).rejects.toThrow(
      "shutting down",
    );
    expect(calls).toEqual([]);
  });

  it("stops retrying when the signal aborts during a call", async () => {
    const controller = new AbortController();
    const clock = fakeClock();
    const calls: number[] = [];
    const fn = async (attempt: number) => {
      calls.push(attempt);
      controller.abort(new Error("shutting down"));
      throw new Error("503");
    };
    await expect(
      retry(fn, retryPolicy({ attempts: 5 }), { signal: controller.signal, sleep: clock.sleep }),
    ).rejects.toThrow("shutting down");
    expect(calls).toEqual([1]);
    expect(clock.slept).toEqual([]);
  });

  it("wakes from a wait when the signal aborts (the real timer, so shutdown is not held up by a long backoff)", async () => {
    const controller = new AbortController();
    const { fn } = flaky(10);
    const started = performance.now();
    const running = retry(fn, retryPolicy({ attempts: 3, initialMs: 60_000, maxMs: 60_000, jitter: "none" }), {
      signal: controller.signal,
      onRetry: () => queueMicrotask(() => controller.abort(new Error("shutting down"))),
    });
    await expect(running).rejects.toThrow("shutting down");
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
