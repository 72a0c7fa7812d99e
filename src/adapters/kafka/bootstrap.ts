/**
 * Creates every topic of the contract with its partition count and cleanup
 * policy, and registers every value schema with BACKWARD compatibility.
 * Idempotent: existing topics are checked, not recreated.
 */
import { BlackwellError } from "../../errors.js";
import type { KafkaAdmin } from "./port.js";
import type { AvroSerde } from "./serde.js";
import { TOPICS, topicConfig, topicNames, type Retention, type TopicNames } from "./topics.js";

export interface BootstrapOptions {
  admin: KafkaAdmin;
  serde: AvroSerde;
  prefix: string;
  partitions: number;
  replicationFactor: number;
  /** Configured retentions: used at creation, and set on existing topics that differ. */
  retention?: Retention;
}

export interface BootstrapReport {
  names: TopicNames;
  created: string[];
  existing: string[];
  /** Existing topics whose retention was changed to the configured one. */
  retentionChanged: Array<{ topic: string; from_ms: number | null; to_ms: number }>;
  schemaIds: Record<string, number>;
}

export async function bootstrapTopics(options: BootstrapOptions): Promise<BootstrapReport> {
  const { admin, serde, prefix, partitions, replicationFactor, retention = {} } = options;
  const names = topicNames(prefix);
  const present = new Set(await admin.listTopics());
  const missing = TOPICS.filter((t) => !present.has(names[t.role]));
  await admin.createTopics(
    missing.map((t) => ({
      name: names[t.role],
      partitions,
      replicationFactor,
      config: topicConfig(t.role, retention),
    })),
  );
  await admin.waitForLeaders(missing.map((t) => names[t.role]));
  const existing = TOPICS.filter((t) => present.has(names[t.role])).map((t) => names[t.role]);
  if (existing.length > 0) {
    // Co-partitioning breaks silently if input topics disagree on partition counts.
    for (const topic of await admin.describeTopics(existing)) {
      if (topic.partitions !== partitions) {
        throw new BlackwellError(
          "BLACKWELL_ERR_CONFIG",
          `topic ${topic.name} has ${topic.partitions} partitions, expected ${partitions}: every topic must have the same count for co-partitioning`,
        );
      }
    }
  }
  const retentionChanged: BootstrapReport["retentionChanged"] = [];
  const configured = TOPICS.filter((t) => retention[t.role] !== undefined && present.has(names[t.role]));
  if (configured.length > 0) {
    const described = await admin.describeTopics(
      configured.map((t) => names[t.role]),
      ["retention.ms"],
    );
    for (const t of configured) {
      const topic = names[t.role];
      const wanted = retention[t.role]!;
      const raw = described.find((d) => d.name === topic)?.config?.["retention.ms"];
      const now = raw === undefined ? null : Number(raw);
      if (now === wanted) continue;
      await admin.alterTopicConfig(topic, { "retention.ms": String(wanted) });
      retentionChanged.push({ topic, from_ms: now, to_ms: wanted });
    }
  }
  const schemaIds: Record<string, number> = {};
  for (const t of TOPICS) {
    if (t.schema) schemaIds[names[t.role]] = await serde.register(names[t.role], t.schema);
  }
  return { names, created: missing.map((t) => names[t.role]), existing, retentionChanged, schemaIds };
}
