/**
 * A stack's reconciliation policy: read from the replica's desired state,
 * set by publishing the next desired-state version with the new policy.
 * `PUT` replaces the whole policy and must name every field; `PATCH` takes a
 * JSON merge patch (RFC 7386) of the current policy. Both are validated as
 * the complete policy they produce.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { kafkaError } from "../../adapters/kafka/kafka-errors.js";
import { desiredToAvro } from "../../adapters/kafka/records.js";
import { desiredHash, parsePolicyDocument } from "../../adapters/yaml/parse-blackwell-yaml.js";
import type { DesiredStack, ReconciliationPolicy } from "../../core/model/desired.js";
import { bumpVersion, currentDesired, historyRecord } from "../../runtime/apply-desired.js";
import { visibleClient, withFreshness } from "../client-scope.js";
import { fail } from "../error-reply.js";
import { mergePatch } from "../merge-patch.js";
import type { Row } from "../replica.js";
import { principalOf } from "../route-auth.js";
import type { RouteDeps } from "../route-deps.js";
import { params, type Params } from "../route-schemas.js";
import { policyView } from "../views.js";
import { policyDocument } from "../../core/policy/policy-document.js";
import { currentFleetPolicy, fleetRuleError, underFleet } from "../../runtime/fleet-policy.js";

/** Earlier versions a desired state remembers. */
const MAX_PREVIOUS_VERSIONS = 20;
const MERGE_PATCH = "application/merge-patch+json";

type Req = FastifyRequest<{ Params: Params; Body: unknown }>;

export async function policyRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { replica } = deps;
  const schema = { params: params("client", "stack") };
  const url = "/v1/clients/:client/stacks/:stack/policy";

  app.get<{ Params: Params }>(url, { schema }, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    const { stack } = req.params;
    const desired = replica.desired(client, stack);
    if (!desired) return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no stack ${stack} for client ${client}`);
    const { state_version } = desired;
    const policy = policyView(desired);
    return withFreshness(req, reply, replica, { client_id: client, stack_id: stack, state_version, policy });
  });

  app.put<{ Params: Params; Body: unknown }>(url, { schema }, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    const text = typeof req.body === "string" ? req.body : JSON.stringify(req.body ?? null);
    // Validated before Kafka is read: a partial or bad policy is refused whatever the stack holds.
    const policy = parsePolicyDocument(text, "request body", { complete: true });
    // Every field is the stack's own now: none inherits from the fleet policy.
    const declared = JSON.stringify(policyDocument(policy));
    return publishPolicy(deps, req, reply, client, () => ({ policy, declared }), "api: PUT policy");
  });

  app.patch<{ Params: Params; Body: unknown }>(url, { schema }, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    if (req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase() !== MERGE_PATCH)
      return fail(reply, "BLACKWELL_ERR_UNSUPPORTED_MEDIA_TYPE", `send a JSON merge patch as ${MERGE_PATCH}`);
    const patch = req.body;
    if (patch === null || typeof patch !== "object" || Array.isArray(patch))
      return fail(reply, "BLACKWELL_ERR_BAD_REQUEST", "the merge patch must be a JSON object");
    const patched = (current: DesiredStack) => {
      // The patch applies to the fields the stack sets itself (the rest keeps inheriting from the fleet policy); a
      // stack written before fleet policies sets all of them.
      if (current.policy_declared_json) {
        const declared = mergePatch(JSON.parse(current.policy_declared_json) as Row, patch) as Row;
        const policy = parsePolicyDocument(JSON.stringify(declared), "patched policy");
        return { policy, declared: JSON.stringify(declared) };
      }
      const merged = mergePatch(policyView(current as unknown as Row), patch);
      const policy = parsePolicyDocument(JSON.stringify(merged), "patched policy", { complete: true });
      return { policy, declared: JSON.stringify(merged) };
    };
    return publishPolicy(deps, req, reply, client, patched, "api: PATCH policy");
  });
}

/** Publishes the stack's next desired-state version with the policy `next` computes from the current one. */
async function publishPolicy(
  deps: RouteDeps,
  req: Req,
  reply: FastifyReply,
  client: string,
  next: (current: DesiredStack) => { policy: ReconciliationPolicy; declared: string },
  source: string,
) {
  const { ctx, producer } = deps;
  const { stack } = req.params;
  // The replica may trail the topic: the next version is computed from the topic itself.
  const current = (await currentDesired(ctx, client)).get(stack);
  if (!current) return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no stack ${stack} for client ${client}`);
  const { declared: policy_declared_json, policy: own } = next(current);
  // What the stack does not set comes from the fleet policy, whose rules it must keep.
  const under = underFleet({ ...current, policy: own, policy_declared_json }, await currentFleetPolicy(ctx));
  if (under.violations.length > 0) throw fleetRuleError("request body", under.violations);
  const { policy } = under.stack;
  // The hash covers what was declared, not the versioning around it.
  const {
    desired_hash: _h,
    state_version: _v,
    previous_versions: _p,
    applied_at: _a,
    applied_by: _b,
    ...declared
  } = current;
  const hash = desiredHash({ ...declared, policy });
  if (hash === current.desired_hash) {
    return { client_id: client, stack_id: stack, change: "unchanged", state_version: current.state_version };
  }
  // A policy change is not a promotion: the new version is not verified (and rolled back) as one.
  const { promoted_from: _promoted, approved_by: _approved, ...unpromoted } = current;
  const version = {
    ...unpromoted,
    policy,
    policy_declared_json,
    fleet_policy_version: under.stack.fleet_policy_version,
    desired_hash: hash,
    state_version: bumpVersion(current.state_version, "minor"),
    previous_versions: [current.state_version, ...current.previous_versions].slice(0, MAX_PREVIOUS_VERSIONS),
    applied_at: new Date().toISOString(),
    applied_by: principalOf(req).name,
    source,
  };
  const topic = ctx.names["desired-state"];
  try {
    // History first: a version on desired-state must already be in the history a rollback reads.
    await producer.send([{ topic: ctx.names["desired-history"], ...historyRecord(ctx, version) }]);
    const value = ctx.serde.encode(topic, "DesiredState", desiredToAvro(version));
    await producer.send([{ topic, key: `${client}/${stack}`, value }]);
  } catch (err) {
    throw kafkaError(err, `publishing the policy of ${client}/${stack}`);
  }
  const from = current.state_version;
  return { client_id: client, stack_id: stack, change: "updated", from, state_version: version.state_version };
}
