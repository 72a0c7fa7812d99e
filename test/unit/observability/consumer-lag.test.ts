/**
 * kafka_consumer_group_lag of the notifier (issue 14 item 12): its group starts at the end of drift-events and
 * commits a partition only once a record arrives there, so partitions without new drift events had no
 * committed offset, were counted from 0, and the gauge showed their whole history (20) while caught up.
 * The port here is a stand-in for our own KafkaPort/KafkaAdmin interfaces, not the Kafka client.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { GroupConsumer, KafkaAdmin, KafkaPort } from "../../../src/adapters/kafka/port.js";
import type { AvroSerde } from "../../../src/adapters/kafka/serde.js";
import { topicNames } from "../../../src/adapters/kafka/topics.js";
import { NotifierRunner } from "../../../src/notifier/notifier-runner.js";
import { createMetrics } from "../../../src/observability/metrics.js";
import { consumerLag } from "../../../src/observability/ops-server.js";

const names = topicNames("unit.");
const GROUP = "blackwell-notifier";

/** A cluster where drift-events has partitions with `ends` and the group committed `committed`. */
function cluster(ends: bigint[], committed: Map<number, bigint>) {
  const admin = {
    endOffsets: async () => ends.map((high, partition) => ({ partition, high })),
    committedOffsets: async () => committed,
  } as unknown as KafkaAdmin;
  const consumer = { start: async () => {}, stop: async () => {} } as unknown as GroupConsumer;
  const kafka = { admin, readToEnd: async () => {}, consumer: () => consumer } as unknown as KafkaPort;
  return { admin, kafka };
}

describe("consumer group lag", () => {
  it("counts a partition without a committed offset from 0 for a group that reads from the beginning", async () => {
    const { admin } = cluster([12n, 8n], new Map([[1, 8n]]));
    const lag = await consumerLag(admin, { groupId: "g", topics: [names["drift-events"]] });
    expect(lag.get(names["drift-events"])).toBe(12);
  });

  it("is 0 for the notifier caught up on drift-events, and counts only records written since it started", async () => {
    const ends = [12n, 8n, 0n];
    const { admin, kafka } = cluster(ends, new Map());
    const runner = new NotifierRunner({
      kafka,
      admin,
      serde: {} as AvroSerde,
      names,
      metrics: createMetrics(),
      log: pino({ level: "silent" }),
    });
    await runner.start();
    const group = {
      groupId: GROUP,
      topics: [names["drift-events"]],
      startOffsets: (t: string) => runner.startOffsets(t),
    };
    expect((await consumerLag(admin, group)).get(names["drift-events"])).toBe(0);
    ends[0] = 14n; // two drift events not delivered yet
    expect((await consumerLag(admin, group)).get(names["drift-events"])).toBe(2);
    await runner.stop();
  });
});
