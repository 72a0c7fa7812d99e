/** Rollback: publish the desired state of an earlier version (from desired-history) as the stack's next version. */
import type { FastifyInstance } from "fastify";
import { rollbackDesired } from "../../runtime/rollback.js";
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

export async function rollbackRoutes(app: FastifyInstance, { ctx, replica }: RouteDeps): Promise<void> {
  type Req = { Params: Params; Body: { to: string } };
  const schema = { params: params("client", "stack"), body };
  app.post<Req>("/v1/clients/:client/stacks/:stack/rollback", { schema }, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    return rollbackDesired(ctx, client, req.params.stack, req.body.to, principalOf(req).name);
  });
}
