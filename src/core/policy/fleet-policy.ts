/**
 * Fleet policy: policy defaults every stack inherits, and rules no stack's
 * policy may break. Pure. Policies are merged as documents (the YAML format of
 * a stack's `policy:`): a stack's own fields over the fleet's defaults over
 * the built-in defaults, so the effective policy is parsed and checked by the
 * same reader as any policy, and `explain` can say where each field came from.
 */
import type { ReconciliationPolicy, Severity } from "../model/desired.js";
import { SEVERITIES } from "../model/desired.js";
import { DRIFT_KINDS, defaultSeverity, type DriftKind } from "../model/vocabulary.js";

export type PolicyDocument = Record<string, unknown>;

export interface FleetRules {
  /** Drift kinds whose default severity is at least this may be auto-healed only with an approval. */
  approval_required_from_severity: Severity | null;
  /** No stack may allow more heal attempts than this. */
  max_attempts_at_most: number | null;
  /** Drift kinds no stack may auto-heal. */
  never_auto_heal: string[];
}

export interface FleetPolicy {
  version: number;
  set_at: string;
  set_by: string;
  reason: string | null;
  /** Policy document fields every stack inherits unless it sets them. */
  defaults: PolicyDocument;
  rules: FleetRules;
}

export const NO_RULES: FleetRules = {
  approval_required_from_severity: null,
  max_attempts_at_most: null,
  never_auto_heal: [],
};

/**
 * The fields of a policy document, as paths: each is taken whole from the first document that has it (a list such
 * as `allowed_drift_types` or `windows` is replaced, never concatenated).
 */
export const POLICY_DOCUMENT_FIELDS: ReadonlyArray<readonly string[]> = [
  ["schedule", "interval"],
  ["schedule", "timezone"],
  ["auto_heal", "enabled"],
  ["auto_heal", "max_attempts"],
  ["auto_heal", "backoff_strategy"],
  ["auto_heal", "backoff_base"],
  ["auto_heal", "backoff_cap"],
  ["auto_heal", "allowed_drift_types"],
  ["auto_heal", "require_approval"],
  ["auto_heal", "circuit_breaker"],
  ["auto_heal", "flap_detection"],
  ["auto_heal", "windows"],
  ["auto_heal", "content_quiet_period"],
  ["auto_heal", "min_confidence"],
  ["auto_heal", "preempt"],
  ["notifications", "channels"],
  ["observability", "metrics_retention"],
  ["observability", "detailed_logging"],
  ["observability", "performance_tracking"],
];

const isObject = (v: unknown): v is PolicyDocument => v !== null && typeof v === "object" && !Array.isArray(v);

export function fieldOf(doc: PolicyDocument | null | undefined, path: readonly string[]): unknown {
  let v: unknown = doc ?? undefined;
  for (const k of path) {
    if (!isObject(v) || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    v = v[k];
  }
  return v;
}

function setField(doc: PolicyDocument, path: readonly string[], value: unknown): void {
  let at = doc;
  for (const k of path.slice(0, -1)) {
    if (!isObject(at[k])) at[k] = {};
    at = at[k] as PolicyDocument;
  }
  at[path[path.length - 1]!] = value;
}

/**
 * The document a stack's policy is read from: each field from the stack if it sets it, else from the fleet's
 * defaults. Fields of neither take the built-in default when the document is read. Keys outside the known fields are
 * kept from the stack (so the reader refuses them with their name), never taken from the fleet.
 */
export function inheritedDocument(declared: PolicyDocument, fleetDefaults: PolicyDocument): PolicyDocument {
  const out = structuredClone(declared);
  for (const path of POLICY_DOCUMENT_FIELDS) {
    if (fieldOf(declared, path) !== undefined) continue;
    const inherited = fieldOf(fleetDefaults, path);
    if (inherited !== undefined) setField(out, path, structuredClone(inherited));
  }
  return out;
}

export type FieldSource = "stack" | "fleet" | "default";

/** Where each field of a stack's effective policy comes from. */
export function policySources(
  declared: PolicyDocument | null,
  fleetDefaults: PolicyDocument,
): Array<{ field: string; source: FieldSource }> {
  return POLICY_DOCUMENT_FIELDS.map((path) => ({
    field: path.join("."),
    // A stack written before fleet policies (its declared fields unknown) owns its whole policy.
    source:
      declared === null || fieldOf(declared, path) !== undefined
        ? "stack"
        : fieldOf(fleetDefaults, path) !== undefined
          ? "fleet"
          : "default",
  }));
}

export interface RuleViolation {
  /** The policy field that breaks the rule. */
  path: string;
  message: string;
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** What in `policy` the fleet's rules forbid (empty: nothing). */
export function ruleViolations(policy: ReconciliationPolicy, rules: FleetRules): RuleViolation[] {
  const out: RuleViolation[] = [];
  const ah = policy.auto_heal;
  if (rules.max_attempts_at_most !== null && ah.max_attempts > rules.max_attempts_at_most)
    out.push({
      path: "auto_heal.max_attempts",
      message: `is ${ah.max_attempts}; the fleet policy allows at most ${rules.max_attempts_at_most}`,
    });
  if (!ah.enabled) return out;
  const healed = new Set([...ah.allowed_drift_types, ...(ah.preempt?.drift_types ?? [])]);
  for (const kind of rules.never_auto_heal) {
    if (ah.allowed_drift_types.includes(kind))
      out.push({
        path: "auto_heal.allowed_drift_types",
        message: `allows ${kind}, which the fleet policy never lets auto-heal`,
      });
    if (ah.preempt?.drift_types.includes(kind))
      out.push({
        path: "auto_heal.preempt.drift_types",
        message: `heals ${kind} before it opens, which the fleet policy never lets auto-heal`,
      });
  }
  const from = rules.approval_required_from_severity;
  if (from !== null)
    for (const kind of DRIFT_KINDS)
      if (
        healed.has(kind) &&
        rank(defaultSeverity(kind as DriftKind)) >= rank(from) &&
        !ah.require_approval.includes(kind)
      )
        out.push({
          path: "auto_heal.require_approval",
          message: `must name ${kind}: it is ${defaultSeverity(kind as DriftKind)}, and the fleet policy lets drifts of severity ${from} or higher auto-heal only with an approval`,
        });
  return out;
}
