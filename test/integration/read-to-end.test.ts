import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readToEnd } from "../../src/adapters/kafka/read-to-end.js";

/**
 * Restores, replays and the notifier read a topic "to its end" and then act on what they read. A transaction that is
 * committed, or about to be, when the read starts must be in what they read: with the last stable offset as the end
 * (KafkaJS's default), a partition holding only that transaction read as empty (replay once compared 280 of 1200
 * transitions that way).
 */
describe("reading a topic to its end while a transaction on it is being decided", () => {
  const kafka = new Kafka({
    clientId: "read-to-end-test",
    brokers: [inject("kafkaBrokers")],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const topic = `read-to-end-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    await admin.connect();
    // KafkaJS's own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION while a busy KRaft controller is still
    // propagating the topic (a fresh-clone CI run failed here): poll until the leaders answer for their offsets.
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: 2, replicationFactor: 1 }] });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
      if (offsets.length === 2) break;
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders after 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it("includes the records of a transaction that commits after the read started, and nothing aborted", async () => {
    const producer = kafka.producer({
      transactionalId: `read-to-end-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: [{ partition: 1, value: "aborted" }] });
      await aborted.abort();
      const open = await producer.transaction();
      await open.send({ topic, messages: ["a", "b", "c", "d", "e"].map((value) => ({ partition: 0, value })) });
      const read: Array<{ partition: number; value: string }> = [];
      const reading = readToEnd(kafka, admin, {
        topic,
        groupPrefix: "read-to-end-test",
        timeoutMs: 60_000,
        onBatch: (batch) => {
          for (const m of batch.records) read.push({ partition: batch.partition, value: m.value!.toString() });
        },
      });
      await new Promise((r) => setTimeout(r, 1500)); // the read has started and sees the transaction still open
      await open.commit();
      await reading;
      expect(read).toEqual(["a", "b", "c", "d", "e"].map((value) => ({ partition: 0, value })));
    } finally {
      await producer.disconnect();
    }
  });
});
