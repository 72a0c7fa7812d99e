/** Replica rows (Avro field names) into the API's JSON shapes, with the spec's field names. */
import type { ReconciliationPolicy } from "../core/model/desired.js";
import { policyDocument } from "../core/policy/policy-document.js";
import type { Row } from "./replica.js";

const parse = (text: unknown): unknown => {
  try {
    return JSON.parse(String(text));
  } catch {
    return text;
  }
};

export function stateView(r: Row): Row {
  const details = (r.drift_details as Row[]).map((d) => ({
    drift_id: d.drift_id,
    type: d.type,
    component: d.component,
    expected: parse(d.expected_json),
    observed: parse(d.observed_json),
    severity: d.severity,
    detected_at: d.detected_at,
    acknowledged: d.acknowledged,
    confidence: d.confidence ?? null,
  }));
  return { ...r, drift_details: details };
}

export function driftStatus(client_id: string, states: Row[]): Row {
  const details: Row[] = states.flatMap((s) =>
    (stateView(s).drift_details as Row[]).map((d) => ({ ...d, stack_id: s.stack_id })),
  );
  const last =
    details
      .map((d) => String(d.detected_at))
      .sort()
      .at(-1) ?? null;
  const eligible = states.some(
    (s) => (s.drift_details as Row[]).length > 0 && (s.reconciliation_policy as Row).auto_heal === true,
  );
  return {
    client_id,
    has_drift: details.length > 0,
    drift_count: details.length,
    last_detected: last,
    drift_details: details,
    auto_heal_eligible: eligible,
    stacks: Object.fromEntries(states.map((s) => [s.stack_id, s.status])),
  };
}

/** The policy of a desired-state row in the spec's (and blackwell.yaml's) format. */
export function policyView(desired: Row): Row {
  return policyDocument(desired.policy as ReconciliationPolicy);
}

/** Drift transitions and audit entries of a client, newest first: the reconciliation history. */
export function historyView(drifts: Row[], audits: Row[], limit: number): Row[] {
  const events = [
    ...drifts.map((d) => ({
      kind: "drift",
      at: String(d.detected_at),
      reconciliation_id: d.reconciliation_id,
      stack_id: d.stack_id,
      transition: d.transition,
      drift_id: d.drift_id,
      drift_type: d.drift_type,
      component: d.component,
      severity: d.severity,
      expected: parse(d.expected_json),
      observed: parse(d.observed_json),
      auto_heal_eligible: d.auto_heal_eligible,
      auto_heal_attempted: d.auto_heal_attempted,
      confidence: d.confidence ?? null,
      note: d.note ?? null,
    })),
    ...audits.map((a) => ({
      kind: "audit",
      at: String(a.timestamp),
      stack_id: a.stack_id,
      action: a.action,
      drift_id: a.drift_id,
      triggered_by: a.triggered_by,
      success: a.success,
      approval_required: a.approval_required,
      approver: a.approver,
      reason: a.reason,
      changes_made: parse(a.changes_made_json),
    })),
  ];
  return events.sort((x, y) => (x.at < y.at ? 1 : x.at > y.at ? -1 : 0)).slice(0, limit);
}
