/**
 * Creates every topic of the contract with its partition count and cleanup
 * policy, and registers every value schema with BACKWARD compatibility.
 * Idempotent: existing topics are checked, not recreated.
 */
import { BlackwellError } from "../../errors.js";
import type { KafkaAdmin } from "./port.js";
import type { AvroSerde } from "./serde.js";
import { TOPICS, topicNames, type TopicNames } from "./topics.js";

export interface BootstrapOptions {
  admin: KafkaAdmin;
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
  await admin.createTopics(
    missing.map((t) => ({ name: names[t.role], partitions, replicationFactor, config: t.configEntries })),
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
  const schemaIds: Record<string, number> = {};
  for (const t of TOPICS) {
    if (t.schema) schemaIds[names[t.role]] = await serde.register(names[t.role], t.schema);
  }
  return { names, created: missing.map((t) => names[t.role]), existing, schemaIds };
}
