/**
 * Issue 16 part 5: a fresh `make demo` printed KafkaJS's retried start-up answers ("not the leader", "coordinator is
 * loading", "group coordinator is not available") as error lines before its first step. They are debug while they
 * are transient; a cluster that does not settle, retries exhausted and real errors keep KafkaJS's level.
 */
import { describe, expect, it } from "vitest";
import { createKafka, KafkaLogLevels, type LogSink } from "../../src/adapters/kafka/kafka-client.js";

/** The entries a fresh broker gave the demo (taken from a first run's log). */
const startUp: Array<[string, Record<string, unknown>]> = [
  ["Response ListOffsets(key: 2, version: 3)", { error: "This server is not the leader for that topic-partition" }],
  [
    "Response InitProducerId(key: 22, version: 1)",
    { error: "The coordinator is loading and hence can't process requests for this group" },
  ],
  ["Response GroupCoordinator(key: 10, version: 2)", { error: "The group coordinator is not available" }],
  ["Response InitProducerId(key: 22, version: 1)", { error: "This is not the correct coordinator for this group" }],
  [
    "Response Metadata(key: 3, version: 6)",
    { error: "There is no leader for this topic-partition as we are in the middle of a leadership election" },
  ],
  ["Connection error: connect ECONNREFUSED 127.0.0.1:9092", {}],
];

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("KafkaJS log levels", () => {
  it("keeps the transient answers of a starting cluster at debug", () => {
    const levels = new KafkaLogLevels();
    for (const [message, extra] of startUp) expect(levels.level("error", message, extra), message).toBe("debug");
  });

  it("keeps a consumer crash caused by one of them, and its restart, at debug", () => {
    const levels = new KafkaLogLevels();
    expect(
      levels.level(
        "error",
        "Crash: KafkaJSProtocolError: The coordinator is loading and hence can't process requests",
        {
          groupId: "g",
        },
      ),
    ).toBe("debug");
    expect(levels.level("error", "Restarting the consumer in 100ms", { retryTime: 100 })).toBe("debug");
  });

  it("reports retries exhausted at error, even when the last attempt was a transient answer", () => {
    const levels = new KafkaLogLevels();
    expect(
      levels.level(
        "error",
        "Crash: KafkaJSNumberOfRetriesExceeded: This server is not the leader for that topic-partition",
        {
          retryCount: 8,
        },
      ),
    ).toBe("error");
    expect(levels.level("error", "Restarting the consumer in 2000ms", {})).toBe("error");
  });

  it("leaves other errors and warnings as they are", () => {
    const levels = new KafkaLogLevels();
    expect(levels.level("error", "Response Produce(key: 0, version: 7)", { error: "Topic authorization failed" })).toBe(
      "error",
    );
    expect(levels.level("error", "Crash: KafkaJSNonRetriableError: Broker does not support this", {})).toBe("error");
    expect(levels.level("error", "Restarting the consumer in 100ms", {})).toBe("error");
    expect(levels.level("warn", "The group is rebalancing, re-joining", {})).toBe("warn");
  });

  it("keeps the routine transaction noise at debug", () => {
    const levels = new KafkaLogLevels();
    expect(levels.level("warn", "Limiting retries for the idempotent producer may invalidate EoS guarantees", {})).toBe(
      "debug",
    );
    expect(
      levels.level("error", "Response AddOffsetsToTxn", {
        error:
          "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing",
      }),
    ).toBe("debug");
  });

  it("reports the transient answers again once they have lasted longer than the grace period", () => {
    const t = clock();
    const levels = new KafkaLogLevels(30_000, 10_000, t.now);
    const [message, extra] = startUp[0]!;
    // Every 5 s, so the run never pauses: debug for 30 s, then the broker's own level.
    for (let waited = 0; waited <= 30_000; waited += 5_000, t.advance(5_000))
      expect(levels.level("error", message, extra), `after ${waited} ms`).toBe("debug");
    expect(levels.level("error", message, extra)).toBe("error");
    expect(levels.level("warn", "Could not create topics", { error: "The group coordinator is not available" })).toBe(
      "warn",
    );
    // Quiet for longer than 10 s: the condition cleared; the next one is a new, transient run.
    t.advance(10_001);
    expect(levels.level("error", message, extra)).toBe("debug");
  });

  it("applies to the client createKafka builds", () => {
    const seen: Array<[string, string]> = [];
    const sink: LogSink = (level, message) => seen.push([level, message]);
    const kafka = createKafka(
      { clientId: "unit", brokers: ["127.0.0.1:1"] } as Parameters<typeof createKafka>[0],
      sink,
    );
    const logger = kafka.logger().namespace("Connection");
    logger.error("Response ListOffsets(key: 2, version: 3)", {
      error: "This server is not the leader for that topic-partition",
    });
    logger.error("Response Produce(key: 0, version: 7)", { error: "Topic authorization failed" });
    expect(seen).toEqual([
      ["debug", "[kafkajs Connection] Response ListOffsets(key: 2, version: 3)"],
      ["error", "[kafkajs Connection] Response Produce(key: 0, version: 7)"],
    ]);
  });
});
