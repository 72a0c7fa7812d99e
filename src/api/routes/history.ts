/** getReconciliationHistory: drift transitions and audit entries of a client, newest first. */
import type { FastifyInstance } from "fastify";
import { visibleClient, withFreshness } from "../client-scope.js";
import type { RouteDeps } from "../route-deps.js";
import { params, type Params } from "../route-schemas.js";
import { historyView } from "../views.js";

/** Entries answered when the caller gives no `limit`. */
const DEFAULT_LIMIT = 50;

const querystring = {
  type: "object",
  additionalProperties: false,
  properties: { limit: { type: "integer", minimum: 1, maximum: 1000 } },
} as const;

export async function historyRoutes(app: FastifyInstance, { replica }: RouteDeps): Promise<void> {
  type Req = { Params: Params; Querystring: { limit?: number } };
  const schema = { params: params("client"), querystring };
  app.get<Req>("/v1/clients/:client/history", { schema }, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    const limit = req.query.limit ?? DEFAULT_LIMIT;
    const events = historyView(replica.driftEvents(client, limit), replica.audits(client, limit), limit);
    return withFreshness(req, reply, replica, { client_id: client, events });
  });
}
