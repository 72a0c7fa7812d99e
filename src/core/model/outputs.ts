/** What a reconciliation pass emits; the adapter encodes and produces these in one transaction. */
import type { Severity } from "./desired.js";
import type { DriftKind, DriftType, HealAction, HealActionWithParams, HealParams } from "./vocabulary.js";

export type TransitionKind = "opened" | "updated" | "acknowledged" | "resolved" | "note";

export interface DriftTransition {
  event_id: string;
  reconciliation_id: string;
  client_id: string;
  stack_id: string;
  drift_id: string;
  transition: TransitionKind;
  drift_type: DriftType;
  kind: DriftKind;
  component: string;
  expected: unknown;
  observed: unknown;
  severity: Severity;
  detected_at: number;
  at: number;
  auto_heal_eligible: boolean;
  auto_heal_attempted: boolean;
  state_version: string;
  /** How sure the reconciler is of the drift, in [0, 1] (src/core/lifecycle/confidence.ts); null for states written before it existed. */
  confidence: number | null;
  /**
   * On `opened`: when the first evidence was there (the report's event time, or the end of the window that ran out),
   * so time to detection is `at - evidence_at`. Null on other transitions.
   */
  evidence_at: number | null;
  note: string | null;
}

export type StackStatus = "healthy" | "drift_detected" | "reconciling" | "error";

export interface StackStateView {
  client_id: string;
  stack_id: string;
  desired_hash: string;
  applied_hash: string | null;
  observed_hash: string;
  state_version: string;
  observed_state_version: string;
  previous_versions: string[];
  resources: Record<string, string>;
  last_applied: number;
  last_verified: number;
  created_at: number;
  updated_at: number;
  status: StackStatus;
  /** Share of the declared components verified matching (src/core/lifecycle/consistency.ts), 0..1. */
  consistency_score: number;
  /** Per declared component key (`provider:<role>`, `resource:<name>`, ...), its newest observation time. */
  component_observed_at: Record<string, number>;
  drift_details: Array<{
    drift_id: string;
    type: DriftType;
    component: string;
    expected: unknown;
    observed: unknown;
    severity: Severity;
    detected_at: number;
    acknowledged: boolean;
    confidence: number | null;
  }>;
  reconciliation_policy: {
    auto_heal: boolean;
    max_heal_attempts: number;
    heal_backoff: string;
    require_approval: string[];
  };
  observability: { metrics_endpoint: string; alert_channels: string[] };
}

/** null value: the stack was removed (tombstone on stack-state). */
export interface StackStateOutput {
  client_id: string;
  stack_id: string;
  state: StackStateView | null;
}

export interface AuditOutput {
  audit_id: string;
  at: number;
  action: string;
  client_id: string;
  stack_id: string | null;
  drift_id: string | null;
  triggered_by: string;
  success: boolean;
  changes_made: unknown;
  approval_required: boolean;
  approver: string | null;
  reason: string | null;
}

/** What every heal command carries, whatever its action. */
export interface HealCommandEnvelope {
  /** Derived from (drift opening, attempt), so duplicates are recognisable anywhere downstream. */
  command_key: string;
  client_id: string;
  stack_id: string;
  drift_id: string;
  reconciliation_id: string;
  attempt: number;
  not_before: number;
  issued_at: number;
  approved_by: string | null;
}

/** An instruction to the executors: a union keyed by `action`, each with its typed `params` (HEAL_ACTION_TABLE). */
export type HealCommandOutput = HealCommandEnvelope & HealActionWithParams;

/** The heal command of one action, e.g. `HealCommandOf<"site.rebuild">`. */
export type HealCommandOf<A extends HealAction> = HealCommandEnvelope & { action: A; params: HealParams<A> };

/** A prediction's transition (topic drift-predictions): made, then confirmed by the drift opening, or expired. */
export interface PredictionTransition {
  event_id: string;
  reconciliation_id: string;
  client_id: string;
  stack_id: string;
  /** The drift it predicts (the id the drift gets when it opens). */
  drift_id: string;
  transition: "predicted" | "confirmed" | "expired";
  drift_type: DriftType;
  kind: DriftKind;
  component: string;
  precursor: string;
  confidence: number;
  evidence: string;
  predicted_at: number;
  expected_at: number;
  horizon_until: number;
  at: number;
  /** On `confirmed`: how long before the drift opened it was predicted. */
  lead_ms: number | null;
  preempted: boolean;
  note: string | null;
}

export interface PassOutputs {
  transitions: DriftTransition[];
  /** Predictions made, confirmed and expired (absent: none). */
  predictions?: PredictionTransition[];
  stackStates: StackStateOutput[];
  audits: AuditOutput[];
  healCommands: HealCommandOutput[];
  /** Re-evaluate this client at this stream time even if no event arrives (null: no deadline). */
  reevaluateAt: number | null;
  /** The client was offboarded: its state is to be deleted (tombstoned), not stored. */
  forget?: boolean;
}
