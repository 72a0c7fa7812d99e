/** Apply a blackwell.yaml for a client, as `blackwell apply` does. */
import type { FastifyInstance } from "fastify";
import { parseBlackwellYaml } from "../../adapters/yaml/parse-blackwell-yaml.js";
import { BlackwellError } from "../../errors.js";
import { applyDesired } from "../../runtime/apply-desired.js";
import { fail } from "../error-reply.js";
import { callerCanSee, principalOf } from "../route-auth.js";
import type { RouteDeps } from "../route-deps.js";
import { params, type Params } from "../route-schemas.js";

const querystring = {
  type: "object",
  additionalProperties: false,
  properties: { prune: { type: "boolean" }, dry_run: { type: "boolean" } },
} as const;

export async function desiredStateRoutes(app: FastifyInstance, { ctx }: RouteDeps): Promise<void> {
  type Req = { Params: Params; Body: unknown; Querystring: { prune?: boolean; dry_run?: boolean } };
  const schema = { params: params("client"), querystring };
  app.post<Req>("/v1/clients/:client/desired-state", { schema }, async (req, reply) => {
    const client = req.params.client;
    // A new client may be applied by its own token or an admin, before the replica knows it.
    if (!callerCanSee(req, client)) return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no client ${client}`);
    if (typeof req.body !== "string") {
      const message = "send blackwell.yaml as the body with Content-Type: application/yaml";
      return fail(reply, "BLACKWELL_ERR_UNSUPPORTED_MEDIA_TYPE", message);
    }
    const parsed = parseBlackwellYaml(req.body, "request body");
    if (parsed.client_id !== client) {
      const message = `the document is for client ${parsed.client_id}, not ${client}`;
      throw new BlackwellError("BLACKWELL_ERR_INVALID_DESIRED_STATE", message);
    }
    const dryRun = req.query.dry_run ?? false;
    const options = { file: "api", appliedBy: principalOf(req).name, prune: req.query.prune ?? false, dryRun };
    const changes = await applyDesired(ctx, parsed, options);
    return { client_id: client, dry_run: dryRun, changes };
  });
}
