/**
 * The prediction benchmark on a small workload: it runs end to end through the reconciler's pass logic, and what it
 * scores is what happened (each incident matched with its opening, each prediction settled once).
 */
import { describe, expect, it } from "vitest";
import { runPredictBench } from "../../../bench/predict.js";

describe("npm run bench -- --predict (small)", () => {
  const result = runPredictBench({ clients: 12, days: 6, seed: 5 });

  it("opens the drifts the workload injected, and predicts none of those without a precursor", () => {
    expect(result.incidents).toBeGreaterThan(10);
    expect(result.incidents_not_opened).toBe(0);
    expect(result.drifts_without_precursor).toBeGreaterThan(0);
    expect(result.without_precursor_predicted_pct).toBe(0);
  });

  it("settles every prediction it made at most once, and confirms some before their drift opened", () => {
    const settled = result.predictions_confirmed + result.predictions_expired;
    expect(settled).toBeLessThanOrEqual(result.predictions_made);
    expect(result.predictions_confirmed).toBeGreaterThan(0);
    expect(result.median_lead_minutes).toBeGreaterThan(0);
    for (const p of Object.values(result.by_precursor)) expect(p.confirmed + p.expired).toBeLessThanOrEqual(p.made);
  });
});
