/**
 * Authentication on the matched route: every route needs a bearer token
 * unless its route config says `public`. Deciding on the route Fastify
 * matched, not on the raw URL, closes the hole where `/%761/clients/x/stacks`
 * (the router decodes it to /v1/...) reached a handler with no token.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BlackwellError } from "../errors.js";
import { TokenAuth, type Principal } from "./auth.js";
import { fail } from "./error-reply.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Answer without a bearer token (health, metrics, OpenAPI, webhooks that check signatures). Default false. */
    public?: boolean;
  }
  interface FastifyRequest {
    /** Who called, set by the token check; null on public routes. */
    principal: Principal | null;
  }
}

/** Route config of a route that needs no token. */
export const PUBLIC_ROUTE = { public: true } as const;

/** Adds the token check to `app` and every route registered in it, before or after. */
export function requireTokens(app: FastifyInstance, auth: TokenAuth): void {
  app.decorateRequest("principal", null);
  app.addHook("onRequest", async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.routeOptions.config.public === true) return;
    // No route matched: the not-found handler answers 404, and there is nothing behind it to protect.
    if (req.is404) return;
    const principal = auth.verify(req.headers.authorization);
    if (!principal) {
      void reply.header("www-authenticate", 'Bearer realm="blackwell"');
      return fail(reply, "BLACKWELL_ERR_UNAUTHORIZED", "a valid bearer token is required");
    }
    req.principal = principal;
  });
}

/** The caller of a route that requires a token. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) {
    throw new BlackwellError(
      "BLACKWELL_ERR_INTERNAL",
      `route ${req.routeOptions.url} is public but asks for the caller`,
    );
  }
  return req.principal;
}

/** Whether the caller may see `client_id` (its own client, or every client for an admin token). */
export function callerCanSee(req: FastifyRequest, client_id: string): boolean {
  return TokenAuth.canSee(principalOf(req), client_id);
}
