/** Liveness, readiness, Prometheus metrics and the OpenAPI document: public, for probes and scrapers. */
import type { FastifyInstance } from "fastify";
import { openApiDocument } from "../openapi.js";
import { PUBLIC_ROUTE } from "../route-auth.js";
import type { RouteDeps } from "../route-deps.js";

export async function opsRoutes(app: FastifyInstance, { replica, metrics }: RouteDeps): Promise<void> {
  const config = PUBLIC_ROUTE;
  app.get("/healthz", { config }, async () => ({ status: "ok" }));
  app.get("/readyz", { config }, async (_req, reply) => {
    const fresh = replica.freshness();
    return reply.code(replica.ready() ? 200 : 503).send({ ready: replica.ready(), replica: fresh });
  });
  app.get("/metrics", { config }, async (_req, reply) => {
    metrics.replicaLag.set(replica.freshness().lag_records);
    metrics.stateConsistency.set(replica.consistency());
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get("/openapi.json", { config }, async () => openApiDocument());
}
