/** A client's routes answer only for a client the caller may see and the replica knows. */
import { createHash } from "node:crypto";
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

/** A weak entity tag of `body`: the same JSON answers the same tag. */
export function entityTag(body: unknown): string {
  return `W/"${createHash("sha256").update(JSON.stringify(body)).digest("base64url").slice(0, 27)}"`;
}

/** Whether an `If-None-Match` header names `tag` (or `*`), weak comparison as RFC 9110 §13.1.2 asks for GET. */
export function matchesTag(header: string | undefined, tag: string): boolean {
  if (!header) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, "");
  return header.split(",").some((t) => t.trim() === "*" || strip(t) === strip(tag));
}

/**
 * `body` with the replica's freshness, also as the `x-blackwell-replica-lag` header: reads may trail writes.
 * Read routes answer with an ETag of the data (without the freshness, which moves every second): a client that
 * polls with `If-None-Match` gets 304 and no body while the data is unchanged. The lag header comes with both.
 */
export function withFreshness(
  req: FastifyRequest,
  reply: FastifyReply,
  replica: ReplicaReads,
  body: Row,
): Row | FastifyReply {
  const fresh = replica.freshness();
  const tag = entityTag(body);
  void reply.header("x-blackwell-replica-lag", String(fresh.lag_records));
  void reply.header("etag", tag);
  // The answer depends on the token: shared caches must not keep it, browsers must revalidate.
  void reply.header("cache-control", "private, no-cache");
  void reply.header("vary", "authorization");
  if (matchesTag(req.headers["if-none-match"], tag)) return reply.code(304).send();
  return { ...body, replica: fresh };
}
