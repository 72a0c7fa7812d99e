import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOPICS, topicNames } from "../../src/adapters/kafka/topics.js";
import { bootstrapTopics } from "../../src/adapters/kafka/bootstrap.js";
import { connectTestKafka, type TestKafka } from "../support/kafka-env.js";

describe("topic bootstrap", () => {
  let t: TestKafka;
  beforeAll(async () => {
    t = await connectTestKafka(4);
  });
  afterAll(async () => t.close());

  it("creates every topic with the configured partitions and cleanup policy, and is idempotent", async () => {
    const first = await t.bootstrap();
    expect(first.created).toHaveLength(TOPICS.length);
    const names = topicNames(t.config.topicPrefix);
    const described = await t.admin.describeTopics(Object.values(names), ["cleanup.policy"]);
    expect(described).toHaveLength(Object.values(names).length);
    for (const topic of described) expect(topic.partitions, topic.name).toBe(4);
    const policy = Object.fromEntries(described.map((d) => [d.name, d.config?.["cleanup.policy"]]));
    expect(policy[names["desired-state"]]).toBe("compact");
    expect(policy[names["stack-state"]]).toBe("compact");
    expect(policy[names.changelog]).toBe("compact");
    expect(policy[names["provider-events"]]).toBe("delete");
    expect(policy[names.audit]).toBe("delete");

    const second = await t.bootstrap();
    expect(second.created).toEqual([]);
    expect(second.schemaIds).toEqual(first.schemaIds);

    // No producer can move stream time into the future: an input record stamped two hours ahead is refused.
    const producer = await t.kafka.producer({ fastFail: true });
    try {
      const ahead = { key: "acme", value: Buffer.from("x"), timestamp: Date.now() + 2 * 3_600_000 };
      await expect(producer.send([{ topic: names["provider-events"], ...ahead }])).rejects.toThrow(/TIMESTAMP/i);
      const now = { key: "acme", value: Buffer.from("x"), timestamp: Date.now() };
      await expect(producer.send([{ topic: names["provider-events"], ...now }])).resolves.toHaveLength(1);
    } finally {
      await producer.disconnect();
    }
  });

  it("refuses existing topics whose partition count would break co-partitioning", async () => {
    await expect(
      bootstrapTopics({
        admin: t.admin,
        serde: t.serde,
        prefix: t.config.topicPrefix,
        partitions: 6,
        replicationFactor: 1,
      }),
    ).rejects.toThrow(/has 4 partitions, expected 6/);
  });

  it("changes the retention of existing topics to the configured one, says what changed and keeps their other settings", async () => {
    const names = topicNames(t.config.topicPrefix);
    const DAY = 86_400_000;
    const run = (retention: Record<string, number>) =>
      bootstrapTopics({
        admin: t.admin,
        serde: t.serde,
        prefix: t.config.topicPrefix,
        partitions: 4,
        replicationFactor: 1,
        retention,
      });
    const changed = await run({ audit: 730 * DAY, "provider-events": 14 * DAY });
    expect(changed.retentionChanged).toEqual([
      { topic: names["provider-events"], from_ms: 30 * DAY, to_ms: 14 * DAY },
      { topic: names.audit, from_ms: 365 * DAY, to_ms: 730 * DAY },
    ]);
    const described = await t.admin.describeTopics(
      [names.audit, names["provider-events"]],
      ["retention.ms", "cleanup.policy", "message.timestamp.after.max.ms"],
    );
    const config = Object.fromEntries(described.map((d) => [d.name, d.config]));
    expect(config[names.audit]).toMatchObject({ "retention.ms": String(730 * DAY), "cleanup.policy": "delete" });
    expect(config[names["provider-events"]]).toMatchObject({
      "retention.ms": String(14 * DAY),
      "cleanup.policy": "delete",
      "message.timestamp.after.max.ms": "3600000",
    });
    // Applied once: the same configuration changes nothing the next time, and a role not named is left alone.
    expect((await run({ audit: 730 * DAY, "provider-events": 14 * DAY })).retentionChanged).toEqual([]);
    expect((await run({})).retentionChanged).toEqual([]);
    const [audit] = await t.admin.describeTopics([names.audit], ["retention.ms"]);
    expect(audit!.config!["retention.ms"]).toBe(String(730 * DAY));
  });
});
