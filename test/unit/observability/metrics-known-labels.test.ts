/**
 * Counters export their known label sets at 0 before the first event: Prometheus sees the first drift of a kind and
 * the first heal as an increase (a series born at 1 is not one), and failure counters read 0, not "no data".
 */
import { describe, expect, it } from "vitest";
import { DRIFT_TYPES, HEAL_ACTIONS } from "../../../src/core/model/vocabulary.js";
import { createMetrics, recordHeal, recordPass } from "../../../src/observability/metrics.js";

const sample = (text: string, name: string, labels: string) =>
  new RegExp(`^${name}\\{${labels.replace(/[.]/g, "\\.")}\\} (\\S+)$`, "m").exec(text)?.[1];

describe("createMetrics", () => {
  it("exports every drift type x severity, heal action and trigger at 0 before anything happened", async () => {
    const text = await createMetrics().registry.metrics();
    for (const t of DRIFT_TYPES) {
      for (const s of ["low", "medium", "high", "critical"])
        expect(sample(text, "drift_detected_total", `drift_type="${t}",severity="${s}"`), `${t}/${s}`).toBe("0");
      expect(sample(text, "drift_resolved_total", `drift_type="${t}"`), t).toBe("0");
    }
    for (const a of HEAL_ACTIONS)
      for (const name of ["auto_heal_attempts_total", "auto_heal_success_total", "auto_heal_failure_total"])
        expect(sample(text, name, `action="${a}"`), `${name} ${a}`).toBe("0");
    for (const trigger of ["event", "schedule"]) {
      expect(sample(text, "reconciliation_success_total", `trigger="${trigger}"`)).toBe("0");
      expect(sample(text, "reconciliation_failure_total", `trigger="${trigger}"`)).toBe("0");
    }
    expect(sample(text, "dlq_records_total", `source="reconciler"`)).toBe("0");
    expect(sample(text, "drift_predictions_total", `transition="confirmed",precursor="recurring"`)).toBe("0");
    expect(sample(text, "notifications_total", `channel="slack",outcome="failed"`)).toBe("0");
  });

  it("counts on top of the zeros", async () => {
    const m = createMetrics();
    recordPass(m, {
      records: 1,
      dlq: 0,
      durationMs: 5,
      newestEventAt: null,
      outputs: {
        transitions: [{ transition: "opened", drift_type: "resource", severity: "high" }],
        healCommands: [{ action: "resource.rebuild" }],
        predictions: [{ transition: "predicted", precursor: "silence" }],
      },
    });
    recordHeal(m, "resource.rebuild", "succeeded");
    const text = await m.registry.metrics();
    expect(sample(text, "drift_detected_total", `drift_type="resource",severity="high"`)).toBe("1");
    expect(sample(text, "drift_detected_total", `drift_type="resource",severity="low"`)).toBe("0");
    expect(sample(text, "auto_heal_attempts_total", `action="resource.rebuild"`)).toBe("1");
    expect(sample(text, "auto_heal_success_total", `action="resource.rebuild"`)).toBe("1");
    expect(sample(text, "reconciliation_success_total", `trigger="event"`)).toBe("1");
    expect(sample(text, "drift_predictions_total", `transition="predicted",precursor="silence"`)).toBe("1");
  });
});
