/**
 * Rollback: publish the desired state of an earlier version (from desired-history) as the stack's next version.
 * Promote: publish an earlier environment's stack's promoted parts as this stack's next version, gated
 * (src/runtime/promote.ts); a gate's refusal answers 409 with every reason.
 */
import type { FastifyInstance } from "fastify";
import { rollbackDesired } from "../../runtime/rollback.js";
import { promote } from "../../runtime/promote.js";
import { visibleClient } from "../client-scope.js";
import { principalOf } from "../route-auth.js";
import type { RouteDeps } from "../route-deps.js";
import { params, type Params } from "../route-schemas.js";

const body = {
  type: "object",
  required: ["to"],
  additionalProperties: false,
  properties: { to: { type: "string", pattern: "^v\\d+\\.\\d+\\.\\d+$" } },
} as const;

export const promoteBody = {
  type: "object",
  required: ["from"],
  additionalProperties: false,
  properties: {
    from: { type: "string", pattern: "^[a-z0-9][a-z0-9._-]{0,62}$", description: "the stack promoted from" },
    dry_run: { type: "boolean" },
  },
} as const;

export async function rollbackRoutes(app: FastifyInstance, { ctx, replica }: RouteDeps): Promise<void> {
  type Req = { Params: Params; Body: { to: string } };
  const schema = { params: params("client", "stack"), body };
  app.post<Req>("/v1/clients/:client/stacks/:stack/rollback", { schema }, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    return rollbackDesired(ctx, client, req.params.stack, req.body.to, principalOf(req).name);
  });
  app.post<{ Params: Params; Body: { from: string; dry_run?: boolean } }>(
    "/v1/clients/:client/stacks/:stack/promote",
    { schema: { params: params("client", "stack"), body: promoteBody } },
    async (req, reply) => {
      const client = visibleClient(req, reply, replica);
      if (!client) return reply;
      return promote(ctx, client, {
        from: req.body.from,
        to: req.params.stack,
        by: principalOf(req).name,
        dryRun: req.body.dry_run ?? false,
      });
    },
  );
}
