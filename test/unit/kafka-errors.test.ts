/**
 * kafkaError decides whether a caller sees "Kafka unavailable, retry" (503, exit 4) or a final refusal. It is
 * given the error objects KafkaJS itself throws, built here as the library builds them.
 */
import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { isFenced, kafkaError } from "../../src/adapters/kafka/kafka-errors.js";
import { BlackwellError, ERRORS } from "../../src/errors.js";

const {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} = kafkajs;

/** A protocol error as KafkaJS builds it from a broker answer (kafkajs/src/protocol/error.js). */
const protocol = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError(Object.assign(new Error(`${type} from the broker`), { type, code: 1, retriable }));

/** The retrier bails with `new KafkaJSNonRetriableError(e, { cause: e })` (kafkajs/src/retry/index.js). */
const bailed = (cause: Error) => {
  const Ctor = KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error;
  return new Ctor(cause, { cause });
};

const down = new KafkaJSConnectionError("Connection error: ECONNREFUSED");
const exhausted = new KafkaJSNumberOfRetriesExceeded(down, { retryCount: 5, retryTime: 1 });

describe("kafkaError", () => {
  it.each([
    ["a connection error", new KafkaJSConnectionError("Connection error: connect ECONNREFUSED 127.0.0.1:9092")],
    ["a request timeout", new KafkaJSRequestTimeoutError("Request Produce(key: 0, version: 7) timed out")],
    ["a retriable protocol error", protocol("NOT_LEADER_OR_FOLLOWER", true)],
    ["retries exhausted", exhausted],
    ["a final wrapper around a connection error", bailed(new KafkaJSConnectionError("Connection error"))],
    ["a plain KafkaJSError the library marks retriable", new KafkaJSError("There is no leader for this partition")],
  ])("maps %s to BLACKWELL_ERR_KAFKA: retriable, 503, exit 4", (_what, err) => {
    const mapped = kafkaError(err, "writing the command");
    expect(mapped.code).toBe("BLACKWELL_ERR_KAFKA");
    expect(mapped.retriable).toBe(true);
    expect(mapped.httpStatus).toBe(503);
    expect(ERRORS[mapped.code].exit).toBe(4);
    expect(mapped.message).toMatch(/^writing the command: Kafka is unavailable/);
    expect(mapped.cause).toBe(err);
  });

  it.each([
    ["a non-retriable protocol error", protocol("TOPIC_AUTHORIZATION_FAILED", false)],
    ["a final wrapper around a refusal", bailed(protocol("MESSAGE_TOO_LARGE", false))],
    ["a KafkaJSError the library marks final", new KafkaJSError("Invalid partitioner", { retriable: false })],
  ])("maps %s to the final BLACKWELL_ERR_KAFKA_REFUSED", (_what, err) => {
    const mapped = kafkaError(err, "writing the command");
    expect(mapped.code).toBe("BLACKWELL_ERR_KAFKA_REFUSED");
    expect(mapped.retriable).toBe(false);
    expect(mapped.httpStatus).toBe(500);
  });

  it("names the broker's error type in the message", () => {
    const mapped = kafkaError(protocol("TOPIC_AUTHORIZATION_FAILED", false), "writing");
    expect(mapped.message).toContain("TOPIC_AUTHORIZATION_FAILED");
  });

  it("does not read the message: a non-Kafka error saying 'broker' is internal, not an outage", () => {
    // The regex this replaces (/kafka|broker|connect/i) called this an outage and answered 503.
    const mapped = kafkaError(new TypeError("Cannot read properties of undefined (reading 'broker')"), "answering");
    expect(mapped.code).toBe("BLACKWELL_ERR_INTERNAL");
    expect(mapped.httpStatus).toBe(500);
  });

  it("passes a BlackwellError through unchanged", () => {
    const own = new BlackwellError("BLACKWELL_ERR_ENCODE", 'Command value is invalid at command="x"');
    expect(kafkaError(own, "writing")).toBe(own);
  });

  it("tells a fenced transactional producer (the task moved to another instance) from a failure worth retrying", () => {
    expect(isFenced(protocol("PRODUCER_FENCED", false))).toBe(true);
    expect(isFenced(protocol("INVALID_PRODUCER_EPOCH", false))).toBe(true);
    expect(isFenced(bailed(protocol("INVALID_PRODUCER_EPOCH", false)))).toBe(true);
    expect(isFenced(protocol("NOT_COORDINATOR", true))).toBe(false);
    expect(isFenced(down)).toBe(false);
    expect(isFenced(new Error("PRODUCER_FENCED"))).toBe(false);
  });
});
