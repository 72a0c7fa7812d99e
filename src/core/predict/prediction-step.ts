/**
 * The life of a prediction within a pass: a precursor at or above the
 * emission floor is `predicted` once; when the drift it names opens before the
 * prediction's horizon it is `confirmed` (with its lead time), else `expired`
 * (also when the drift was prevented by a heal started early on it).
 */
import { derivedId } from "../ids.js";
import type { OpenPrediction } from "../model/client-state.js";
import type { PredictionTransition } from "../model/outputs.js";
import type { PredictionCandidate } from "./precursors.js";

/**
 * Predictions less sure than this are not made: a published prediction should come true at least 7 times in 10.
 * (Two webhook failures of 3, with no earlier streak of that webhook to learn from, are 0.67: not published.)
 */
export const PREDICTION_FLOOR = 0.7;

export interface PredictionStepContext {
  client_id: string;
  stack_id: string;
  now: number;
  reconciliation_id: string;
  /** Drifts this pass opened. */
  opened: ReadonlySet<string>;
  /** Drifts open after this pass. */
  open: ReadonlySet<string>;
}

export interface PredictionStepResult {
  predictions: Record<string, OpenPrediction>;
  transitions: PredictionTransition[];
  /** Newly made predictions (a policy may act on them early). */
  made: OpenPrediction[];
  /** The earliest horizon still open (it expires then without an event). */
  nextAt: number | null;
}

export function predictionStep(
  before: Readonly<Record<string, OpenPrediction>>,
  candidates: readonly PredictionCandidate[],
  ctx: PredictionStepContext,
): PredictionStepResult {
  const out: PredictionStepResult = { predictions: {}, transitions: [], made: [], nextAt: null };
  const emit = (p: OpenPrediction, transition: PredictionTransition["transition"], note: string | null) =>
    out.transitions.push({
      event_id: derivedId("pred", p.drift_id, p.predicted_at, transition),
      reconciliation_id: ctx.reconciliation_id,
      client_id: ctx.client_id,
      stack_id: ctx.stack_id,
      drift_id: p.drift_id,
      transition,
      drift_type: p.type,
      kind: p.kind,
      component: p.component,
      precursor: p.precursor,
      confidence: p.confidence,
      evidence: p.evidence,
      predicted_at: p.predicted_at,
      expected_at: p.expected_at,
      horizon_until: p.horizon_until,
      at: ctx.now,
      lead_ms: transition === "confirmed" ? ctx.now - p.predicted_at : null,
      preempted: p.preempted,
      note,
    });
  for (const id of Object.keys(before)) {
    const p = before[id]!;
    if (ctx.opened.has(id)) {
      emit(p, "confirmed", null);
    } else if (ctx.open.has(id)) {
      emit(p, "expired", "the drift was already open");
    } else if (ctx.now > p.horizon_until) {
      emit(
        p,
        "expired",
        p.preempted
          ? "a heal started early on it; the drift did not open"
          : "the drift did not open within the horizon",
      );
    } else {
      out.predictions[id] = p;
    }
  }
  for (const c of candidates) {
    if (c.confidence < PREDICTION_FLOOR || ctx.open.has(c.drift_id) || out.predictions[c.drift_id]) continue;
    if (before[c.drift_id]) continue; // settled in this pass: a new prediction waits for the next precursor
    const p: OpenPrediction = {
      drift_id: c.drift_id,
      type: c.type,
      kind: c.kind,
      component: c.component,
      precursor: c.precursor,
      predicted_at: ctx.now,
      expected_at: c.expected_at,
      horizon_until: c.horizon_until,
      confidence: c.confidence,
      evidence: c.evidence,
      preempted: false,
    };
    out.predictions[c.drift_id] = p;
    out.made.push(p);
    emit(p, "predicted", null);
  }
  for (const p of Object.values(out.predictions))
    out.nextAt = Math.min(out.nextAt ?? p.horizon_until + 1, p.horizon_until + 1);
  return out;
}
