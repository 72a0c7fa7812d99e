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

export interface LoggerOptions {
  /**
   * Where the JSON lines go. Default `stdout` (the processors: their output is their log). The `blackwell` command
   * uses `stderr`, so its stdout carries only its answer (`--json` must parse).
   */
  to?: "stdout" | "stderr";
}

/** The process logger: JSON lines, secrets redacted. Level from `LOG_LEVEL` (default info). */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? "info",
  options: LoggerOptions = {},
): Logger {
  const settings = { name, level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { service: name } };
  // Synchronous, so a line logged just before the command exits is not lost.
  if (options.to === "stderr") return pino(settings, pino.destination({ fd: 2, sync: true }));
  return pino(settings);
}
