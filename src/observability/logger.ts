import pino, { type Logger } from "pino";
import { chooseLogFormat, prettyDestination, useColour } from "./pretty-log.js";

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
   * Where the lines go. Default `stdout` (the processors: their output is their log). The `blackwell` command
   * uses `stderr`, so its stdout carries only its answer (`--json` must parse).
   */
  to?: "stdout" | "stderr";
}

/**
 * The process logger, secrets redacted. Level from `LOG_LEVEL` (default info). JSON lines, except on a terminal,
 * which gets a compact human form (src/observability/pretty-log.ts); `BLACKWELL_LOG_FORMAT=json|pretty` overrides.
 */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? "info",
  options: LoggerOptions = {},
): Logger {
  const settings = { name, level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { service: name } };
  const fd = options.to === "stderr" ? 2 : 1;
  const isTTY = (fd === 2 ? process.stderr : process.stdout).isTTY === true;
  if (chooseLogFormat(process.env, isTTY) === "pretty") {
    // Synchronous: a terminal reads at human rates, and no line is lost when the command exits.
    return pino(settings, prettyDestination(pino.destination({ fd, sync: true }), useColour(process.env, isTTY)));
  }
  // Synchronous, so a line logged just before the command exits is not lost.
  if (options.to === "stderr") return pino(settings, pino.destination({ fd: 2, sync: true }));
  return pino(settings);
}
