import { describe, expect, it } from "vitest";
import { parseRate, RateBudgets } from "../../src/executor/rate-budget.js";

const budgets = () => new RateBudgets(() => ({ total: parseRate("4/min"), perClient: parseRate("2/min") }));

describe("executor rate budgets", () => {
  it("gives a client only its share, leaving the rest of the target for others", () => {
    const b = budgets();
    expect(b.take("codebuild", "noisy", 0).granted).toBe(true);
    expect(b.take("codebuild", "noisy", 0).granted).toBe(true);
    const refused = b.take("codebuild", "noisy", 0);
    expect(refused).toMatchObject({ granted: false, reason: expect.stringContaining("noisy") });
    expect(b.take("codebuild", "quiet", 0).granted).toBe(true);
  });

  it("refuses everyone once the target's total is spent, and says when to retry", () => {
    const b = budgets();
    for (const c of ["a", "a", "b", "b"]) expect(b.take("codebuild", c, 0).granted).toBe(true);
    const refused = b.take("codebuild", "c", 0);
    expect(refused.granted).toBe(false);
    if (!refused.granted) expect(refused.retryInMs).toBe(15_000); // 4/min refills one token per 15 s
    expect(b.take("codebuild", "c", 15_000).granted).toBe(true);
  });

  it("keeps targets apart", () => {
    const b = budgets();
    b.take("codebuild", "a", 0);
    b.take("codebuild", "a", 0);
    expect(b.take("integration-api:sanity", "a", 0).granted).toBe(true);
  });

  it("refuses malformed rates with the accepted forms", () => {
    expect(parseRate("30/min")).toEqual({ tokens: 30, perMs: 60_000 });
    expect(() => parseRate("fast")).toThrow(/<n>\/s/);
    expect(() => parseRate("0/s")).toThrow();
  });
});

describe("the executors' global circuit breaker", () => {
  it("opens at max heals per window, says until when, and closes as the window frees a slot", async () => {
    const { GlobalBreaker } = await import("../../src/executor/global-breaker.js");
    const b = new GlobalBreaker(2, 60_000);
    expect(b.openUntil(0)).toBeNull();
    b.record(0, "cmd-a");
    b.record(10_000, "cmd-b");
    expect(b.openUntil(20_000)).toBe(60_000);
    expect(b.opening).toBe(20_000);
    expect(b.openUntil(59_999)).toBe(60_000);
    expect(b.openUntil(60_000)).toBeNull();
    expect(b.opening).toBeNull();
  });

  it("counts the fleet's actions seen on heal-results once per command key, its own included, and forgets old ones", async () => {
    const { GlobalBreaker } = await import("../../src/executor/global-breaker.js");
    const b = new GlobalBreaker(3, 60_000);
    b.record(100_000, "mine");
    b.observe(100_050, "mine", 100_100); // this executor's own result coming back: not a second action
    b.observe(90_000, "peer-1", 100_100);
    b.observe(30_000, "too-old", 100_100); // outside the window when seen
    expect(b.count(100_100)).toBe(2);
    expect(b.openUntil(100_100)).toBeNull();
    b.observe(100_200, "peer-2", 100_300);
    b.observe(100_250, "peer-2", 100_300); // its "succeeded" after "started"
    expect(b.openUntil(100_300)).toBe(150_000); // peer-1's slot frees first
    expect(b.openUntil(150_000)).toBeNull();
  });
});
