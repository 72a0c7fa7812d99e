/**
 * `npm run bench -- --predict`: how well the predictor foresees drift. Runs the prediction workload
 * (bench/predict-workload.ts) through the reconciler's own pass logic (TaskPass: fold, judge, predict, with every
 * re-evaluation deadline honoured at its stream time, as the reconciler does), in process and without Kafka (the
 * transport does not change what the pure core decides: replay equality is tested elsewhere), and scores the
 * predictions against the drifts that opened:
 * - recall: the share of drifts with a precursor that had a prediction confirmed when they opened (target >= 70%);
 * - precision: confirmed predictions of all settled ones (target >= 80%);
 * - median lead time of the confirmed ones;
 * - the share of drifts without a precursor that were "predicted" (should be near 0).
 */
import type { ClientState } from "../src/core/model/client-state.js";
import type { DriftTransition, PredictionTransition } from "../src/core/model/outputs.js";
import { TaskPass, type ClientLookup } from "../src/runtime/task-pass.js";
import { predictWorkload, type Incident } from "./predict-workload.js";

export interface PredictBenchOptions {
  clients: number;
  days: number;
  seed: number;
}

/** Records per pass: outputs other than drift transitions and predictions are dropped between passes. */
const PASS_RECORDS = 20_000;

class MemoryStore implements ClientLookup {
  readonly states = new Map<string, ClientState>();
  readonly deadlines = new Map<string, number | null>();
  get(client_id: string): ClientState | undefined {
    return this.states.get(client_id);
  }
  dueBetween(after: number, upTo: number): Array<{ client_id: string; deadline: number }> {
    const due: Array<{ client_id: string; deadline: number }> = [];
    for (const [client_id, deadline] of this.deadlines)
      if (deadline !== null && deadline > after && deadline <= upTo) due.push({ client_id, deadline });
    return due.sort((a, b) => a.deadline - b.deadline || (a.client_id < b.client_id ? -1 : 1));
  }
  nextDeadlineAfter(after: number): number | null {
    let next: number | null = null;
    for (const d of this.deadlines.values()) if (d !== null && d > after && (next === null || d < next)) next = d;
    return next;
  }
}

export function runPredictBench(o: PredictBenchOptions) {
  const started = Date.now();
  const start = Date.parse("2026-11-01T00:00:00Z");
  const { records, incidents, noise } = predictWorkload({ ...o, start });
  const generatedMs = Date.now() - started;
  const store = new MemoryStore();
  const transitions: DriftTransition[] = [];
  const predictions: PredictionTransition[] = [];
  let streamTime = Number.NEGATIVE_INFINITY;
  const flush = (pass: TaskPass) => {
    for (const [id, state] of pass.clients) store.states.set(id, state);
    for (const [id, deadline] of pass.deadlines) store.deadlines.set(id, deadline);
    transitions.push(...pass.outputs.transitions);
    predictions.push(...(pass.outputs.predictions ?? []));
    streamTime = pass.now;
  };
  for (let i = 0; i < records.length; i += PASS_RECORDS) {
    const pass = new TaskPass(store, streamTime);
    for (const [k, input] of records.slice(i, i + PASS_RECORDS).entries()) {
      const late = pass.take(input.at);
      pass.applyRecord(input, { role: "bench", partition: 0, offset: String(i + k), timestamp: input.at }, late);
    }
    flush(pass);
  }
  // Up to the end of the workload, not past it: after its last event every provider and resource falls silent.
  const last = new TaskPass(store, streamTime);
  last.advance(start + o.days * 86_400_000, "end");
  flush(last);
  const simulatedMs = Date.now() - started - generatedMs;
  if (process.env.PREDICT_DEBUG)
    for (const p of predictions.filter((x) => x.transition === "expired" && x.precursor === process.env.PREDICT_DEBUG))
      console.error(
        JSON.stringify({
          ...p,
          incidents: incidents
            .filter((i) => i.drift_id === p.drift_id)
            .map((i) => [i.scenario, new Date(i.opens_at).toISOString()]),
          predicted: new Date(p.predicted_at).toISOString(),
          expected: new Date(p.expected_at).toISOString(),
        }),
      );
  return {
    ...score(incidents, transitions, predictions),
    noise_patterns: noise.length,
    records: records.length,
    generatedMs,
    simulatedMs,
  };
}

