/**
 * The fleet: every client the caller may see (all for an admin token, its own for a client token) with its stacks
 * counted by status and its open drifts by severity, filtered, sorted and paginated in the replica's SQLite.
 */
import type { FastifyInstance } from "fastify";
import { withFreshness } from "../client-scope.js";
import { FLEET_SORT, FLEET_STATUSES, type StackStatus } from "../replica.js";
import { principalOf } from "../route-auth.js";
import type { RouteDeps } from "../route-deps.js";

/** Clients answered when the caller gives no `limit`. */
const DEFAULT_LIMIT = 50;
export const MAX_FLEET_LIMIT = 500;

export const fleetQuerystring = {
  type: "object",
  additionalProperties: false,
  properties: {
    limit: { type: "integer", minimum: 1, maximum: MAX_FLEET_LIMIT },
    offset: { type: "integer", minimum: 0, maximum: 1_000_000 },
    status: { type: "string", enum: [...FLEET_STATUSES] },
    q: { type: "string", maxLength: 63, pattern: "^[a-z0-9._-]*$" },
    sort: { type: "string", enum: Object.keys(FLEET_SORT) },
    order: { type: "string", enum: ["asc", "desc"] },
  },
} as const;

interface Query {
  limit?: number;
  offset?: number;
  status?: StackStatus;
  q?: string;
  sort?: keyof typeof FLEET_SORT;
  order?: "asc" | "desc";
}

export async function clientRoutes(app: FastifyInstance, { replica }: RouteDeps): Promise<void> {
  app.get<{ Querystring: Query }>("/v1/clients", { schema: { querystring: fleetQuerystring } }, async (req, reply) => {
    const limit = req.query.limit ?? DEFAULT_LIMIT;
    const offset = req.query.offset ?? 0;
    const fleet = replica.fleet({
      only: principalOf(req).client_id,
      q: req.query.q,
      status: req.query.status,
      sort: req.query.sort ?? "client_id",
      order: req.query.order ?? "asc",
      limit,
      offset,
    });
    const next = offset + fleet.clients.length < fleet.total ? offset + limit : null;
    return withFreshness(req, reply, replica, { ...fleet, limit, offset, next_offset: next });
  });
}
