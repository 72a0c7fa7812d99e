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
  };
  notifications: { channels: NotificationChannel[] };
  observability: { metrics_retention: string; detailed_logging: boolean; performance_tracking: boolean };
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
}
