/**
 * The one error catalog. Every error we raise carries a stable code, says
 * whether retrying can help, and (where it crosses the API) an HTTP status.
 */
export const ERRORS = {
  BLACKWELL_ERR_CONFIG: { retriable: false, http: 500, summary: "invalid configuration" },
  BLACKWELL_ERR_UNDECODABLE: { retriable: false, http: 400, summary: "record cannot be decoded" },
  BLACKWELL_ERR_UNKNOWN_SCHEMA: { retriable: false, http: 400, summary: "record names a schema id the registry does not know" },
  BLACKWELL_ERR_INVALID_RECORD: { retriable: false, http: 400, summary: "record decoded but violates the contract" },
  BLACKWELL_ERR_ENCODE: { retriable: false, http: 500, summary: "value does not match its schema" },
  BLACKWELL_ERR_REGISTRY_UNAVAILABLE: { retriable: true, http: 503, summary: "schema registry unavailable" },
  BLACKWELL_ERR_SCHEMA_INCOMPATIBLE: { retriable: false, http: 409, summary: "schema refused as incompatible" },
  BLACKWELL_ERR_INVALID_DESIRED_STATE: { retriable: false, http: 400, summary: "desired state is invalid" },
  BLACKWELL_ERR_KAFKA: { retriable: true, http: 503, summary: "Kafka unavailable" },
} as const;

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
