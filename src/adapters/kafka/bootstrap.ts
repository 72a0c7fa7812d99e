/**
 * Creates every topic of the contract with its partition count and cleanup
 * policy, and registers every value schema with BACKWARD compatibility.
 * Idempotent: existing topics are checked, not recreated.
 */
import type { Admin } from "kafkajs";
import { BlackwellError } from "../../errors.js";
import type { AvroSerde } from "./serde.js";
import { TOPICS, topicNames, type TopicNames } from "./topics.js";

export interface BootstrapOptions {
  admin: Admin;
  serde: AvroSerde;
  prefix: string;
  partitions: number;
  replicationFactor: number;
}

export interface BootstrapReport {
  names: TopicNames;
  created: string[];
  existing: string[];
  schemaIds: Record<string, number>;
}

export async function bootstrapTopics(options: BootstrapOptions): Promise<BootstrapReport> {
  const { admin, serde, prefix, partitions, replicationFactor } = options;
  const names = topicNames(prefix);
  const present = new Set(await admin.listTopics());
  const missing = TOPICS.filter((t) => !present.has(names[t.role]));
  if (missing.length > 0) {
    await admin.createTopics({
      // KafkaJS's own wait gives up on UNKNOWN_TOPIC_OR_PARTITION while a busy
      // KRaft controller is still propagating the new topics; we poll instead.
      waitForLeaders: false,
      topics: missing.map((t) => ({
        topic: names[t.role],
        numPartitions: partitions,
        replicationFactor,
        configEntries: Object.entries(t.configEntries).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  await waitForLeaders(admin, missing.map((t) => names[t.role]), partitions);
  const existing = TOPICS.filter((t) => present.has(names[t.role])).map((t) => names[t.role]);
  if (existing.length > 0) {
    // Co-partitioning breaks silently if input topics disagree on partition counts.
    const metadata = await admin.fetchTopicMetadata({ topics: existing });
    for (const topic of metadata.topics) {
      if (topic.partitions.length !== partitions) {
        throw new BlackwellError("BLACKWELL_ERR_CONFIG", `topic ${topic.name} has ${topic.partitions.length} partitions, expected ${partitions}: every topic must have the same count for co-partitioning`);
      }
    }
  }
  const schemaIds: Record<string, number> = {};
  for (const t of TOPICS) {
    if (t.schema) schemaIds[names[t.role]] = await serde.register(names[t.role], t.schema);
  }
  return { names, created: missing.map((t) => names[t.role]), existing, schemaIds };
}

/** Polls metadata until every partition of `topics` has a leader. */
async function waitForLeaders(admin: Admin, topics: string[], partitions: number, timeoutMs = 60_000): Promise<void> {
  if (topics.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const ready = metadata.topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0));
      if (ready) {
        // Metadata can name a leader before that broker serves the partition (NOT_LEADER on the first produce):
        // ask each leader for its offsets, which only a serving leader answers.
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
        return;
      }
      last = "partitions without a leader";
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new BlackwellError("BLACKWELL_ERR_KAFKA", `topics ${topics.join(", ")} have no leaders after ${timeoutMs} ms (${last})`);
}
