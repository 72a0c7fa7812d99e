/**
 * The fleet policy on Kafka: read the latest from the compacted `fleet-policy`
 * topic, put a stack's effective policy together from its own fields, the
 * fleet's defaults and the built-in defaults (refusing what a fleet rule
 * forbids), and set a new fleet policy, which publishes the next version of
 * every stack whose effective policy it changes.
 */
import { desiredStackFromAvro, desiredToAvro, type AvroDesiredState } from "../adapters/kafka/records.js";
import { desiredHash, parsePolicyDocument, type ParsedFleetPolicy } from "../adapters/yaml/parse-blackwell-yaml.js";
import { canonicalJson } from "../core/canonical-json.js";
import type { DesiredStack } from "../core/model/desired.js";
import {
  NO_RULES,
  fieldOf,
  inheritedDocument,
  policySources,
  ruleViolations,
  type FieldSource,
  type FleetPolicy,
  type PolicyDocument,
} from "../core/policy/fleet-policy.js";
import { policyDocument } from "../core/policy/policy-document.js";
import { BlackwellError } from "../errors.js";
import type { AppContext } from "./app-context.js";
import { bumpVersion, currentDesired, historyRecord, type StackChange } from "./apply-desired.js";
import { latestByKey, readRecords } from "./read-records.js";

export const FLEET_KEY = "fleet";
const MAX_PREVIOUS_VERSIONS = 20;

interface AvroFleetPolicy {
  version: number;
  set_at: string;
  set_by: string;
  reason: string | null;
  defaults_json: string;
  rules: {
    approval_required_from_severity: string | null;
    max_attempts_at_most: number | null;
    never_auto_heal: string[];
  };
}

export function fleetPolicyFromAvro(v: AvroFleetPolicy): FleetPolicy {
  return {
    version: v.version,
    set_at: v.set_at,
    set_by: v.set_by,
    reason: v.reason,
    defaults: JSON.parse(v.defaults_json) as PolicyDocument,
    rules: {
      approval_required_from_severity: v.rules
        .approval_required_from_severity as FleetPolicy["rules"]["approval_required_from_severity"],
      max_attempts_at_most: v.rules.max_attempts_at_most,
      never_auto_heal: v.rules.never_auto_heal,
    },
  };
}

function fleetPolicyToAvro(f: FleetPolicy): AvroFleetPolicy {
  return {
    version: f.version,
    set_at: f.set_at,
    set_by: f.set_by,
    reason: f.reason,
    defaults_json: JSON.stringify(f.defaults),
    rules: { ...f.rules },
  };
}

/** The fleet policy in force (null: none was ever set). */
export async function currentFleetPolicy(ctx: AppContext): Promise<FleetPolicy | null> {
  const records = await readRecords<AvroFleetPolicy>(ctx, "fleet-policy", null);
  const latest = latestByKey(records).get(FLEET_KEY);
  return latest ? fleetPolicyFromAvro(latest) : null;
}

/** One stack's policy problems under a fleet policy, named for people: `client/stack: field: message`. */
export interface StackViolation {
  stack: string;
  path: string;
  message: string;
}

/**
 * The stack with its effective policy under `fleet`: its own fields, then the fleet's defaults, then the built-in
 * ones; its desired hash follows. A stack written before fleet policies (no declared fields known) keeps its policy
 * whole. Also returns what the fleet's rules forbid in the result.
 */
export function underFleet<
  T extends Omit<DesiredStack, "state_version" | "previous_versions" | "applied_at" | "applied_by">,
>(stack: T, fleet: FleetPolicy | null): { stack: T; violations: StackViolation[] } {
  const name = `${stack.client_id}/${stack.stack_id}`;
  const declared = stack.policy_declared_json ? (JSON.parse(stack.policy_declared_json) as PolicyDocument) : null;
  let policy = stack.policy;
  if (declared !== null) {
    const document = inheritedDocument(declared, fleet?.defaults ?? {});
    policy = parsePolicyDocument(
      JSON.stringify(document),
      `the policy of ${name} under fleet policy v${fleet?.version ?? 0}`,
    );
  }
  const violations = ruleViolations(policy, fleet?.rules ?? NO_RULES).map((v) => ({ stack: name, ...v }));
  const next = { ...stack, policy, fleet_policy_version: fleet?.version ?? null };
  return { stack: { ...next, desired_hash: desiredHash(next) }, violations };
}

/** The error for policies a fleet rule forbids: every one, with its stack and field. */
export function fleetRuleError(file: string, violations: StackViolation[]): BlackwellError {
  const lines = violations.map((v) =>
    v.stack === "defaults" ? `  defaults.${v.path}: ${v.message}` : `  ${v.stack}: policy.${v.path}: ${v.message}`,
  );
  return new BlackwellError(
    "BLACKWELL_ERR_INVALID_DESIRED_STATE",
    `${file}: ${violations.length === 1 ? "a fleet rule forbids this" : "fleet rules forbid these"}:\n${lines.join("\n")}`,
  );
}

/** The latest desired state of every stack of every client. */
export async function allCurrentDesired(ctx: AppContext): Promise<Map<string, DesiredStack>> {
  const records = await readRecords<AvroDesiredState>(ctx, "desired-state", null);
  return new Map([...latestByKey(records)].map(([key, value]) => [key, desiredStackFromAvro(value)]));
}

const samePolicy = (a: DesiredStack, b: DesiredStack) =>
  canonicalJson(desiredToAvro(a).policy) === canonicalJson(desiredToAvro(b).policy);

