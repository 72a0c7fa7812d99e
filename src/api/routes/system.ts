/**
 * The system panel of the fleet page (admin tokens only): the reconciler's consumer lag and throughput, the
 * dead-letter topic, and the alerts those and the fleet's totals fire (system-alerts.ts).
 */
import type { FastifyInstance } from "fastify";
import { withFreshness } from "../client-scope.js";
import { fail } from "../error-reply.js";
import { principalOf } from "../route-auth.js";
import type { RouteDeps } from "../route-deps.js";
import { firingAlerts } from "../system-alerts.js";
import { figuresOf } from "../system-status.js";

export async function systemRoutes(app: FastifyInstance, { replica, system }: RouteDeps): Promise<void> {
  app.get("/v1/system", async (req, reply) => {
    if (principalOf(req).client_id !== null)
      return fail(reply, "BLACKWELL_ERR_FORBIDDEN", "the system view is fleet-wide: it needs an admin token");
    const { sample, rates } = await system.read();
    const { totals } = replica.fleet({ only: null, sort: "client_id", order: "asc", limit: 1, offset: 0 });
    const freshness = replica.freshness();
    const alerts = firingAlerts(
      figuresOf(sample, rates, {
        stacksInError: totals.statuses.error,
        openCriticalDrifts: totals.open_drifts.critical,
        replicaLagRecords: freshness.lag_records,
      }),
    );
    return withFreshness(req, reply, replica, {
      as_of: new Date(sample.at).toISOString(),
      reconciler: {
        lag_records: sample.lagRecords,
        ingest_per_second: rates.ingestPerSecond,
        processed_per_second: rates.processedPerSecond,
        window_seconds: rates.windowSeconds,
      },
      dead_letters: { ...replica.deadLetters(), in_window: rates.deadLettersInWindow },
      fleet: { health_score: totals.health_score, stacks: totals.stacks, statuses: totals.statuses },
      alerts,
    });
  });
}
