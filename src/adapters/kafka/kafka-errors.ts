/**
 * KafkaJS errors into the catalog. This is the only file that looks inside a
 * client-library error; everything past the adapter sees a BlackwellError
 * that says whether retrying can help. Classification is by class and the
 * library's own `retriable` flag, never by the message text.
 */
import kafkajs from "kafkajs";
import { BlackwellError, errorMessage } from "../../errors.js";

// kafkajs is CommonJS and spreads its error classes into module.exports, which Node's ESM loader cannot see as
// named exports: take them from the default export.
const {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} = kafkajs;
type KafkaJSError = InstanceType<typeof KafkaJSError>;

/** How deep to follow `cause` links: KafkaJS wraps at most a couple of times. */
const MAX_CAUSES = 5;

/**
 * True when the broker, not the request, is the problem: the connection or a
 * timeout, a protocol error the library marks retriable (leader moved,
 * coordinator loading), or retries that ran out on any of those.
 */
function isOutage(err: KafkaJSError, depth = 0): boolean {
  if (err instanceof KafkaJSConnectionError || err instanceof KafkaJSRequestTimeoutError) return true;
  // Retries exhausted: KafkaJS marks the wrapper final, yet the broker being away is still an outage.
  if (err instanceof KafkaJSNumberOfRetriesExceeded) return true;
  // A non-retriable wrapper around an outage (the retrier bails with the cause attached): judge by the cause.
  if (err instanceof KafkaJSNonRetriableError) {
    const cause: unknown = err.cause;
    return depth < MAX_CAUSES && cause instanceof KafkaJSError && cause !== err && isOutage(cause, depth + 1);
  }
  return err.retriable;
}

/** Protocol errors that mean another producer opened the same transactional id. */
const FENCING = new Set(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"]);

/** True when `err` (or an error it wraps) says this transactional producer was fenced by a newer one. */
export function isFenced(err: unknown, depth = 0): boolean {
  if (err instanceof BlackwellError) return err.code === "BLACKWELL_ERR_FENCED";
  if (!(err instanceof KafkaJSError)) return false;
  const type = protocolType(err);
  if (type !== null && FENCING.has(type)) return true;
  const cause: unknown = (err as { cause?: unknown }).cause;
  return depth < MAX_CAUSES && cause !== err && cause !== undefined && isFenced(cause, depth + 1);
}

/** The protocol error name (e.g. TOPIC_AUTHORIZATION_FAILED) where KafkaJS gives one, for the message. */
function protocolType(err: KafkaJSError): string | null {
  return err instanceof KafkaJSProtocolError && typeof err.type === "string" ? err.type : null;
}

/**
 * `err` as a catalog error. `doing` names the operation for the message
 * ("writing the command"). A BlackwellError passes through unchanged; a
 * KafkaJS error becomes BLACKWELL_ERR_KAFKA (retriable, 503) when the broker
 * is away or busy and BLACKWELL_ERR_KAFKA_REFUSED (final) when Kafka refused
 * the request; anything else is BLACKWELL_ERR_INTERNAL. The original error is
 * kept as `cause`.
 */
export function kafkaError(err: unknown, doing: string): BlackwellError {
  if (err instanceof BlackwellError) return err;
  if (err instanceof KafkaJSError) {
    const type = protocolType(err);
    const detail = type ? `${type}: ${err.message}` : err.message;
    if (isOutage(err)) {
      const message = `${doing}: Kafka is unavailable (${detail}); retry later`;
      return new BlackwellError("BLACKWELL_ERR_KAFKA", message, { cause: err });
    }
    return new BlackwellError("BLACKWELL_ERR_KAFKA_REFUSED", `${doing}: Kafka refused it (${detail})`, { cause: err });
  }
  return new BlackwellError("BLACKWELL_ERR_INTERNAL", `${doing}: ${errorMessage(err)}`, { cause: err });
}
