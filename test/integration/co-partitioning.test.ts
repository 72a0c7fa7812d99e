import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafka } from "../../src/adapters/kafka/kafka-client.js";
import { connectTestKafka, type TestKafka } from "../support/kafka-env.js";

// Partitions for 6 partitions, from the Java client's murmur2 (see murmur2.test.ts).
const EXPECTED_P6: Record<string, number> = {
  "acme-corp": 1,
  globex: 1,
  initech: 0,
  umbrella: 0,
  "client-00042": 5,
  c: 4,
};

describe("co-partitioning on the real broker", () => {
  let t: TestKafka;
  beforeAll(async () => {
    t = await connectTestKafka(6);
    await t.bootstrap();
  });
  afterAll(async () => t.close());

  it("puts client_id and client_id/stack_id keys of one client on the Java default partitioner's partition", async () => {
    const names = { events: `${t.config.topicPrefix}provider-events`, state: `${t.config.topicPrefix}stack-state` };
    const producer = await t.kafka.producer();
    const clients = Object.keys(EXPECTED_P6);
    await producer.send(clients.map((c) => ({ topic: names.events, key: c, value: Buffer.from("x") })));
    await producer.send(clients.map((c) => ({ topic: names.state, key: `${c}/web-prod`, value: Buffer.from("x") })));
    // A producer in another language that keys by client_id uses the default partitioner:
    // KafkaJS's DefaultPartitioner (a plain KafkaJS client, not our port) is the Java-compatible murmur2 one.
    const raw = createKafka(t.config);
    const plain = raw.producer({ idempotent: true });
    await plain.connect();
    await plain.send({ topic: names.events, acks: -1, messages: clients.map((c) => ({ key: c, value: "plain" })) });
    await Promise.all([producer.disconnect(), plain.disconnect()]);

    const seen = new Map<string, Set<number>>();
    const consumer = raw.consumer({ groupId: `${t.config.topicPrefix}copart` });
    await consumer.connect();
    await consumer.subscribe({ topics: [names.events, names.state], fromBeginning: true });
    // Counted by identity: a rebalance may redeliver a record (at-least-once), which must not count twice.
    const positions = new Set<string>();
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const client = message.key!.toString().split("/")[0]!;
        if (!seen.has(client)) seen.set(client, new Set());
        seen.get(client)!.add(partition);
        positions.add(`${topic}/${message.key!.toString()}/${message.value!.toString()}`);
      },
    });
    const count = () => positions.size;
    const deadline = Date.now() + 30_000;
    while (count() < clients.length * 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await consumer.disconnect();

    expect(count()).toBe(clients.length * 3);
    for (const client of clients) {
      expect([...seen.get(client)!], client).toEqual([EXPECTED_P6[client]]);
    }
  });
});
