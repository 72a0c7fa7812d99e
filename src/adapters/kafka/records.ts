/**
 * Avro values <-> the core's typed records. Decoding validates what Avro
 * cannot (enumerations in strings, JSON payloads, timestamps, key/value
 * agreement) and clamps event time, so the core only ever sees valid input.
 */
import { BlackwellError } from "../../errors.js";
import {
  DEFAULT_GUARDS,
  SEVERITIES,
  WEEKDAYS,
  type DesiredStack,
  type PromotionSpec,
  type HealWindow,
  type Role,
  type Severity,
  type Weekday,
} from "../../core/model/desired.js";
import { desiredProblems } from "../../core/model/validate-desired.js";
import { isTimeZone } from "../../core/policy/heal-windows.js";
import {
  OPERATOR_COMMANDS,
  PROVIDER_EVENT_TYPES,
  RESOURCE_STATUSES,
  type InputRecord,
  type OperatorCommand,
  type ProviderEventType,
  type ResourceStatus,
} from "../../core/model/inputs.js";
import type {
  AuditOutput,
  DriftTransition,
  HealCommandOutput,
  PredictionTransition,
  StackStateView,
} from "../../core/model/outputs.js";
import {
  HEAL_ACTION_TABLE,
  HEAL_ACTIONS,
  type HealAction,
  type HealActionWithParams,
  type HealParamSpec,
} from "../../core/model/vocabulary.js";
import { clientIdOfKey } from "./partitioner.js";
import { Interner, sharedJson, sharedText, sharedTexts } from "./interner.js";
import type { TopicRole } from "./topics.js";
import { isoTime, parseIsoTime } from "../../core/iso-time.js";

/**
 * A provider's claimed event time only orders observations of one component; stream time comes from the record
 * timestamp. Claimed times are clamped to a window around the record time: at most this far ahead...
 */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** ...and at most this far behind (providers retry deliveries for up to 48 hours). */
export const MAX_PAST_SKEW_MS = 48 * 60 * 60_000;

/**
 * Header naming who wrote an output record. The audit topic has two writers (reconciler, executors); replay compares
 * the reconciler's records only.
 */
export const WRITER_HEADER = "blackwell-writer";
export const WRITTEN_BY = {
  reconciler: { [WRITER_HEADER]: "reconciler" },
  executor: { [WRITER_HEADER]: "executor" },
} as const;

function invalid(message: string): BlackwellError {
  return new BlackwellError("BLACKWELL_ERR_INVALID_RECORD", message);
}

function time(field: string, value: string, recordTs: number): number {
  const ms = parseIsoTime(value);
  if (Number.isNaN(ms)) throw invalid(`${field} ${JSON.stringify(value)} is not an ISO8601 time`);
  return Math.max(recordTs - MAX_PAST_SKEW_MS, Math.min(ms, recordTs + MAX_FUTURE_SKEW_MS));
}

