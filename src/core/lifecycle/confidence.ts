/**
 * How sure the reconciler is that a drift is real, in [0, 1]. A finding rests
 * on evidence of one of two kinds:
 * - observed: an event said so (a resource reported unhealthy, another
 *   provider active, a config that differs, webhook deliveries failing). Each
 *   later observation of the same finding (a newer evidence time) is another
 *   independent report.
 * - inferred from absence: a window ran out with nothing heard (a provider
 *   silent, a resource not reporting, content not built). One window elapsed is
 *   a single late observation; each further whole window of silence counts as
 *   one more.
 * With `base` the weight of one piece of evidence and n pieces,
 * confidence = 1 - (1 - base)^n, rounded to two decimals; n stops counting at
 * MAX_OBSERVATIONS, so a drift's confidence changes a bounded number of times.
 */
import type { DriftConfidence, Evidence } from "../model/client-state.js";

/** Weight of one report that says the component differs. */
export const OBSERVED_BASE = 0.75;
/** A resource reporting `degraded`: it works, badly; weaker than `unhealthy`. */
export const DEGRADED_BASE = 0.6;
/** A window that ran out with nothing heard: the evidence is an absence. */
export const ABSENCE_BASE = 0.5;
export const MAX_OBSERVATIONS = 4;

export function confidenceOf(base: number, observations: number): number {
  const n = Math.max(1, Math.min(observations, MAX_OBSERVATIONS));
  return Math.round((1 - (1 - base) ** n) * 100) / 100;
}

/**
 * The evidence of a finding at `now`, given what was counted for the same
 * opening so far (`before`, absent when the drift opens now).
 */
export function weigh(evidence: Evidence, now: number, before: DriftConfidence | undefined): DriftConfidence {
  let observations: number;
  let at: number;
  if (evidence.every_ms !== null) {
    // Whole windows of silence since the first one ran out, the first included.
    const windows = 1 + Math.floor(Math.max(0, now - evidence.at) / evidence.every_ms);
    observations = Math.min(windows, MAX_OBSERVATIONS);
    at = evidence.at + (observations - 1) * evidence.every_ms;
    // Evidence counted before (e.g. reports of the same component) is not lost when the basis turns to silence.
    if (before && before.observations > observations) observations = before.observations;
  } else if (before === undefined) {
    observations = 1;
    at = evidence.at;
  } else {
    const newer = evidence.at > before.evidence_at;
    observations = Math.min(before.observations + (newer ? 1 : 0), MAX_OBSERVATIONS);
    at = newer ? evidence.at : before.evidence_at;
  }
  return { value: confidenceOf(evidence.base, observations), observations, evidence_at: at };
}

/** When silence next counts as one more observation (null: observed evidence, or counting is done). */
export function nextWeighing(evidence: Evidence, weighed: DriftConfidence): number | null {
  if (evidence.every_ms === null || weighed.observations >= MAX_OBSERVATIONS) return null;
  return evidence.at + weighed.observations * evidence.every_ms;
}
