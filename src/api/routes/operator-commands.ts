/** Operator decisions on an open drift: acknowledge, approve or reject, answered by the reconciler's audit. */
import type { FastifyInstance } from "fastify";
import { visibleClient } from "../client-scope.js";
import { fail } from "../error-reply.js";
import { issueCommand } from "../issue-command.js";
import type { Row } from "../replica.js";
import type { RouteDeps } from "../route-deps.js";
import { noBodyIsEmpty, params, reasonBody, rejectBody, type Params } from "../route-schemas.js";

export const DRIFT_DECISIONS = ["acknowledge", "approve", "reject"] as const;

export async function operatorCommandRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { replica } = deps;
  for (const action of DRIFT_DECISIONS) {
    const schema = { params: params("client", "drift"), body: action === "reject" ? rejectBody : reasonBody };
    type Req = { Params: Params; Body: { reason?: string; false_positive?: boolean } };
    // Every field is optional: a decision may come without a body.
    const route = { schema, preValidation: noBodyIsEmpty };
    app.post<Req>(`/v1/clients/:client/drifts/:drift/${action}`, route, async (req, reply) => {
      const client = visibleClient(req, reply, replica);
      if (!client) return reply;
      const drift = req.params.drift;
      const open = replica.stacks(client).find((s) => (s.drift_details as Row[]).some((d) => d.drift_id === drift));
      if (!open) return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no open drift ${drift} for client ${client}`);
      const fields = {
        stack_id: String(open.stack_id),
        drift_id: drift,
        reason: req.body.reason ?? null,
        ...(req.body.false_positive ? { params: { false_positive: true } } : {}),
      };
      const out = await issueCommand(deps, req, client, action, fields);
      return reply.code(out.status).send(out.body);
    });
  }
}
