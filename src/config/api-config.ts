/** The API role's settings, read once at start-up: tokens and the webhook file are parsed here, not on first use. */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { TokenAuth } from "../api/auth.js";
import { parseWebhookConfig, type WebhookConfig } from "../gateway/webhook-config.js";
import { readKafkaConfig, type KafkaConfig } from "./config.js";
import { EnvReader } from "./env-reader.js";
import { defaultStateDir } from "./reconciler-config.js";

export interface ApiConfig {
  kafka: KafkaConfig;
  /** Who may call. `BLACKWELL_API_TOKENS` (required): comma-separated `<name>@<client_id|*>:<token>`. */
  auth: TokenAuth;
  /** Listen address. `BLACKWELL_API_HOST`, default `127.0.0.1`. */
  host: string;
  /** Listen port; 0 picks a free one. `BLACKWELL_API_PORT`, default 8080. */
  port: number;
  /** Where the read replica keeps its SQLite file. `BLACKWELL_STATE_DIR`, default `<project>/.blackwell/state`. */
  stateDir: string;
  /** Names this instance's replica group and file. `BLACKWELL_API_INSTANCE`, default the host name. */
  instance: string;
  /** The reconciler's consumer group, whose lag the console shows: `BLACKWELL_APPLICATION_ID` (the reconciler's setting), default `blackwell-reconciler`. */
  reconcilerGroup: string;
  /** The webhook gateway's sources from `BLACKWELL_WEBHOOKS_FILE`; null (gateway off) when unset. */
  webhooks: WebhookConfig | null;
}

const TOKENS_FORMAT = "comma-separated <name>@<client_id|*>:<token>";

function readAuth(r: EnvReader): TokenAuth {
  if (r.optional("BLACKWELL_API_TOKENS") === undefined) {
    r.problem("BLACKWELL_API_TOKENS", `is not set (${TOKENS_FORMAT})`);
  }
  // TokenAuth names the variable and the bad entry, and never echoes a token.
  try {
    return new TokenAuth(r.optional("BLACKWELL_API_TOKENS") ?? "");
  } catch (err) {
    r.problem("BLACKWELL_API_TOKENS", `is malformed: ${(err as Error).message}`);
    return new TokenAuth("");
  }
}

export function apiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const r = new EnvReader(env);
  return r.finish({
    kafka: readKafkaConfig(r),
    auth: readAuth(r),
    host: r.string("BLACKWELL_API_HOST", "127.0.0.1"),
    port: r.port("BLACKWELL_API_PORT", 8080),
    stateDir: r.string("BLACKWELL_STATE_DIR", defaultStateDir()),
    // The instance name becomes part of a file name and a consumer group id.
    instance: r.string("BLACKWELL_API_INSTANCE", hostname()).replace(/[^A-Za-z0-9._-]/g, "_"),
    reconcilerGroup: r.string("BLACKWELL_APPLICATION_ID", "blackwell-reconciler"),
    webhooks: r.parse<WebhookConfig | null>("BLACKWELL_WEBHOOKS_FILE", null, (file) =>
      parseWebhookConfig(readFileSync(file, "utf8"), file, env),
    ),
  });
}
