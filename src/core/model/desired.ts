/** The declared composition of one stack, as the core sees it (configs parsed). */
export type Role = "cms" | "ecommerce" | "ssg";
export const ROLES: readonly Role[] = ["cms", "ecommerce", "ssg"];

export type Severity = "low" | "medium" | "high" | "critical";
export const SEVERITIES: readonly Severity[] = ["low", "medium", "high", "critical"];

export interface IntegrationSpec {
  name: string;
  config: unknown;
  /** JSON pointers (RFC 6901) the diff ignores. */
  ignore_paths: string[];
}

export interface ResourceSpec {
  name: string;
  arn: string;
  ignore_paths: string[];
}

export interface StalenessWindows {
  provider_silence_seconds: number;
  resource_ttl_seconds: number;
  content_grace_seconds: number;
  webhook_failure_threshold: number;
}

export interface NotificationChannel {
  type: string;
  webhook_url: string | null;
  addresses: string[];
  severity_threshold: Severity;
}

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When heals may (allow) or may not (deny) run: on `days`, from `start` to `end` (HH:MM, local to `timezone`; end 24:00 = midnight). */
export interface HealWindow {
  action: "allow" | "deny";
  days: Weekday[];
  start: string;
  end: string;
  timezone: string;
  /** Drift kinds the window applies to; empty: all. */
  drift_types: string[];
}

export const DEFAULT_GUARDS = {
  circuit_breaker: { max_heals: 10, window_seconds: 3600 },
  flap_detection: { max_flips: 3, window_seconds: 1800 },
  windows: [] as HealWindow[],
  content_quiet_period_seconds: 60,
};

/** The spec's ReconciliationPolicy, with the backoff knobs made explicit. */
export interface ReconciliationPolicy {
  schedule: { interval: string; timezone: string };
  auto_heal: {
    enabled: boolean;
    max_attempts: number;
    backoff_strategy: "linear" | "exponential";
    backoff_base_seconds: number;
    backoff_cap_seconds: number;
    allowed_drift_types: string[];
    require_approval: string[];
    /** Runaway guards; absent in desired states written before they existed (defaults apply). */
    circuit_breaker?: { max_heals: number; window_seconds: number };
    flap_detection?: { max_flips: number; window_seconds: number };
    windows?: HealWindow[];
    content_quiet_period_seconds?: number;
    /** Least confidence (0..1) a drift needs before it is healed without an approval; absent or 0: any. */
    min_confidence?: number;
    /**
     * Heal a predicted drift of these kinds before it opens, when the prediction is at least this sure (e.g. start
     * the site rebuild before the content goes stale). Absent: never (the default).
     */
    preempt?: { min_confidence: number; drift_types: string[] };
  };
  notifications: { channels: NotificationChannel[] };
  observability: { metrics_retention: string; detailed_logging: boolean; performance_tracking: boolean };
}

/** The parts of a desired state a promotion carries from one environment's stack to the next one's. */
export const PROMOTED_PARTS = [
  "providers",
  "integrations",
  "resources",
  "build_project",
  "content_types",
  "staleness",
] as const;
export type PromotedPart = (typeof PROMOTED_PARTS)[number];

/** A stack promoted from another stack of its client (staging -> prod): what must match, and the gates. */
export interface PromotionSpec {
  /** The stack this one is promoted from (an earlier environment). */
  from: string;
  /** Parts that must match the earlier stack's. */
  match: PromotedPart[];
  /** JSON pointers into the matched parts that are environment-specific (never compared, never promoted). */
  ignore_paths: string[];
  /** How long the earlier stack's newer version may wait for promotion before it is a drift. */
  max_lag_seconds: number;
  /** How long the earlier stack must have been healthy, with no open drift, before a promotion. */
  soak_seconds: number;
  /** After a promotion, drifts of these kinds opening within the window roll the promoted version back. */
  verify_window_seconds: number;
  rollback_on: string[];
  /**
   * Coordinated healing: a drift this stack shares with the earlier stack (same kind and component) is healed there
   * first; this stack's heal waits until the earlier one's drift has resolved (healed and verified).
   */
  coordinate_heals?: boolean;
  /** A promotion to this stack is a request until someone other than its requester approves it. */
  approval_required?: boolean;
}

export interface DesiredStack {
  client_id: string;
  stack_id: string;
  environment: string;
  state_version: string;
  previous_versions: string[];
  desired_hash: string;
  applied_at: string;
  applied_by: string;
  source: string;
  providers: Record<Role, string | null>;
  integrations: IntegrationSpec[];
  resources: ResourceSpec[];
  build_project: string | null;
  content_types: string[];
  staleness: StalenessWindows;
  policy: ReconciliationPolicy;
  /**
   * The policy fields the stack set itself, as a JSON policy document (the rest came from the fleet policy or the
   * built-in defaults); absent or null in desired states written before fleet policies: the stack owns its whole
   * policy. Bookkeeping for `policy explain` and fleet changes: the core never reads it.
   */
  policy_declared_json?: string | null;
  /** The fleet policy version the effective policy was computed with (null: none was set). */
  fleet_policy_version?: number | null;
  /** Promoted from an earlier environment's stack (absent: not part of a promotion chain). */
  promotion?: PromotionSpec;
  /** This version was published by a promotion of that stack's version (absent: by anything else). */
  promoted_from?: { stack_id: string; state_version: string };
  /** Who approved the promotion that published this version (absent: none was needed); `applied_by` requested it. */
  approved_by?: string;
}
