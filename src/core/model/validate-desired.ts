/**
 * The one validation of a desired state's content, whatever its way in: the
 * YAML parser (blackwell.yaml, `PUT`/`PATCH /policy`), and the record decoder
 * for desired-state records produced straight to Kafka. It checks what the
 * core relies on and a schema cannot say (JSON pointers, time zones, known
 * drift kinds, ranges), so `decide` never meets content it would throw on.
 */
import { parsePointer } from "../diff/json-compare.js";
import { parseDuration } from "../duration.js";
import { isTimeZone } from "../policy/heal-windows.js";
import { POLICY_DRIFT_KINDS } from "./vocabulary.js";
import {
  PROMOTED_PARTS,
  ROLES,
  SEVERITIES,
  WEEKDAYS,
  type DesiredStack,
  type ReconciliationPolicy,
} from "./desired.js";

/** A problem at a dotted field path of the desired state (`integrations.shop.ignore_paths.0`). */
export interface DesiredProblem {
  path: string;
  message: string;
}

export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ARN = /^arn:aws[a-z-]*:/;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

type Report = (path: string, message: string) => void;

function pointers(report: Report, path: string, list: readonly string[]): void {
  list.forEach((p, k) => {
    try {
      parsePointer(p);
    } catch (err) {
      report(`${path}.${k}`, (err as Error).message);
    }
  });
}

function positive(report: Report, path: string, value: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isFinite(value) || value <= 0 || value > max)
    report(path, `must be a positive number up to ${max}, got ${value}`);
}

function kinds(report: Report, path: string, list: readonly string[]): void {
  list.forEach((kind, k) => {
    if (!POLICY_DRIFT_KINDS.includes(kind))
      report(`${path}.${k}`, `${JSON.stringify(kind)} must be one of ${POLICY_DRIFT_KINDS.join(", ")}`);
  });
}

/** Problems of a reconciliation policy, paths relative to the policy. */
export function policyProblems(policy: ReconciliationPolicy): DesiredProblem[] {
  const problems: DesiredProblem[] = [];
  const report: Report = (path, message) => problems.push({ path, message });
  if (parseDuration(policy.schedule.interval) === null)
    report("schedule.interval", `must be a duration like 5m, got ${JSON.stringify(policy.schedule.interval)}`);
  if (!isTimeZone(policy.schedule.timezone))
    report("schedule.timezone", `unknown time zone ${JSON.stringify(policy.schedule.timezone)}`);
  const ah = policy.auto_heal;
  if (!Number.isInteger(ah.max_attempts) || ah.max_attempts < 1 || ah.max_attempts > 100)
    report("auto_heal.max_attempts", `must be an integer from 1 to 100, got ${ah.max_attempts}`);
  if (ah.backoff_strategy !== "linear" && ah.backoff_strategy !== "exponential")
    report("auto_heal.backoff_strategy", `must be linear or exponential, got ${JSON.stringify(ah.backoff_strategy)}`);
  positive(report, "auto_heal.backoff_base_seconds", ah.backoff_base_seconds);
  positive(report, "auto_heal.backoff_cap_seconds", ah.backoff_cap_seconds);
  kinds(report, "auto_heal.allowed_drift_types", ah.allowed_drift_types);
  kinds(report, "auto_heal.require_approval", ah.require_approval);
  if (ah.circuit_breaker) {
    positive(report, "auto_heal.circuit_breaker.max_heals", ah.circuit_breaker.max_heals);
    positive(report, "auto_heal.circuit_breaker.window_seconds", ah.circuit_breaker.window_seconds);
  }
  if (ah.flap_detection) {
    if (!Number.isInteger(ah.flap_detection.max_flips) || ah.flap_detection.max_flips < 2)
      report("auto_heal.flap_detection.max_flips", `must be an integer of at least 2`);
    positive(report, "auto_heal.flap_detection.window_seconds", ah.flap_detection.window_seconds);
  }
  if (ah.min_confidence !== undefined && !(ah.min_confidence >= 0 && ah.min_confidence <= 1))
    report("auto_heal.min_confidence", `must be a number from 0 to 1, got ${ah.min_confidence}`);
  if (ah.preempt) {
    if (!(ah.preempt.min_confidence >= 0 && ah.preempt.min_confidence <= 1))
      report("auto_heal.preempt.min_confidence", `must be a number from 0 to 1, got ${ah.preempt.min_confidence}`);
    if (ah.preempt.drift_types.length === 0)
      report("auto_heal.preempt.drift_types", "must name at least one drift kind to heal before it opens");
    kinds(report, "auto_heal.preempt.drift_types", ah.preempt.drift_types);
  }
  if (ah.content_quiet_period_seconds !== undefined && !(ah.content_quiet_period_seconds >= 0))
    report("auto_heal.content_quiet_period_seconds", "must not be negative");
  (ah.windows ?? []).forEach((w, k) => {
    const at = `auto_heal.windows.${k}`;
    if (w.action !== "allow" && w.action !== "deny") report(`${at}.action`, "must be allow or deny");
    if (!isTimeZone(w.timezone)) report(`${at}.timezone`, `unknown time zone ${JSON.stringify(w.timezone)}`);
    if (!HHMM.test(w.start)) report(`${at}.start`, `must be HH:MM, got ${JSON.stringify(w.start)}`);
    if (!HHMM.test(w.end)) report(`${at}.end`, `must be HH:MM, got ${JSON.stringify(w.end)}`);
    if (w.start === w.end) report(`${at}.end`, "must differ from start");
    w.days.forEach((day, d) => {
      if (!(WEEKDAYS as readonly string[]).includes(day)) report(`${at}.days.${d}`, `must be one of ${WEEKDAYS}`);
    });
    kinds(report, `${at}.drift_types`, w.drift_types);
  });
  policy.notifications.channels.forEach((c, k) => {
    if (!SEVERITIES.includes(c.severity_threshold))
      report(`notifications.channels.${k}.severity_threshold`, `must be one of ${SEVERITIES.join(", ")}`);
    if (c.type !== "email" && !c.webhook_url)
      report(`notifications.channels.${k}.webhook_url`, `is required for a ${c.type} channel`);
  });
  return problems;
}

