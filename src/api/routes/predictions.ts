/** A client's predicted drifts (topic drift-predictions, docs/predictions.md): the open ones, or all with their outcome. */
import type { FastifyInstance } from "fastify";
import { visibleClient, withFreshness } from "../client-scope.js";
import type { RouteDeps } from "../route-deps.js";
import { params, type Params } from "../route-schemas.js";

export const predictionsQuerystring = {
  type: "object",
  additionalProperties: false,
  properties: {
    state: { type: "string", enum: ["open", "all"], description: "open (default): not yet confirmed or expired" },
    limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

export async function predictionRoutes(app: FastifyInstance, { replica }: RouteDeps): Promise<void> {
  type Req = { Params: Params; Querystring: { state?: "open" | "all"; limit?: number } };
  const schema = { params: params("client"), querystring: predictionsQuerystring };
  app.get<Req>("/v1/clients/:client/predictions", { schema }, async (req, reply) => {
    const client = visibleClient(req, reply, replica);
    if (!client) return reply;
    const openOnly = (req.query.state ?? "open") === "open";
    const predictions = replica.predictions(client, openOnly, req.query.limit ?? 100).map((p) => ({
      drift_id: p.drift_id,
      stack_id: p.stack_id,
      state: p.transition === "predicted" ? "open" : p.transition,
      kind: p.kind,
      drift_type: p.drift_type,
      component: p.component,
      precursor: p.precursor,
      confidence: p.confidence,
      evidence: p.evidence,
      predicted_at: p.predicted_at,
      expected_at: p.expected_at,
      horizon_until: p.horizon_until,
      lead_seconds: p.lead_seconds ?? null,
      preempted: p.preempted,
      note: p.note ?? null,
    }));
    return withFreshness(req, reply, replica, { client_id: client, predictions });
  });
}
