/** getDriftStatus: the open drifts of a client's stacks. */
import type { FastifyInstance } from "fastify";
import { visibleClient, withFreshness } from "../client-scope.js";
import type { RouteDeps } from "../route-deps.js";
import { params, type Params } from "../route-schemas.js";
import { driftStatus } from "../views.js";

export async function driftRoutes(app: FastifyInstance, { replica }: RouteDeps): Promise<void> {
  const schema = { params: params("client") };
  app.get<{ Params: Params }>("/v1/clients/:client/drift", { schema }, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    return withFreshness(req, reply, replica, driftStatus(client, replica.stacks(client)));
  });
}
