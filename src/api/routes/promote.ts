/**
 * Promote: publish an earlier environment's stack's promoted parts as this stack's next version, gated
 * (src/runtime/promote.ts); a gate's refusal answers 409 with every reason. Where the stack's promotion requires an
 * approval, the POST answers 202 with the pending request, which someone else approves (.../promote/approve, 403 for
 * its requester, 409 when either stack has moved on since or nothing is pending) or anyone, its requester included,
 * rejects (.../promote/reject).
 */
import type { FastifyInstance } from "fastify";
import { promote } from "../../runtime/promote.js";
import { approvePromotion, promotionRequestView, rejectPromotion } from "../../runtime/promotion-approval.js";
import { BlackwellError } from "../../errors.js";
import { visibleClient } from "../client-scope.js";
import { principalOf } from "../route-auth.js";
import type { RouteDeps } from "../route-deps.js";
import { noBodyIsEmpty, params, reasonBody, type Params } from "../route-schemas.js";

export const promoteBody = {
  type: "object",
  required: ["from"],
  additionalProperties: false,
  properties: {
    from: { type: "string", pattern: "^[a-z0-9][a-z0-9._-]{0,62}$", description: "the stack promoted from" },
    dry_run: { type: "boolean" },
  },
} as const;

/** `?dry_run=true`, as `POST .../desired-state` takes it; the body's `dry_run` does the same. */
export const promoteQuerystring = {
  type: "object",
  additionalProperties: false,
  properties: { dry_run: { type: "boolean" } },
} as const;

const emptyBody = { type: "object", additionalProperties: false, properties: {} } as const;

export async function promoteRoutes(app: FastifyInstance, { ctx, replica }: RouteDeps): Promise<void> {
  const path = "/v1/clients/:client/stacks/:stack/promote";
  app.post<{ Params: Params; Body: { from: string; dry_run?: boolean }; Querystring: { dry_run?: boolean } }>(
    path,
    { schema: { params: params("client", "stack"), body: promoteBody, querystring: promoteQuerystring } },
    async (req, reply) => {
      const client = visibleClient(req, reply, replica);
      if (!client) return reply;
      const result = await promote(ctx, client, {
        from: req.body.from,
        to: req.params.stack,
        by: principalOf(req).name,
        dryRun: (req.body.dry_run ?? false) || (req.query.dry_run ?? false),
      });
      return reply.code(result.request?.status === "pending" ? 202 : 200).send(result);
    },
  );
  app.get<{ Params: Params }>(path, { schema: { params: params("client", "stack") } }, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    const request = await promotionRequestView(ctx, client, req.params.stack);
    if (request === null)
      throw new BlackwellError(
        "BLACKWELL_ERR_NOT_FOUND",
        `no promotion to ${client}/${req.params.stack} was ever requested`,
      );
    return request;
  });
  app.post<{ Params: Params }>(
    `${path}/approve`,
    { schema: { params: params("client", "stack"), body: emptyBody }, preValidation: noBodyIsEmpty },
    async (req, reply) => {
      const client = visibleClient(req, reply, replica);
      if (!client) return reply;
      return approvePromotion(ctx, client, req.params.stack, { by: principalOf(req).name });
    },
  );
  app.post<{ Params: Params; Body: { reason?: string } }>(
    `${path}/reject`,
    { schema: { params: params("client", "stack"), body: reasonBody }, preValidation: noBodyIsEmpty },
    async (req, reply) => {
      const client = visibleClient(req, reply, replica);
      if (!client) return reply;
      return rejectPromotion(ctx, client, req.params.stack, {
        by: principalOf(req).name,
        ...(req.body.reason ? { reason: req.body.reason } : {}),
      });
    },
  );
}
