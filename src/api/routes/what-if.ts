/**
 * What-if of a proposed policy (src/runtime/what-if.ts) over the API: `POST /v1/clients/{client}/policy/what-if` for
 * one client (a client token may ask for its own), `POST /v1/policy/what-if` for every client (admin tokens only).
 * The answer comes when both sandboxed replays have run: as long as a replay of the history takes. One at a time per
 * API process; another is refused with 429 while one runs.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parsePolicyDocument } from "../../adapters/yaml/parse-blackwell-yaml.js";
import { reportWindow } from "../../core/report/report-window.js";
import { whatIf } from "../../runtime/what-if.js";
import { visibleClient } from "../client-scope.js";
import { fail } from "../error-reply.js";
import { principalOf } from "../route-auth.js";
import type { RouteDeps } from "../route-deps.js";
import { params, type Params } from "../route-schemas.js";

const ID = "^[a-z0-9][a-z0-9._-]{0,62}$";

export const whatIfBody = {
  type: "object",
  additionalProperties: false,
  required: ["policy"],
  properties: {
    policy: {
      description: "the proposed policy, in the format of a stack's policy (an object, or YAML text)",
      anyOf: [{ type: "object" }, { type: "string" }],
    },
    client: { type: "string", pattern: ID, description: "fleet route only: the one client to apply it to" },
    stack: { type: "string", pattern: ID, description: "only this stack of the client gets the proposed policy" },
    from: { type: "string", maxLength: 64, description: "ISO 8601 time or a duration ago; default 30 days before to" },
    to: { type: "string", maxLength: 64, description: "ISO 8601 time or a duration ago; default now" },
  },
} as const;

/** A client's what-if: the client is in the path. */
const { client: _client, ...clientProperties } = whatIfBody.properties;
export const whatIfClientBody = { ...whatIfBody, properties: clientProperties } as const;

interface Body {
  policy: unknown;
  client?: string;
  stack?: string;
  from?: string;
  to?: string;
}

export async function whatIfRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  let running = false;
  const run = async (req: FastifyRequest<{ Body: Body }>, reply: FastifyReply, client: string | null) => {
    const body = req.body;
    if (body.stack !== undefined && client === null)
      return fail(reply, "BLACKWELL_ERR_BAD_REQUEST", "stack needs client: a stack id names a stack of one client");
    const window = reportWindow({ from: body.from, to: body.to }, Date.now());
    if ("error" in window) return fail(reply, "BLACKWELL_ERR_BAD_REQUEST", window.error);
    const text = typeof body.policy === "string" ? body.policy : JSON.stringify(body.policy);
    const policy = parsePolicyDocument(text, "policy");
    if (running) return fail(reply, "BLACKWELL_ERR_BUSY", "a what-if is already running in this API process");
    running = true;
    try {
      const result = await whatIf(deps.ctx, {
        policy,
        client,
        stack: body.stack ?? null,
        window: { from: window.from, to: window.to },
      });
      if (result.replay.stacks_changed === 0)
        return fail(
          reply,
          "BLACKWELL_ERR_NOT_FOUND",
          "the recorded history has no desired state the proposed policy applies to",
        );
      return reply.send(result);
    } finally {
      running = false;
    }
  };
  app.post<{ Params: Params; Body: Body }>(
    "/v1/clients/:client/policy/what-if",
    { schema: { params: params("client"), body: whatIfClientBody } },
    async (req, reply) => {
      const client = visibleClient(req, reply, deps.replica);
      if (!client) return reply;
      return run(req, reply, client);
    },
  );
  app.post<{ Body: Body }>("/v1/policy/what-if", { schema: { body: whatIfBody } }, async (req, reply) => {
    if (principalOf(req).client_id !== null)
      return fail(reply, "BLACKWELL_ERR_FORBIDDEN", "a fleet what-if covers every client: it needs an admin token");
    return run(req, reply, req.body.client ?? null);
  });
}