function score(incidents: Incident[], transitions: DriftTransition[], predictions: PredictionTransition[]) {
  // Each incident is matched with the opening of its drift nearest after its planned time.
  const openings = new Map<string, number[]>();
  for (const t of transitions)
    if (t.transition === "opened")
      (openings.get(t.drift_id) ?? openings.set(t.drift_id, []).get(t.drift_id)!).push(t.at);
  const confirmedAt = new Map<string, PredictionTransition[]>();
  for (const p of predictions)
    if (p.transition === "confirmed")
      (confirmedAt.get(p.drift_id) ?? confirmedAt.set(p.drift_id, []).get(p.drift_id)!).push(p);
  const rows = incidents.map((i) => {
    const opened = (openings.get(i.drift_id) ?? []).find(
      (at) => at >= i.opens_at - 5 * 60_000 && at <= i.opens_at + 3_600_000,
    );
    const confirmed =
      opened === undefined ? undefined : (confirmedAt.get(i.drift_id) ?? []).find((p) => p.at === opened);
    return {
      ...i,
      opened: opened !== undefined,
      predicted: confirmed !== undefined,
      lead_ms: confirmed?.lead_ms ?? null,
    };
  });
  const withPrecursor = rows.filter((r) => r.precursor && r.opened);
  const without = rows.filter((r) => !r.precursor && r.opened);
  const settled = predictions.filter((p) => p.transition !== "predicted");
  const confirmed = settled.filter((p) => p.transition === "confirmed");
  const leads = confirmed.map((p) => p.lead_ms!).sort((a, b) => a - b);
  const share = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 1000) / 10);
  const byScenario: Record<string, { drifts: number; predicted: number; recall_pct: number | null }> = {};
  for (const r of rows.filter((x) => x.opened)) {
    const s = (byScenario[r.scenario] ??= { drifts: 0, predicted: 0, recall_pct: null });
    s.drifts++;
    if (r.predicted) s.predicted++;
  }
  for (const s of Object.values(byScenario)) s.recall_pct = share(s.predicted, s.drifts);
  const byPrecursor: Record<
    string,
    { made: number; confirmed: number; expired: number; precision_pct: number | null }
  > = {};
  for (const p of predictions) {
    const b = (byPrecursor[p.precursor] ??= { made: 0, confirmed: 0, expired: 0, precision_pct: null });
    if (p.transition === "predicted") b.made++;
    else if (p.transition === "confirmed") b.confirmed++;
    else b.expired++;
  }
  for (const b of Object.values(byPrecursor)) b.precision_pct = share(b.confirmed, b.confirmed + b.expired);
  // The same figures counting only predictions at or above a confidence (what a policy acting on them would see).
  const bands: Record<string, { recall_with_precursor_pct: number | null; precision_pct: number | null }> = {};
  for (const floor of [0.7, 0.8]) {
    const sure = settled.filter((p) => p.confidence >= floor);
    const sureConfirmed = new Set(sure.filter((p) => p.transition === "confirmed").map((p) => `${p.drift_id}@${p.at}`));
    const hit = withPrecursor.filter((r) => {
      const at = (openings.get(r.drift_id) ?? []).find(
        (x) => x >= r.opens_at - 5 * 60_000 && x <= r.opens_at + 3_600_000,
      );
      return at !== undefined && sureConfirmed.has(`${r.drift_id}@${at}`);
    });
    bands[`confidence >= ${floor}`] = {
      recall_with_precursor_pct: share(hit.length, withPrecursor.length),
      precision_pct: share(sureConfirmed.size, sure.length),
    };
  }
  return {
    incidents: rows.length,
    incidents_not_opened: rows.filter((r) => !r.opened).length,
    drifts_with_precursor: withPrecursor.length,
    drifts_without_precursor: without.length,
    recall_with_precursor_pct: share(withPrecursor.filter((r) => r.predicted).length, withPrecursor.length),
    precision_pct: share(confirmed.length, settled.length),
    predictions_made: predictions.filter((p) => p.transition === "predicted").length,
    predictions_confirmed: confirmed.length,
    predictions_expired: settled.length - confirmed.length,
    median_lead_minutes: leads.length === 0 ? null : Math.round((leads[leads.length >> 1]! / 60_000) * 10) / 10,
    without_precursor_predicted_pct: share(without.filter((r) => r.predicted).length, without.length),
    drifts_opened_total: transitions.filter((t) => t.transition === "opened").length,
    by_confidence: bands,
    by_scenario: byScenario,
    by_precursor: byPrecursor,
  };
}
