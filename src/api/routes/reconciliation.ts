/**
 * Reconciliation over a window: drifts opened and resolved per bucket, heal outcomes and success rate, time to
 * resolve percentiles and the drifts open now, for every client the caller may see or one of them.
 */
import type { FastifyInstance } from "fastify";
import { withFreshness } from "../client-scope.js";
import { fail } from "../error-reply.js";
import { callerCanSee, principalOf } from "../route-auth.js";
import type { RouteDeps } from "../route-deps.js";

/** Each window and its length in ms; a window is cut into BUCKETS buckets aligned on multiples of their length. */
export const WINDOWS = { "1h": 3_600_000, "6h": 21_600_000, "24h": 86_400_000, "7d": 604_800_000 } as const;
export type ReconciliationWindow = keyof typeof WINDOWS;
export const BUCKETS = 24;

export const reconciliationQuerystring = {
  type: "object",
  additionalProperties: false,
  properties: {
    window: { type: "string", enum: Object.keys(WINDOWS) },
    client: { type: "string", pattern: "^[a-z0-9][a-z0-9._-]{0,62}$" },
  },
} as const;

interface Query {
  window?: ReconciliationWindow;
  client?: string;
}

/** The buckets of `window` ending with the one that holds `now`. */
export function windowBuckets(window: ReconciliationWindow, now: number): { startMs: number; bucketMs: number } {
  const bucketMs = WINDOWS[window] / BUCKETS;
  const endMs = (Math.floor(now / bucketMs) + 1) * bucketMs;
  return { startMs: endMs - bucketMs * BUCKETS, bucketMs };
}

export async function reconciliationRoutes(app: FastifyInstance, { replica }: RouteDeps): Promise<void> {
  app.get<{ Querystring: Query }>(
    "/v1/reconciliation",
    {
      schema: { querystring: reconciliationQuerystring },
      // Named here rather than by the schema's "must NOT have additional properties", which does not say which.
      preValidation: async (req, reply) => {
        const unknown = Object.keys(req.query as object).filter((k) => !(k in reconciliationQuerystring.properties));
        if (unknown.length > 0)
          return fail(reply, "BLACKWELL_ERR_BAD_REQUEST", `unknown query parameter ${unknown.join(", ")}`);
      },
    },
    async (req, reply) => {
      const window = req.query.window ?? "24h";
      const own = principalOf(req).client_id;
      const client = req.query.client ?? own;
      // Another client's data is indistinguishable from a client that does not exist.
      if (client !== null && (!callerCanSee(req, client) || !replica.hasClient(client)))
        return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no client ${client}`);
      const { startMs, bucketMs } = windowBuckets(window, Date.now());
      const counts = replica.reconciliation({ only: client, startMs, bucketMs, buckets: BUCKETS });
      const finished = counts.heals.succeeded + counts.heals.failed;
      return withFreshness(req, reply, replica, {
        window,
        client,
        bucket_seconds: bucketMs / 1000,
        from: new Date(startMs).toISOString(),
        to: new Date(startMs + bucketMs * BUCKETS).toISOString(),
        ...counts,
        heals: { ...counts.heals, success_rate: finished === 0 ? null : counts.heals.succeeded / finished },
      });
    },
  );
}