/** `share`: parsed once and shared, frozen, among records with the same text (a configuration the state keeps). */
function jsonObject(field: string, text: string, share = false): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = share ? sharedJson(text) : JSON.parse(text);
  } catch {
    throw invalid(`${field} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw invalid(`${field} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

/** The allowed value itself (one string shared by every record that names it), or BLACKWELL_ERR_INVALID_RECORD. */
function oneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  const at = (allowed as readonly string[]).indexOf(value);
  if (at < 0) throw invalid(`${field} ${JSON.stringify(value)} is not one of ${allowed.join(", ")}`);
  return allowed[at]!;
}

/** A nullable field's text, shared (interner.ts): the fold keeps it in the client's state. */
const shared = (text: string | null | undefined): string | null => (text == null ? null : sharedText(text));

function nonEmpty(field: string, value: string): string {
  if (value.trim() === "") throw invalid(`${field} is empty`);
  return value;
}

// Avro value shapes (as decoded by avsc with our reader schemas).
type Avro = Record<string, unknown> & { client_id: string };

/**
 * Decodes one input record. `value` null is a tombstone (desired-state only).
 * Throws BLACKWELL_ERR_INVALID_RECORD (non-retriable: the record goes to the DLQ).
 */
export function toInput(role: TopicRole, key: string, value: Avro | null, recordTs: number): InputRecord {
  const keyClient = clientIdOfKey(key);
  if (keyClient === "") throw invalid(`record key ${JSON.stringify(key)} has an empty client_id`);
  if (value === null) {
    if (role !== "desired-state") throw invalid(`null value on ${role}: only desired-state takes tombstones`);
    const stack_id = key.slice(keyClient.length + 1);
    if (!stack_id) throw invalid(`desired-state tombstone key ${JSON.stringify(key)} is not client_id/stack_id`);
    return { kind: "DesiredStateRemoved", at: recordTs, client_id: keyClient, stack_id };
  }
  if (value.client_id !== keyClient) {
    throw invalid(`client_id ${JSON.stringify(value.client_id)} does not match the record key ${JSON.stringify(key)}`);
  }
  switch (role) {
    case "desired-state":
      return desiredFromAvro(key, value, recordTs);
    case "provider-events": {
      const v = value as Avro & Record<string, string | null>;
      const event_type = oneOf<ProviderEventType>("event_type", v.event_type!, PROVIDER_EVENT_TYPES);
      const role_ =
        v.provider_role === null ? null : oneOf<Role>("provider_role", v.provider_role!, ["cms", "ecommerce", "ssg"]);
      return {
        kind: "ProviderEventObserved",
        at: time("timestamp", v.timestamp!, recordTs),
        event_id: nonEmpty("event_id", v.event_id!),
        client_id: v.client_id,
        stack_id: shared(v.stack_id),
        environment: shared(v.environment),
        provider_name: sharedText(nonEmpty("provider_name", v.provider_name!)),
        provider_role: role_,
        event_type,
        content_id: v.content_id ?? null,
        content_type: shared(v.content_type),
        integration: shared(v.integration),
        // The client's state keeps a configuration an integration reports: shared among clients that report the same.
        payload: jsonObject("payload_json", v.payload_json!, event_type === "integration.configured"),
      };
    }
    case "resource-events": {
      const v = value as Avro & Record<string, string | null>;
      return {
        kind: "ResourceEventObserved",
        at: time("timestamp", v.timestamp!, recordTs),
        event_id: nonEmpty("event_id", v.event_id!),
        client_id: v.client_id,
        stack_id: shared(v.stack_id),
        environment: shared(v.environment),
        resource_name: sharedText(nonEmpty("resource_name", v.resource_name!)),
        status: oneOf<ResourceStatus>("status", v.status!, RESOURCE_STATUSES),
        source: shared(v.source) ?? "unknown",
      };
    }
    case "commands": {
      const v = value as Avro & Record<string, string | null>;
      const params = jsonObject("params_json", v.params_json!);
      const falsePositive = params.false_positive;
      if (falsePositive !== undefined && typeof falsePositive !== "boolean")
        throw invalid(`params_json.false_positive must be true or false, got ${JSON.stringify(falsePositive)}`);
      if (falsePositive === true && v.command !== "reject")
        throw invalid(`params_json.false_positive goes with a reject command, not ${JSON.stringify(v.command)}`);
      return {
        kind: "CommandIssued",
        at: time("issued_at", v.issued_at!, recordTs),
        command_id: nonEmpty("command_id", v.command_id!),
        client_id: v.client_id,
        stack_id: v.stack_id ?? null,
        command: oneOf<OperatorCommand>("command", v.command!, OPERATOR_COMMANDS),
        drift_id: v.drift_id ?? null,
        issued_by: nonEmpty("issued_by", v.issued_by!),
        reason: v.reason ?? null,
        ...(falsePositive === true ? { false_positive: true } : {}),
      };
    }
    case "heal-results": {
      const v = value as Avro & Record<string, string | number | null>;
      return {
        kind: "HealResultReported",
        at: time("started_at", String(v.completed_at ?? v.started_at), recordTs),
        command_key: String(v.command_key),
        client_id: v.client_id,
        stack_id: String(v.stack_id),
        drift_id: String(v.drift_id),
        action: String(v.action),
        attempt: Number(v.attempt),
        status: oneOf("status", String(v.status), ["started", "succeeded", "failed"] as const),
        error_message: (v.error_message as string | null) ?? null,
      };
    }
    default:
      throw invalid(`${role} is not an input topic`);
  }
}

function desiredFromAvro(key: string, v: Avro, recordTs: number): InputRecord {
  const d = v as unknown as AvroDesiredState;
  if (key !== `${d.client_id}/${d.stack_id}`)
    throw invalid(`desired-state key ${JSON.stringify(key)} is not ${d.client_id}/${d.stack_id}`);
  for (const i of d.integrations) {
    try {
      JSON.parse(i.config_json);
    } catch {
      throw invalid(`integrations.${i.name}.config_json is not valid JSON`);
    }
  }
  oneOf("policy.auto_heal.backoff_strategy", d.policy.auto_heal.backoff_strategy, ["linear", "exponential"] as const);
  (d.policy.auto_heal.windows ?? []).forEach((w, k) => {
    if (!isTimeZone(w.timezone))
      throw invalid(`policy.auto_heal.windows.${k}.timezone ${JSON.stringify(w.timezone)} is not a time zone`);
    if (![w.start, w.end].every((t) => /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/.test(t)))
      throw invalid(`policy.auto_heal.windows.${k}: start/end must be HH:MM`);
    oneOf(`policy.auto_heal.windows.${k}.action`, w.action, ["allow", "deny"] as const);
    for (const day of w.days) oneOf(`policy.auto_heal.windows.${k}.days`, day, WEEKDAYS);
  });
  for (const c of d.policy.notifications.channels)
    oneOf<Severity>("severity_threshold", c.severity_threshold, SEVERITIES);
  const desired = desiredStackFromAvro(d);
  // The same checks as blackwell.yaml and the API: content the core would throw on goes to the DLQ here.
  const problems = desiredProblems(desired, "record");
  if (problems.length > 0)
    throw invalid(`desired state ${key} is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  return { kind: "DesiredStateApplied", at: time("applied_at", d.applied_at, recordTs), desired };
}

/**
 * The core's DesiredStack from its Avro form, without checks: for values checked when they came in (the task store
 * and its changelog). Input records go through `toInput`, which checks them first.
 */
export function desiredStackFromAvro(d: AvroDesiredState): DesiredStack {
  // Bookkeeping fields only when set: a state written without them reads back as it was.
  const { policy_declared_json, fleet_policy_version, promotion, promoted_from, approved_by, ...rest } = d;
  return {
    ...rest,
    // What stacks of a fleet have in common is shared among their decoded states (interner.ts); ids unique to the
    // stack (client, ARNs, build project) are not.
    stack_id: sharedText(d.stack_id),
    environment: sharedText(d.environment),
    state_version: sharedText(d.state_version),
    previous_versions: sharedTexts(d.previous_versions),
    desired_hash: sharedText(d.desired_hash),
    applied_at: sharedText(d.applied_at),
    applied_by: sharedText(d.applied_by),
    source: sharedText(d.source),
    providers: PROVIDER_SETS.intern(JSON.stringify([d.providers.cms, d.providers.ecommerce, d.providers.ssg]), () =>
      Object.freeze({ ...d.providers }),
    ),
    resources: d.resources.map((r) => ({
      name: sharedText(r.name),
      arn: r.arn,
      ignore_paths: sharedTexts(r.ignore_paths),
    })),
    content_types: sharedTexts(d.content_types),
    ...(policy_declared_json != null ? { policy_declared_json } : {}),
    ...(fleet_policy_version != null ? { fleet_policy_version } : {}),
    ...(promotion != null
      ? {
          promotion: {
            ...withoutCoordination(promotion),
            match: promotion.match as PromotionSpec["match"],
            max_lag_seconds: Number(promotion.max_lag_seconds),
            soak_seconds: Number(promotion.soak_seconds),
            verify_window_seconds: Number(promotion.verify_window_seconds),
            ...(promotion.coordinate_heals ? { coordinate_heals: true } : {}),
            ...(promotion.approval_required ? { approval_required: true } : {}),
          },
        }
      : {}),
    ...(promoted_from != null ? { promoted_from: { ...promoted_from } } : {}),
    ...(approved_by != null ? { approved_by } : {}),
    integrations: integrationsFromAvro(d.integrations),
    policy: POLICIES.intern(JSON.stringify(d.policy), () => policyFromAvro(d.policy)),
    staleness: STALENESS.intern(
      `${d.staleness.provider_silence_seconds}/${d.staleness.resource_ttl_seconds}/${d.staleness.content_grace_seconds}/${d.staleness.webhook_failure_threshold}`,
      () =>
        Object.freeze({
          provider_silence_seconds: Number(d.staleness.provider_silence_seconds),
          resource_ttl_seconds: Number(d.staleness.resource_ttl_seconds),
          content_grace_seconds: Number(d.staleness.content_grace_seconds),
          webhook_failure_threshold: d.staleness.webhook_failure_threshold,
        }),
    ),
  };
}

/** A stack's integrations, frozen, shared among the stacks that declare the same list (unless it is large). */
function integrationsFromAvro(list: AvroDesiredState["integrations"]): DesiredStack["integrations"] {
  const make = () =>
    Object.freeze(
      list.map((i) =>
        Object.freeze({
          name: sharedText(i.name),
          config: sharedJson(i.config_json),
          ignore_paths: Object.freeze(sharedTexts(i.ignore_paths)) as string[],
        }),
      ),
    ) as DesiredStack["integrations"];
  const key = JSON.stringify(list);
  return key.length > INTEGRATION_LIST_KEY_MAX
    ? make()
    : (INTEGRATION_LISTS.intern(key, make) as DesiredStack["integrations"]);
}

/** Lists whose Avro form is longer than this are not worth a table entry (the table holds its keys). */
const INTEGRATION_LIST_KEY_MAX = 16 * 1024;

/** Integration lists, provider sets and staleness windows decoded, shared (frozen) among the stacks that declare the same. */
const INTEGRATION_LISTS = new Interner<ReadonlyArray<DesiredStack["integrations"][number]>>();
const PROVIDER_SETS = new Interner<Readonly<DesiredStack["providers"]>>();
const STALENESS = new Interner<Readonly<DesiredStack["staleness"]>>();

/**
 * A promotion as the core holds it: `coordinate_heals` and `approval_required` only when on (so a promotion without
 * them reads back as it was).
 */
function withoutCoordination<T extends { coordinate_heals?: boolean; approval_required?: boolean }>(
  p: T,
): Omit<T, "coordinate_heals" | "approval_required"> {
  const { coordinate_heals: _on, approval_required: _approval, ...rest } = p;
  return rest;
}

/** Policies decoded, shared among the stacks that declare the same one. */
const POLICIES = new Interner<DesiredStack["policy"]>();

function policyFromAvro(policy: AvroDesiredState["policy"]): DesiredStack["policy"] {
  const { preempt, ...autoHeal } = policy.auto_heal;
  return {
    ...policy,
    auto_heal: {
      ...autoHeal,
      ...(preempt
        ? { preempt: { min_confidence: preempt.min_confidence, drift_types: [...preempt.drift_types] } }
        : {}),
      backoff_strategy: policy.auto_heal.backoff_strategy as "linear" | "exponential",
      windows: (policy.auto_heal.windows ?? []).map((w) => ({
        ...w,
        action: w.action as "allow" | "deny",
        days: w.days as Weekday[],
      })),
    },
    notifications: {
      channels: policy.notifications.channels.map((c) => ({
        ...c,
        severity_threshold: c.severity_threshold as Severity,
      })),
    },
  };
}

/** The Avro DesiredState shape (config as JSON text). */
export type AvroDesiredState = Omit<
  DesiredStack,
  "integrations" | "policy" | "promotion" | "promoted_from" | "approved_by"
> & {
  promotion?: (Omit<PromotionSpec, "match"> & { match: string[] }) | null;
  promoted_from?: { stack_id: string; state_version: string } | null;
  approved_by?: string | null;
  integrations: Array<{ name: string; config_json: string; ignore_paths: string[] }>;
  policy: Omit<DesiredStack["policy"], "auto_heal" | "notifications"> & {
    auto_heal: Omit<DesiredStack["policy"]["auto_heal"], "backoff_strategy" | "windows" | "preempt"> & {
      backoff_strategy: string;
      preempt?: { min_confidence: number; drift_types: string[] } | null;
      windows?: Array<Omit<HealWindow, "action" | "days"> & { action: string; days: string[] }>;
    };
    notifications: {
      channels: Array<
        Omit<DesiredStack["policy"]["notifications"]["channels"][number], "severity_threshold"> & {
          severity_threshold: string;
        }
      >;
    };
  };
};

export function desiredToAvro(d: DesiredStack): AvroDesiredState {
  const ah = d.policy.auto_heal;
  return {
    ...d,
    promotion: d.promotion ?? null,
    promoted_from: d.promoted_from ?? null,
    approved_by: d.approved_by ?? null,
    integrations: d.integrations.map((i) => ({
      name: i.name,
      config_json: JSON.stringify(i.config),
      ignore_paths: i.ignore_paths,
    })),
    policy: {
      ...d.policy,
      auto_heal: {
        ...ah,
        circuit_breaker: ah.circuit_breaker ?? DEFAULT_GUARDS.circuit_breaker,
        flap_detection: ah.flap_detection ?? DEFAULT_GUARDS.flap_detection,
        windows: ah.windows ?? [],
        content_quiet_period_seconds: ah.content_quiet_period_seconds ?? DEFAULT_GUARDS.content_quiet_period_seconds,
        min_confidence: ah.min_confidence ?? 0,
        preempt: ah.preempt ?? null,
      },
    },
  };
}

export function driftEventToAvro(t: DriftTransition): Record<string, unknown> {
  return {
    event_id: t.event_id,
    reconciliation_id: t.reconciliation_id,
    client_id: t.client_id,
    stack_id: t.stack_id,
    drift_id: t.drift_id,
    transition: t.transition,
    drift_type: t.drift_type,
    component: t.component,
    expected_json: JSON.stringify(t.expected ?? null),
    observed_json: JSON.stringify(t.observed ?? null),
    severity: t.severity,
    detected_at: isoTime(t.detected_at),
    timestamp: isoTime(t.at),
    auto_heal_eligible: t.auto_heal_eligible,
    auto_heal_attempted: t.auto_heal_attempted,
    state_version: t.state_version,
    confidence: t.confidence,
    evidence_at: t.evidence_at === null ? null : isoTime(t.evidence_at),
    note: t.note,
  };
}

export function predictionToAvro(p: PredictionTransition): Record<string, unknown> {
  return {
    event_id: p.event_id,
    reconciliation_id: p.reconciliation_id,
    client_id: p.client_id,
    stack_id: p.stack_id,
    drift_id: p.drift_id,
    transition: p.transition,
    drift_type: p.drift_type,
    kind: p.kind,
    component: p.component,
    precursor: p.precursor,
    confidence: p.confidence,
    evidence: p.evidence,
    predicted_at: isoTime(p.predicted_at),
    expected_at: isoTime(p.expected_at),
    horizon_until: isoTime(p.horizon_until),
    timestamp: isoTime(p.at),
    lead_seconds: p.lead_ms === null ? null : p.lead_ms / 1000,
    preempted: p.preempted,
    note: p.note,
  };
}

export function stateRecordToAvro(s: StackStateView): Record<string, unknown> {
  return {
    ...s,
    last_applied: isoTime(s.last_applied),
    last_verified: isoTime(s.last_verified),
    created_at: isoTime(s.created_at),
    updated_at: isoTime(s.updated_at),
    component_observed_at: Object.fromEntries(Object.entries(s.component_observed_at).map(([k, t]) => [k, isoTime(t)])),
    drift_details: s.drift_details.map((d) => ({
      drift_id: d.drift_id,
      type: d.type,
      component: d.component,
      expected_json: JSON.stringify(d.expected ?? null),
      observed_json: JSON.stringify(d.observed ?? null),
      severity: d.severity,
      detected_at: isoTime(d.detected_at),
      acknowledged: d.acknowledged,
      confidence: d.confidence,
    })),
  };
}

export function healCommandToAvro(c: HealCommandOutput): Record<string, unknown> {
  return {
    command_key: c.command_key,
    client_id: c.client_id,
    stack_id: c.stack_id,
    drift_id: c.drift_id,
    reconciliation_id: c.reconciliation_id,
    action: c.action,
    params_json: JSON.stringify(c.params),
    attempt: c.attempt,
    not_before: isoTime(c.not_before),
    issued_at: isoTime(c.issued_at),
    approved_by: c.approved_by,
  };
}

export function auditToAvro(a: AuditOutput): Record<string, unknown> {
  return {
    audit_id: a.audit_id,
    timestamp: isoTime(a.at),
    action: a.action,
    client_id: a.client_id,
    stack_id: a.stack_id,
    drift_id: a.drift_id,
    triggered_by: a.triggered_by,
    success: a.success,
    changes_made_json: JSON.stringify(a.changes_made ?? {}),
    approval_required: a.approval_required,
    approver: a.approver,
    reason: a.reason,
  };
}

/**
 * Checks `raw` against the action's parameter table and keeps only the
 * declared parameters (a newer writer's extra ones are not ours to pass on).
 */
function healParams(action: HealAction, raw: Record<string, unknown>): HealActionWithParams {
  const params: Record<string, unknown> = {};
  const specs: Record<string, HealParamSpec> = HEAL_ACTION_TABLE[action].params;
  for (const [name, spec] of Object.entries(specs)) {
    const value = raw[name];
    const field = `params_json.${name}`;
    if (spec === "json") {
      if (value === undefined) throw invalid(`${field} is required for ${action}`);
    } else if (spec === "string" || (value !== undefined && value !== null)) {
      if (typeof value !== "string" || value.trim() === "") {
        throw invalid(`${field} must be a non-empty string for ${action}, got ${JSON.stringify(value ?? null)}`);
      }
    }
    params[name] = value ?? null;
  }
  // The table is the type's source: the checks above are what HealParams<action> promises.
  return { action, params } as HealActionWithParams;
}

/**
 * A heal command as an executor reads it: validated, times in ms, params typed
 * for its action. Throws BLACKWELL_ERR_INVALID_RECORD (the record goes to the
 * DLQ) for what no executor could act on.
 */
export function healCommandFromAvro(key: string, v: Record<string, unknown>): HealCommandOutput {
  const s = (field: string) => nonEmpty(field, String(v[field] ?? ""));
  if (v.client_id !== key)
    throw invalid(`client_id ${JSON.stringify(v.client_id)} does not match the record key ${JSON.stringify(key)}`);
  const attempt = Number(v.attempt);
  if (!Number.isInteger(attempt) || attempt < 1)
    throw invalid(`attempt ${JSON.stringify(v.attempt)} must be a positive integer`);
  const parse = (field: string) => {
    const ms = parseIsoTime(s(field));
    if (Number.isNaN(ms)) throw invalid(`${field} ${JSON.stringify(v[field])} is not an ISO8601 time`);
    return ms;
  };
  const action = oneOf("action", s("action"), HEAL_ACTIONS);
  return {
    command_key: s("command_key"),
    client_id: s("client_id"),
    stack_id: s("stack_id"),
    drift_id: s("drift_id"),
    reconciliation_id: s("reconciliation_id"),
    ...healParams(action, jsonObject("params_json", String(v.params_json ?? ""))),
    attempt,
    not_before: parse("not_before"),
    issued_at: parse("issued_at"),
    approved_by: (v.approved_by as string | null) ?? null,
  };
}
