/**
 * A stack's reconciliation policy: read from the replica's desired state,
 * set by publishing the next desired-state version with the new policy.
 */
import type { FastifyInstance } from "fastify";
import { kafkaError } from "../../adapters/kafka/kafka-errors.js";
import { desiredToAvro } from "../../adapters/kafka/records.js";
import { desiredHash, parsePolicyDocument } from "../../adapters/yaml/parse-blackwell-yaml.js";
import { bumpVersion, currentDesired, historyRecord } from "../../runtime/apply-desired.js";
import { visibleClient, withFreshness } from "../client-scope.js";
import { fail } from "../error-reply.js";
import { principalOf } from "../route-auth.js";
import type { RouteDeps } from "../route-deps.js";
import { params, type Params } from "../route-schemas.js";
import { policyView } from "../views.js";

/** Earlier versions a desired state remembers. */
const MAX_PREVIOUS_VERSIONS = 20;

export async function policyRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { ctx, replica, producer } = deps;
  const schema = { params: params("client", "stack") };

  app.get<{ Params: Params }>("/v1/clients/:client/stacks/:stack/policy", { schema }, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    const { stack } = req.params;
    const desired = replica.desired(client, stack);
    if (!desired) return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no stack ${stack} for client ${client}`);
    const { state_version } = desired;
    const policy = policyView(desired);
    return withFreshness(reply, replica, { client_id: client, stack_id: stack, state_version, policy });
  });

  type Put = { Params: Params; Body: unknown };
  app.put<Put>("/v1/clients/:client/stacks/:stack/policy", { schema }, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    const { stack } = req.params;
    const text = typeof req.body === "string" ? req.body : JSON.stringify(req.body ?? null);
    const policy = parsePolicyDocument(text, "request body");
    // The replica may trail the topic: the next version is computed from the topic itself.
    const current = (await currentDesired(ctx, client)).get(stack);
    if (!current) return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no stack ${stack} for client ${client}`);
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
    const next = {
      ...current,
      policy,
      desired_hash: hash,
      state_version: bumpVersion(current.state_version, "minor"),
      previous_versions: [current.state_version, ...current.previous_versions].slice(0, MAX_PREVIOUS_VERSIONS),
      applied_at: new Date().toISOString(),
      applied_by: principalOf(req).name,
      source: "api: PUT policy",
    };
    const topic = ctx.names["desired-state"];
    try {
      // History first: a version on desired-state must already be in the history a rollback reads.
      await producer.send([{ topic: ctx.names["desired-history"], ...historyRecord(ctx, next) }]);
      const value = ctx.serde.encode(topic, "DesiredState", desiredToAvro(next));
      await producer.send([{ topic, key: `${client}/${stack}`, value }]);
    } catch (err) {
      throw kafkaError(err, `publishing the policy of ${client}/${stack}`);
    }
    const from = current.state_version;
    return { client_id: client, stack_id: stack, change: "updated", from, state_version: next.state_version };
  });
}
