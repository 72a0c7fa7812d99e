/**
 * The one error catalog. Every error the API, the webhook gateway, the CLI
 * and the processors emit carries a stable code from this table, which says
 * whether retrying can help, the HTTP status where it crosses the API, and the
 * `blackwell` command's exit code. No code string lives anywhere else.
 */

/** The `blackwell` command's exit codes, which scripts rely on. */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** It ran and found a problem (e.g. replay differs, a stack is not healthy). */
  problem: 1,
  /** Wrong arguments or configuration. */
  usage: 2,
  /** Invalid input (e.g. blackwell.yaml, a record to produce). */
  invalid: 3,
  /** Kafka or the schema registry is unavailable: retry later. Nothing else exits 4. */
  unavailable: 4,
  /** The command crashed (a fault of ours, not of the input or the infrastructure): the one-line message says what. */
  internal: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One catalog entry. */
export interface ErrorSpec {
  summary: string;
  /** Retrying the same thing later can succeed (an outage), as opposed to a fault in the input or configuration. */
  retriable: boolean;
  /** Status of an API answer carrying this code. */
  http: number;
  /** Exit code of the `blackwell` command failing with this code. */
  exit: ExitCode;
}

const entry = (summary: string, retriable: boolean, http: number, exit: ExitCode): ErrorSpec => ({
  summary,
  retriable,
  http,
  exit,
});

export const ERRORS = {
  BLACKWELL_ERR_CONFIG: entry("invalid configuration", false, 500, EXIT.usage),
  BLACKWELL_ERR_USAGE: entry("wrong command-line usage", false, 400, EXIT.usage),
  BLACKWELL_ERR_UNDECODABLE: entry("record cannot be decoded", false, 400, EXIT.invalid),
  BLACKWELL_ERR_UNKNOWN_SCHEMA: entry("record names a schema id the registry does not know", false, 400, EXIT.invalid),
  BLACKWELL_ERR_INVALID_RECORD: entry("record decoded but violates the contract", false, 400, EXIT.invalid),
  BLACKWELL_ERR_ENCODE: entry("value does not match its schema", false, 500, EXIT.invalid),
  BLACKWELL_ERR_REGISTRY_UNAVAILABLE: entry("schema registry unavailable", true, 503, EXIT.unavailable),
  BLACKWELL_ERR_SCHEMA_INCOMPATIBLE: entry("schema refused as incompatible", false, 409, EXIT.invalid),
  BLACKWELL_ERR_INVALID_DESIRED_STATE: entry("desired state is invalid", false, 400, EXIT.invalid),
  BLACKWELL_ERR_KAFKA: entry("Kafka unavailable", true, 503, EXIT.unavailable),
  // Kafka answered but will not do it (authorization, message too large, unknown topic config): retrying cannot help.
  BLACKWELL_ERR_KAFKA_REFUSED: entry("Kafka refused the request", false, 500, EXIT.unavailable),
  // Another instance opened the same transactional id (it owns the task now): this one must stop, not retry.
  BLACKWELL_ERR_FENCED: entry("fenced by a newer owner of the transactional id", false, 500, EXIT.internal),
  // EndTxn was sent but its answer was lost: the transaction may or may not have committed. Never retried blindly: a new
  // producer with the same transactional id settles it, and the group's offsets committed in it say which way.
  BLACKWELL_ERR_KAFKA_COMMIT_UNKNOWN: entry(
    "the outcome of a transaction commit is unknown",
    true,
    503,
    EXIT.unavailable,
  ),
  BLACKWELL_ERR_BAD_REQUEST: entry("request is malformed or fails validation", false, 400, EXIT.invalid),
  BLACKWELL_ERR_UNSUPPORTED_MEDIA_TYPE: entry("request body has the wrong content type", false, 415, EXIT.invalid),
  BLACKWELL_ERR_BODY_TOO_LARGE: entry("request body is too large", false, 413, EXIT.invalid),
  BLACKWELL_ERR_UNAUTHORIZED: entry("a valid bearer token is required", false, 401, EXIT.usage),
  BLACKWELL_ERR_SIGNATURE: entry("webhook signature missing, wrong or too old", false, 401, EXIT.invalid),
  // A webhook delivery id (or signed body) seen before comes back meaning something else: a tampered replay.
  BLACKWELL_ERR_WEBHOOK_CONFLICT: entry("webhook delivery seen before with another meaning", false, 409, EXIT.invalid),
  BLACKWELL_ERR_FORBIDDEN: entry("this resource needs an admin token", false, 403, EXIT.usage),
  BLACKWELL_ERR_CONFLICT: entry(
    "the current state does not allow this now (a gate refused it)",
    false,
    409,
    EXIT.problem,
  ),
  // Four eyes: the person who asked for a promotion may not be the one who approves it. Refused (exit 1), not a
  // usage error: the command was right, the person is not.
  BLACKWELL_ERR_SELF_APPROVAL: entry("the requester of a promotion may not approve it", false, 403, EXIT.problem),
  BLACKWELL_ERR_BUSY: entry(
    "another run of this kind is in progress; try again when it has finished",
    true,
    429,
    EXIT.problem,
  ),
  BLACKWELL_ERR_NOT_FOUND: entry("no such resource, or not visible to this token", false, 404, EXIT.invalid),
  BLACKWELL_ERR_INTERNAL: entry("internal error", false, 500, EXIT.internal),
  BLACKWELL_ERR_APPLY_FAILED: entry(
    "record decoded but could not be applied; dead-lettered",
    false,
    500,
    EXIT.internal,
  ),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class BlackwellError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly httpStatus: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BlackwellError";
    this.code = code;
    this.retriable = ERRORS[code].retriable;
    this.httpStatus = ERRORS[code].http;
  }
}

export function isBlackwellError(err: unknown, code?: ErrorCode): err is BlackwellError {
  return err instanceof BlackwellError && (code === undefined || err.code === code);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The API's error body (see the `Error` schema in openapi.ts): `{ error: { code, message } }`. */
export function errorBody(code: ErrorCode, message: string): { error: { code: ErrorCode; message: string } } {
  return { error: { code, message } };
}
