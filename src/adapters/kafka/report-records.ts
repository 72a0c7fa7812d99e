/**
 * Drift events and audit entries as the compliance report reads them, from
 * their Avro values (as the topics and the API's replica hold them). A value
 * the report cannot read (a time that is not a time) is skipped, never fatal:
 * the topics were checked when written.
 */
import type { ReportAudit, ReportTransition } from "../../core/report/compliance-report.js";
import { parseIsoTime } from "../../core/iso-time.js";

type Value = Record<string, unknown>;

const ms = (v: unknown): number | null => {
  if (typeof v !== "string") return null;
  const at = parseIsoTime(v);
  return Number.isNaN(at) ? null : at;
};

export function reportTransitionOf(v: Value): ReportTransition | null {
  const detected = ms(v.detected_at);
  const at = ms(v.timestamp);
  if (detected === null || at === null) return null;
  return {
    client_id: String(v.client_id),
    stack_id: String(v.stack_id),
    drift_id: String(v.drift_id),
    transition: String(v.transition),
    drift_type: String(v.drift_type),
    component: String(v.component),
    severity: String(v.severity),
    detected_at: detected,
    at,
    evidence_at: ms(v.evidence_at ?? null),
    ...(v.note === "client offboarded" || v.note === "desired state removed" ? { closed_by_removal: true } : {}),
  };
}

export function reportAuditOf(v: Value): ReportAudit | null {
  const at = ms(v.timestamp);
  if (at === null) return null;
  let changes: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(String(v.changes_made_json ?? "{}")) as unknown;
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) changes = parsed as Value;
  } catch {
    // An audit whose changes are not JSON still counts by its action.
  }
  return {
    client_id: String(v.client_id),
    stack_id: typeof v.stack_id === "string" ? v.stack_id : null,
    drift_id: typeof v.drift_id === "string" ? v.drift_id : null,
    action: String(v.action),
    at,
    triggered_by: String(v.triggered_by),
    success: v.success === true,
    approver: typeof v.approver === "string" ? v.approver : null,
    reason: typeof v.reason === "string" ? v.reason : null,
    changes,
  };
}
