/**
 * The fold's state: one record per client (the partitioning key), holding the
 * client's stacks (desired state + open drifts) and what has been observed,
 * grouped by the scope the events named. Plain JSON: it is the changelog value.
 */
import type { DesiredStack, Role, Severity } from "./desired.js";
import type { ResourceStatus } from "./inputs.js";
import type { DriftKind, DriftType } from "./vocabulary.js";

export type { DriftKind, DriftType };

/** `*` (whole client), `env:<environment>` or `stack:<stack_id>`. */
export type ScopeKey = string;

export interface ActiveProvider {
  name: string;
  /** When this provider became the active one for its role. */
  since: number;
}

export interface ObservationScope {
  /** Active provider per role. */
  active: Partial<Record<Role, ActiveProvider>>;
  /** Last event time per provider name. */
  seen: Record<string, number>;
  /** provider.disconnected time per provider name, until a later event from it. */
  disconnected: Record<string, number>;
  resources: Record<string, { status: ResourceStatus; at: number }>;
  integrations: Record<string, IntegrationObservation>;
  /** Content changes not yet covered by a successful build, per content type. */
  content: Record<string, { pending: number[]; latest: number }>;
  builds: {
    /** Start time of the newest successful build: content changed before it is live. */
    covers: number | null;
    /** Start times of builds in flight, by build id (bounded). */
    started: Record<string, number>;
    /** How long the last successful builds took (ms, newest last, bounded): what the predictor expects of the next. */
    durations?: number[];
  };
  /** The last event times per provider (newest last, bounded): the gaps between them, for the predictor. */
  beats?: Record<string, number[]>;
}

export interface IntegrationObservation {
  config?: { value: unknown; at: number };
  webhook?: {
    failures: number;
    first_failure: number | null;
    at: number;
    /**
     * How the webhook's past failure streaks ended: `ended[k]` streaks ended (a delivery succeeded) after k + 1
     * failures in a row (the last entry counts longer ones too). The predictor learns from it how often a streak
     * goes on.
     */
    ended?: number[];
  };
}

/**
 * What a finding rests on (src/core/lifecycle/confidence.ts): an observation
 * made at `at` (`every_ms` null), or a window of `every_ms` that ran out at `at`
 * with nothing heard; `base` is the weight of one piece of it.
 */
export interface Evidence {
  at: number;
  base: number;
  every_ms: number | null;
}

/** How sure the reconciler is of an open drift, and the evidence counted for it. */
export interface DriftConfidence {
  /** In [0, 1]. */
  value: number;
  /** Independent pieces of evidence counted for this opening (bounded). */
  observations: number;
  /** Time of the newest piece counted. */
  evidence_at: number;
}

/** What the diff says about one component that does not match. */
export interface Finding {
  type: DriftType;
  /** The policy's name for it (DRIFT_KIND_TABLE); `type` is the kind's type. */
  kind: DriftKind;
  component: string;
  expected: unknown;
  observed: unknown;
  severity: Severity;
  evidence: Evidence;
}

/** A drift the reconciler has opened and not yet seen resolved. */
export interface OpenDrift extends Omit<Finding, "evidence"> {
  drift_id: string;
  detected_at: number;
  acknowledged: boolean;
  /** Whether the `acknowledged` transition has been emitted (acknowledge is folded, the transition decided). */
  ack_emitted: boolean;
  /** Transitions emitted for this opening; makes event ids unique and deterministic. */
  transitions: number;
  /** Healing of this opening of the drift (absent in states written before healing existed). */
  heal?: HealState;
  /** Absent in states written before confidence existed; set again on the next pass that judges the stack. */
  confidence?: DriftConfidence;
}

export interface HealState {
  /** Heal commands issued for this opening. */
  attempts: number;
  last_issued_at: number | null;
  approved_by: string | null;
  rejected: boolean;
  /** Outcome the executor last reported for the current attempt. */
  last_result: "started" | "succeeded" | "failed" | null;
  /** Last policy decision audited, so each decision is audited once, not on every pass. */
  last_decision: string | null;
  /** Set when this drift was found flapping: why healing is off for this opening. */
  flapping?: string | null;
  /** The finding's own severity, once healing ran out and the drift's severity was raised. */
  escalated_from?: Severity | null;
}

export function emptyHeal(): HealState {
  return {
    attempts: 0,
    last_issued_at: null,
    approved_by: null,
    rejected: false,
    last_result: null,
    last_decision: null,
  };
}

export interface StackEntry {
  desired: DesiredStack;
  /** Stream time the current desired version was applied; baseline for "never seen" windows. */
  applied_ms: number;
  created_ms: number;
  updated_ms: number;
  last_verified_ms: number;
  drifts: Record<string, OpenDrift>;
  paused: boolean;
  /** Desired state tombstoned: the next pass resolves its drifts, emits a tombstone and forgets it. */
  removed: boolean;
  /** Stream time at which this stack must be re-evaluated without a new event. */
  deadline: number | null;
  /** Fingerprint and time of the last StateRecord emitted, to emit only on change (or to refresh last_verified). */
  emitted: { fingerprint: string; at: number } | null;
  /** Times heal commands were issued for this stack, within the circuit breaker's window. */
  heal_log?: number[];
  /** When the circuit breaker opened (audited once), null while closed. */
  breaker_opened_at?: number | null;
  /** Openings per drift id within the flap window (they survive resolution). */
  flaps?: Record<string, number[]>;
  /** The last openings per drift id (newest last, bounded, within 30 days): recurring drifts are learned from them. */
  openings?: Record<string, OpeningHistory>;
  /** Predictions made and not yet confirmed or expired, by the drift id they predict. */
  predictions?: Record<string, OpenPrediction>;
  /** The promoted version whose rollback was issued (src/core/lifecycle/promotion-verify.ts): once per version. */
  rolled_back?: string;
}

export interface OpeningHistory {
  kind: DriftKind;
  component: string;
  times: number[];
}

/** A drift the predictor expects (src/core/predict), until it opens (confirmed) or its horizon passes (expired). */
export interface OpenPrediction {
  drift_id: string;
  type: DriftType;
  kind: DriftKind;
  component: string;
  /** Which precursor: `heartbeat_gaps`, `silence`, `resource_aging`, `webhook_failures`, `build_late`, `recurring`. */
  precursor: string;
  predicted_at: number;
  /** When the drift is expected to open. */
  expected_at: number;
  /** After this, a drift that has not opened makes the prediction expire. */
  horizon_until: number;
  confidence: number;
  /** What the prediction rests on, for people. */
  evidence: string;
  /** A heal was started early on it (policy auto_heal.preempt). */
  preempted: boolean;
}

export interface ClientState {
  client_id: string;
  stacks: Record<string, StackEntry>;
  scopes: Record<ScopeKey, ObservationScope>;
}

export function emptyClient(client_id: string): ClientState {
  return { client_id, stacks: {}, scopes: {} };
}

export function emptyScope(): ObservationScope {
  return {
    active: {},
    seen: {},
    disconnected: {},
    resources: {},
    integrations: {},
    content: {},
    builds: { covers: null, started: {} },
  };
}
