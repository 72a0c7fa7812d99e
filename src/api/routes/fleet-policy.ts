/**
 * The fleet policy over the API: `GET /v1/fleet-policy` (any token: the defaults and rules every stack lives under),
 * `PUT /v1/fleet-policy` (admin tokens only; YAML or JSON, `?dry_run=true` to see what it would change), and
 * `GET /v1/clients/{client}/stacks/{stack}/policy/explain` (the stack's effective policy, each field with where it
 * came from).
 */
import type { FastifyInstance } from "fastify";
import { parseFleetPolicy } from "../../adapters/yaml/parse-blackwell-yaml.js";
import { currentFleetPolicy, explainPolicy, setFleetPolicy } from "../../runtime/fleet-policy.js";
import { visibleClient, withFreshness } from "../client-scope.js";
import { fail } from "../error-reply.js";
import { principalOf } from "../route-auth.js";
import type { RouteDeps } from "../route-deps.js";
import { params, type Params } from "../route-schemas.js";

export const fleetPutQuerystring = {
  type: "object",
  additionalProperties: false,
  properties: { dry_run: { type: "boolean", description: "say what it would change, change nothing" } },
} as const;

export async function fleetPolicyRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { ctx, replica } = deps;
  app.get("/v1/fleet-policy", async (_req, reply) => {
    const fleet = await currentFleetPolicy(ctx);
    return reply.send({ fleet_policy: fleet });
  });

  app.put<{ Querystring: { dry_run?: boolean }; Body: unknown }>(
    "/v1/fleet-policy",
    { schema: { querystring: fleetPutQuerystring } },
    async (req, reply) => {
      if (principalOf(req).client_id !== null)
        return fail(
          reply,
          "BLACKWELL_ERR_FORBIDDEN",
          "the fleet policy applies to every client: it needs an admin token",
        );
      const text = typeof req.body === "string" ? req.body : JSON.stringify(req.body ?? null);
      const parsed = parseFleetPolicy(text, "request body");
      const result = await setFleetPolicy(ctx, parsed, {
        by: principalOf(req).name,
        reason: null,
        file: "request body",
        dryRun: req.query.dry_run ?? false,
      });
      return reply.send(result);
    },
  );

  app.get<{ Params: Params }>(
    "/v1/clients/:client/stacks/:stack/policy/explain",
    { schema: { params: params("client", "stack") } },
    async (req, reply) => {
      const client = visibleClient(req, reply, replica);
      if (!client) return reply;
      const explained = await explainPolicy(ctx, client, req.params.stack);
      if (!explained)
        return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no stack ${req.params.stack} for client ${client}`);
      return withFreshness(req, reply, replica, { ...explained });
    },
  );
}
