/**
 * Which client each webhook belongs to, and its secret: a YAML file
 * (`BLACKWELL_WEBHOOKS_FILE`). Secrets can be named environment variables
 * (`env:NAME`) so the file itself holds none.
 *
 *   replay_window: 5m                # how old a timestamped signature may be (Sanity, Contentful, generic)
 *   dedupe_window: 24h               # how long a delivery id is remembered, so a replay produces nothing
 *   sources:
 *     - provider: shopify            # shopify | sanity | contentful | codebuild | generic
 *       match: acme.myshopify.com    # shop domain | sanity project id | contentful space id | codebuild project | generic client
 *       client_id: acme-corp
 *       environment: prod            # or stack_id: cms-ecom-prod (neither: every stack of the client)
 *       secret: env:ACME_SHOPIFY_WEBHOOK_SECRET
 *       api_key_header: x-blackwell-key   # codebuild only: the EventBridge connection's API-key header
 */
import { parse } from "yaml";
import { parseDuration } from "../core/duration.js";
import { BlackwellError } from "../errors.js";

export const WEBHOOK_PROVIDERS = ["shopify", "sanity", "contentful", "codebuild", "generic"] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

export interface WebhookSource {
  provider: WebhookProvider;
  match: string;
  client_id: string;
  environment: string | null;
  stack_id: string | null;
  secret: string;
  api_key_header: string;
}

export interface WebhookConfig {
  replayWindowMs: number;
  /** How long each API instance remembers a delivery id. `dedupe_window`, default 24h (Shopify retries for hours). */
  dedupeWindowMs: number;
  sources: WebhookSource[];
}

const ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function parseWebhookConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  const problems: string[] = [];
  let doc: { replay_window?: unknown; dedupe_window?: unknown; sources?: unknown };
  try {
    doc = (parse(text) ?? {}) as typeof doc;
  } catch (err) {
    throw new BlackwellError(
      "BLACKWELL_ERR_CONFIG",
      `${file}: not valid YAML: ${(err as Error).message.split("\n")[0]}`,
    );
  }
  const window = parseDuration(String(doc.replay_window ?? "5m"));
  if (window === null) problems.push(`replay_window: must be a duration like 5m`);
  const dedupe = parseDuration(String(doc.dedupe_window ?? "24h"));
  if (dedupe === null || dedupe <= 0) problems.push(`dedupe_window: must be a duration like 24h`);
  const sources: WebhookSource[] = [];
  if (!Array.isArray(doc.sources) || doc.sources.length === 0) problems.push("sources: must be a non-empty list");
  else
    doc.sources.forEach((raw: Record<string, unknown>, i: number) => {
      const at = `sources.${i}`;
      const known = ["provider", "match", "client_id", "environment", "stack_id", "secret", "api_key_header"];
      for (const k of Object.keys(raw ?? {}))
        if (!known.includes(k)) problems.push(`${at}.${k}: unknown field (expected one of: ${known.join(", ")})`);
      const provider = String(raw?.provider ?? "");
      if (!(WEBHOOK_PROVIDERS as readonly string[]).includes(provider))
        problems.push(`${at}.provider: must be one of ${WEBHOOK_PROVIDERS.join(", ")}`);
      const client = String(raw?.client_id ?? "");
      if (!ID.test(client)) problems.push(`${at}.client_id: must match ${ID}`);
      if (typeof raw?.match !== "string" || raw.match === "") problems.push(`${at}.match: is required`);
      let secret = typeof raw?.secret === "string" ? raw.secret : "";
      if (secret.startsWith("env:")) {
        const name = secret.slice(4);
        secret = env[name] ?? "";
        if (!secret) problems.push(`${at}.secret: environment variable ${name} is not set`);
      } else if (!secret) problems.push(`${at}.secret: is required`);
      sources.push({
        provider: provider as WebhookProvider,
        match: String(raw?.match ?? ""),
        client_id: client,
        environment: typeof raw?.environment === "string" ? raw.environment : null,
        stack_id: typeof raw?.stack_id === "string" ? raw.stack_id : null,
        secret,
        api_key_header: typeof raw?.api_key_header === "string" ? raw.api_key_header.toLowerCase() : "x-blackwell-key",
      });
    });
  if (problems.length > 0)
    throw new BlackwellError(
      "BLACKWELL_ERR_CONFIG",
      `${file} is invalid:\n${problems.map((p) => `  ${file}: ${p}`).join("\n")}`,
    );
  return { replayWindowMs: window!, dedupeWindowMs: dedupe!, sources };
}
