/** A client's routes answer only for a client the caller may see and the replica knows. */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Row } from "./replica.js";
import { fail } from "./error-reply.js";
import { callerCanSee } from "./route-auth.js";
import type { ReplicaReads } from "./route-deps.js";

/**
 * The client named in the URL, or null after answering 404: another client's
 * data is indistinguishable from a client that does not exist.
 */
export function visibleClient(
  req: FastifyRequest<{ Params: { client: string } }>,
  reply: FastifyReply,
  replica: ReplicaReads,
): string | null {
  const client = req.params.client;
  if (!callerCanSee(req, client) || !replica.hasClient(client)) {
    void fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no client ${client}`);
    return null;
  }
  return client;
}

/** `body` with the replica's freshness, also as the `x-blackwell-replica-lag` header: reads may trail writes. */
export function withFreshness(reply: FastifyReply, replica: ReplicaReads, body: Row): Row {
  const fresh = replica.freshness();
  void reply.header("x-blackwell-replica-lag", String(fresh.lag_records));
  return { ...body, replica: fresh };
}