/**
 * Where a desired state comes from. `authoring` (blackwell.yaml, the API) also applies the rules that keep a
 * declaration sensible; `record` (a desired-state record read from Kafka, live or on replay) only what the core
 * relies on, so a record that was accepted once is never refused later and replay decides as live did.
 */
export type DesiredSource = "authoring" | "record";

/** Problems of a desired stack's content (not of its versioning fields), paths relative to the stack. */
export function desiredProblems(
  d: Omit<DesiredStack, "state_version" | "previous_versions" | "applied_at" | "applied_by">,
  source: DesiredSource = "authoring",
): DesiredProblem[] {
  const problems: DesiredProblem[] = [];
  const report: Report = (path, message) => problems.push({ path, message });
  if (!ID_PATTERN.test(d.client_id)) report("client_id", `must match ${ID_PATTERN}`);
  if (!ID_PATTERN.test(d.stack_id)) report("stack_id", `must match ${ID_PATTERN}`);
  if (!ID_PATTERN.test(d.environment)) report("environment", `must match ${ID_PATTERN}`);
  const authoring = source === "authoring";
  if (authoring && ROLES.every((role) => !d.providers[role])) report("providers", "declare at least one provider");
  if (d.promotion) {
    const pr = d.promotion;
    if (!ID_PATTERN.test(pr.from)) report("promotion.from", `must be a stack id (${ID_PATTERN})`);
    if (pr.from === d.stack_id) report("promotion.from", "a stack cannot be promoted from itself");
    if (pr.match.length === 0) report("promotion.match", `must name at least one of ${PROMOTED_PARTS.join(", ")}`);
    pr.match.forEach((part, k) => {
      if (!PROMOTED_PARTS.includes(part)) report(`promotion.match.${k}`, `must be one of ${PROMOTED_PARTS.join(", ")}`);
    });
    pointers(report, "promotion.ignore_paths", pr.ignore_paths);
    for (const f of ["max_lag_seconds", "soak_seconds", "verify_window_seconds"] as const)
      if (!Number.isInteger(pr[f]) || pr[f] < 0)
        report(`promotion.${f}`, `must be a whole number of seconds, got ${pr[f]}`);
    kinds(report, "promotion.rollback_on", pr.rollback_on);
    if (pr.rollback_on.includes("promotion_drift"))
      report(
        "promotion.rollback_on",
        "cannot name promotion_drift: the earlier stack moving on would roll back a healthy promoted version",
      );
  }
  const names = new Set<string>();
  d.integrations.forEach((i) => {
    if (names.has(i.name)) report(`integrations.${i.name}`, "is declared twice");
    names.add(i.name);
    pointers(report, `integrations.${i.name}.ignore_paths`, i.ignore_paths);
  });
  d.resources.forEach((r) => {
    if (!ARN.test(r.arn)) report(`resources.${r.name}.arn`, `${JSON.stringify(r.arn)} must match ${ARN}`);
    pointers(report, `resources.${r.name}.ignore_paths`, r.ignore_paths);
  });
  if (authoring && d.content_types.length > 0 && !d.build_project)
    report("content_types", "tracking content needs a build_project that builds the site");
  const s = d.staleness;
  positive(report, "staleness.provider_silence_seconds", s.provider_silence_seconds);
  positive(report, "staleness.resource_ttl_seconds", s.resource_ttl_seconds);
  positive(report, "staleness.content_grace_seconds", s.content_grace_seconds);
  positive(report, "staleness.webhook_failure_threshold", s.webhook_failure_threshold);
  for (const p of policyProblems(d.policy)) report(`policy.${p.path}`, p.message);
  return problems;
}
