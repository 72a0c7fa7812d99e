import pino, { type Logger } from "pino";

export type { Logger };

/** Paths never logged in clear: credentials, tokens, signatures, webhook URLs (they embed secrets). */
export const REDACT_PATHS = [
  "password",
  "*.password",
  "sasl.password",
  "*.sasl.password",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  "secret",
  "*.secret",
  "*.signing_secret",
  "webhook_url",
  "*.webhook_url",
  "*.*.webhook_url",
  '*.headers["x-shopify-hmac-sha256"]',
  '*.headers["sanity-webhook-signature"]',
];

/** The process logger: JSON lines on stdout, secrets redacted. Level from `LOG_LEVEL` (default info). */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { service: name } });
}
