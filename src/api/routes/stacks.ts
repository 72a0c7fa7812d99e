/** A client's stacks: every StateRecord, or one (getState). */
import type { FastifyInstance } from "fastify";
import { visibleClient, withFreshness } from "../client-scope.js";
import { fail } from "../error-reply.js";
import type { RouteDeps } from "../route-deps.js";
import { params, type Params } from "../route-schemas.js";
import { stateView } from "../views.js";

export async function stackRoutes(app: FastifyInstance, { replica }: RouteDeps): Promise<void> {
  const one = { schema: { params: params("client", "stack") } };
  const all = { schema: { params: params("client") } };
  app.get<{ Params: Params }>("/v1/clients/:client/stacks", all, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    return withFreshness(req, reply, replica, { client_id: client, stacks: replica.stacks(client).map(stateView) });
  });

  app.get<{ Params: Params }>("/v1/clients/:client/stacks/:stack", one, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    const state = replica.stack(client, req.params.stack);
    if (!state) {
      const why = "yet: a stack appears once the reconciler has evaluated it";
      return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no stack ${req.params.stack} for client ${client} (${why})`);
    }
    return withFreshness(req, reply, replica, stateView(state));
  });
}
