/**
 * The web console at /ui: a few static files of the project (src/api/ui/), read once at start and served from
 * memory. Only the names in UI_FILES are served, so no path (`..`, encoded or not) can reach another file. The
 * files are public (the login form must load without a token); every data call the console makes carries the
 * bearer token, and the API answers it as it answers any client.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { entityTag, matchesTag } from "../client-scope.js";
import { fail } from "../error-reply.js";
import { PUBLIC_ROUTE } from "../route-auth.js";

export const UI_DIR = join(import.meta.dirname, "..", "ui");

/** Every file the console consists of, with its content type. */
export const UI_FILES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

/** Scripts and styles from this origin only, data calls to this origin only, no framing. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export async function uiRoutes(app: FastifyInstance): Promise<void> {
  const files = new Map(
    Object.entries(UI_FILES).map(([name, type]) => {
      const body = readFileSync(join(UI_DIR, name));
      return [name, { body, type, tag: entityTag(body.toString("base64")) }];
    }),
  );
  const serve = (name: string, req: FastifyRequest, reply: FastifyReply) => {
    const file = Object.hasOwn(UI_FILES, name) ? files.get(name) : undefined;
    if (!file) return fail(reply, "BLACKWELL_ERR_NOT_FOUND", `no console file ${name}`);
    void reply
      .header("etag", file.tag)
      // Unversioned names: the browser keeps them but asks each time whether they changed (304 when not).
      .header("cache-control", "no-cache")
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("content-security-policy", CSP);
    if (matchesTag(req.headers["if-none-match"], file.tag)) return reply.code(304).send();
    return reply.type(file.type).send(file.body);
  };
  const config = PUBLIC_ROUTE;
  app.get("/ui", { config }, async (_req, reply) => reply.redirect("/ui/", 301));
  app.get("/ui/", { config }, async (req, reply) => serve("index.html", req, reply));
  app.get<{ Params: { file: string } }>("/ui/:file", { config }, async (req, reply) =>
    serve(req.params.file, req, reply),
  );
}
