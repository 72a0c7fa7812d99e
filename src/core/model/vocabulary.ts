/**
 * The drift vocabulary in one typed table: the spec's drift types with their
 * default severity, the policy's drift kinds (what `allowed_drift_types` and
 * `require_approval` name) with their type and heal action, and every heal
 * action with the parameters an executor needs. `DriftType`, `DriftKind` and
 * `HealAction` are derived from these tables, so a kind or action missing from
 * a `switch` is a compile error, and the Avro enums are checked against them
 * by a unit test (test/unit/core/vocabulary.test.ts).
 */
import type { Severity } from "./desired.js";

/**
 * The spec's drift types (`DriftDetectionEvent.drift_type`, Avro enum
 * `DriftType`) and the severity a finding of that type has before any
 * escalation (spec: provider critical, resource high, integration medium,
 * content medium).
 */
export const DRIFT_TYPE_TABLE = {
  provider: { severity: "critical" },
  resource: { severity: "high" },
  integration: { severity: "medium" },
  content: { severity: "medium" },
  // A later environment's desired state behind or apart from the earlier one it is promoted from.
  promotion: { severity: "medium" },
} as const satisfies Record<string, { severity: Severity }>;

export type DriftType = keyof typeof DRIFT_TYPE_TABLE;
export const DRIFT_TYPES = Object.keys(DRIFT_TYPE_TABLE) as readonly DriftType[];

/**
 * How a heal parameter is checked when a command is decoded:
 * - `string`: a non-empty string, required;
 * - `string?`: a non-empty string or null (absent reads as null);
 * - `json`: any JSON value, required (null included).
 */
export type HealParamSpec = "string" | "string?" | "json";

/**
 * Every heal action: the parameters an executor needs (checked on decoding,
 * typed per action in `HealParams`), and what it acts on (`codebuild` or the
 * `integration-api`), which is also the rate budget it spends.
 */
export const HEAL_ACTION_TABLE = {
  "resource.rebuild": {
    target: "codebuild",
    params: { resource: "string", arn: "string?", project: "string?", reason: "string?" },
  },
  "site.rebuild": { target: "codebuild", params: { project: "string", reason: "string?" } },
  "provider.register": { target: "integration-api", params: { provider_type: "string", provider_name: "string" } },
  "integration.configure": { target: "integration-api", params: { integration: "string", configuration: "json" } },
  // A promoted version that opened drifts within its verification window: its previous version is published again.
  "desired.rollback": {
    target: "desired-state",
    params: { to_version: "string", from_version: "string", drifts: "json" },
  },
} as const satisfies Record<
  string,
  { target: "codebuild" | "integration-api" | "desired-state"; params: Record<string, HealParamSpec> }
>;

export type HealAction = keyof typeof HEAL_ACTION_TABLE;
export const HEAL_ACTIONS = Object.keys(HEAL_ACTION_TABLE) as readonly HealAction[];

type ParamValue<S> = S extends "string" ? string : S extends "string?" ? string | null : unknown;
type ParamSpecs<A extends HealAction> = (typeof HEAL_ACTION_TABLE)[A]["params"];

/** The typed parameters of `action`, as the table declares them. */
export type HealParams<A extends HealAction> = { -readonly [K in keyof ParamSpecs<A>]: ParamValue<ParamSpecs<A>[K]> };

/** An action with its parameters: a union keyed by `action`, so a `switch` narrows `params`. */
export type HealActionWithParams = { [A in HealAction]: { action: A; params: HealParams<A> } }[HealAction];

/**
 * The policy's drift kinds the diff detects: the drift type each belongs to
 * and the heal action that fixes it (null: alert only, no heal exists).
 */
export const DRIFT_KIND_TABLE = {
  provider_missing: { type: "provider", action: "provider.register" },
  provider_change: { type: "provider", action: "provider.register" },
  cms_provider_change: { type: "provider", action: "provider.register" },
  resource_unhealthy: { type: "resource", action: "resource.rebuild" },
  integration_config: { type: "integration", action: "integration.configure" },
  webhook_broken: { type: "integration", action: "integration.configure" },
  site_stale: { type: "content", action: "site.rebuild" },
  // Healed by promoting (an operator's decision, gated), never automatically.
  promotion_drift: { type: "promotion", action: null },
} as const satisfies Record<string, { type: DriftType; action: HealAction | null }>;

export type DriftKind = keyof typeof DRIFT_KIND_TABLE;
export const DRIFT_KINDS = Object.keys(DRIFT_KIND_TABLE) as readonly DriftKind[];

/**
 * Kinds the spec's policy format names (its example's `require_approval`)
 * that Blackwell does not detect: a policy may list them, no drift matches.
 */
export const RESERVED_POLICY_KINDS = ["data_deletion", "resource_replacement"] as const;

/** Every name a policy may use in `allowed_drift_types`, `require_approval` and a window's `drift_types`. */
export const POLICY_DRIFT_KINDS: readonly string[] = [...DRIFT_KINDS, ...RESERVED_POLICY_KINDS];

export function isDriftKind(name: string): name is DriftKind {
  return Object.hasOwn(DRIFT_KIND_TABLE, name);
}

/** The action that heals `kind`, or null when none does. */
export function healActionFor(kind: DriftKind): HealAction | null {
  return DRIFT_KIND_TABLE[kind].action;
}

export function driftTypeOf(kind: DriftKind): DriftType {
  return DRIFT_KIND_TABLE[kind].type;
}

/** The severity a fresh finding of `kind` has (its type's default). */
export function defaultSeverity(kind: DriftKind): Severity {
  return DRIFT_TYPE_TABLE[driftTypeOf(kind)].severity;
}
