/** A client's stacks: every StateRecord, or one (getState). */
import type { FastifyInstance } from "fastify";
import { desiredStackFromAvro, type AvroDesiredState } from "../../adapters/kafka/records.js";
import { componentStates, declaredKey } from "../../core/lifecycle/consistency.js";
import type { DriftType } from "../../core/model/vocabulary.js";
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

  // Each declared component with what the desired state says and whether it was verified matching at the stack's
  // last evaluation (no open drift on it): the per-component view of the state consistency score.
  app.get<{ Params: Params }>("/v1/clients/:client/stacks/:stack/components", one, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    const { stack } = req.params;
    const desired = replica.desired(client, stack);
    if (!desired) return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no stack ${stack} for client ${client}`);
    const state = replica.stack(client, stack);
    const drifts = (
      (state?.drift_details as Array<{ drift_id: string; type: DriftType; component: string }>) ?? []
    ).map((d) => ({ drift_id: d.drift_id, type: d.type, component: d.component }));
    // Null until the reconciler has evaluated this version: nothing is verified yet.
    const current = state && state.state_version === desired.state_version ? state : null;
    const observedAt = (current?.component_observed_at ?? {}) as Record<string, string>;
    const components = componentStates(desiredStackFromAvro(desired as unknown as AvroDesiredState), drifts).map(
      (c) => ({
        ...c,
        observed_at: Object.hasOwn(observedAt, declaredKey(c.kind, c.name))
          ? observedAt[declaredKey(c.kind, c.name)]
          : null,
      }),
    );
    return withFreshness(req, reply, replica, {
      client_id: client,
      stack_id: stack,
      state_version: desired.state_version,
      last_verified: current ? current.last_verified : null,
      consistency_score: state?.consistency_score ?? null,
      components,
    });
  });
}