export interface FleetChange {
  version: number;
  dry_run: boolean;
  changes: Array<StackChange & { client_id: string }>;
}

/**
 * Sets the fleet policy: refused, with every stack and field, when a rule forbids what a stack sets; else the policy
 * is published, then the next version (a patch) of every stack whose effective policy changes, history first.
 */
export async function setFleetPolicy(
  ctx: AppContext,
  parsed: ParsedFleetPolicy,
  o: { by: string; reason: string | null; file: string; dryRun?: boolean; now?: Date },
): Promise<FleetChange> {
  const before = await currentFleetPolicy(ctx);
  const now = (o.now ?? new Date()).toISOString();
  const fleet: FleetPolicy = {
    version: (before?.version ?? 0) + 1,
    set_at: now,
    set_by: o.by,
    reason: o.reason,
    defaults: parsed.defaults,
    rules: parsed.rules,
  };
  // The defaults must keep the rules themselves: else every stack inheriting them would be blamed for them.
  const own = ruleViolations(parsePolicyDocument(JSON.stringify(fleet.defaults), o.file), fleet.rules).filter(
    (v) => fieldOf(fleet.defaults, v.path.split(".")) !== undefined || v.path === "auto_heal.require_approval",
  );
  if (own.length > 0)
    throw fleetRuleError(
      o.file,
      own.map((v) => ({ stack: "defaults", ...v })),
    );
  const current = await allCurrentDesired(ctx);
  const violations: StackViolation[] = [];
  const changes: FleetChange["changes"] = [];
  const next: DesiredStack[] = [];
  for (const [, desired] of [...current].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const { stack, violations: found } = underFleet(desired, fleet);
    violations.push(...found);
    const change = { client_id: desired.client_id, stack_id: desired.stack_id, from: desired.state_version };
    // Compared as the topic holds them (defaults filled in), not by hash: a hash taken from the file may differ.
    if (samePolicy(stack, desired)) {
      changes.push({ ...change, change: "unchanged", to: desired.state_version });
      continue;
    }
    const version = bumpVersion(desired.state_version, "patch");
    changes.push({ ...change, change: "updated", to: version });
    // A fleet change is not a promotion: the new version is not verified (and rolled back) as one.
    const { promoted_from: _promoted, approved_by: _approved, ...unpromoted } = stack;
    next.push({
      ...unpromoted,
      state_version: version,
      previous_versions: [desired.state_version, ...desired.previous_versions].slice(0, MAX_PREVIOUS_VERSIONS),
      applied_at: now,
      applied_by: `${o.by} (fleet policy v${fleet.version})`,
      source: "fleet-policy",
    });
  }
  if (violations.length > 0) throw fleetRuleError(o.file, violations);
  if (!o.dryRun) {
    const producer = await ctx.kafka.producer();
    try {
      await producer.send([
        {
          topic: ctx.names["fleet-policy"],
          key: FLEET_KEY,
          value: ctx.serde.encode(ctx.names["fleet-policy"], "FleetPolicy", fleetPolicyToAvro(fleet)),
        },
      ]);
      if (next.length > 0) {
        // History first: a version is published only once it can be rolled back to.
        await producer.send(next.map((d) => ({ topic: ctx.names["desired-history"], ...historyRecord(ctx, d) })));
        await producer.send(
          next.map((d) => ({
            topic: ctx.names["desired-state"],
            key: `${d.client_id}/${d.stack_id}`,
            value: ctx.serde.encode(ctx.names["desired-state"], "DesiredState", desiredToAvro(d)),
          })),
        );
      }
    } finally {
      await producer.disconnect();
    }
  }
  return { version: fleet.version, dry_run: o.dryRun ?? false, changes };
}

export interface PolicyExplanation {
  client_id: string;
  stack_id: string;
  state_version: string;
  /** The fleet policy version the stack's policy was computed with, and the one in force now. */
  fleet_policy_version: number | null;
  fleet_policy_current: number | null;
  fields: Array<{ field: string; value: unknown; source: FieldSource }>;
  rules: FleetPolicy["rules"];
  /** What the rules in force forbid in the stack's policy (a stack applied before a rule existed). */
  violations: StackViolation[];
}

/** The stack's effective policy, field by field, with where each field came from. Null: no such stack. */
export async function explainPolicy(ctx: AppContext, client: string, stack: string): Promise<PolicyExplanation | null> {
  const desired = (await currentDesired(ctx, client)).get(stack);
  if (!desired) return null;
  const fleet = await currentFleetPolicy(ctx);
  const declared = desired.policy_declared_json ? (JSON.parse(desired.policy_declared_json) as PolicyDocument) : null;
  // The fleet defaults the stack's policy was computed with are those of its version; the current ones may differ
  // until the stack's next version (a fleet change publishes it).
  const document = policyDocument(desired.policy);
  return {
    client_id: client,
    stack_id: stack,
    state_version: desired.state_version,
    fleet_policy_version: desired.fleet_policy_version ?? null,
    fleet_policy_current: fleet?.version ?? null,
    fields: policySources(declared, fleet?.defaults ?? {}).map(({ field, source }) => ({
      field,
      value: fieldOf(document, field.split(".")) ?? null,
      source,
    })),
    rules: fleet?.rules ?? NO_RULES,
    violations: ruleViolations(desired.policy, fleet?.rules ?? NO_RULES).map((v) => ({
      stack: `${client}/${stack}`,
      ...v,
    })),
  };
}
