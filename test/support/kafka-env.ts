/**
 * Per-test access to the run's broker and registry. Every test gets its own
 * topic prefix, so tests never see each other's records.
 */
import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import type { KafkaConfig } from "../../src/config/config.js";
import { connectKafka } from "../../src/adapters/kafka/kafkajs-port.js";
import type { KafkaAdmin, KafkaPort } from "../../src/adapters/kafka/port.js";
import { AvroSerde } from "../../src/adapters/kafka/serde.js";
import { loadSchemas } from "../../src/adapters/kafka/schemas.js";
import { bootstrapTopics, type BootstrapReport } from "../../src/adapters/kafka/bootstrap.js";

export interface TestKafka {
  config: KafkaConfig;
  kafka: KafkaPort;
  admin: KafkaAdmin;
  serde: AvroSerde;
  /** Creates all topics under this test's prefix and registers the schemas. */
  bootstrap: () => Promise<BootstrapReport>;
  close: () => Promise<void>;
}

export function testConfig(partitions = 6): KafkaConfig {
  return {
    brokers: [inject("kafkaBrokers")],
    registryUrl: inject("registryUrl"),
    topicPrefix: `t${randomUUID().slice(0, 8)}.`,
    partitions,
    replicationFactor: 1,
    clientId: "blackwell-test",
  };
}

export async function connectTestKafka(partitions = 6): Promise<TestKafka> {
  const config = testConfig(partitions);
  const kafka = await connectKafka(config);
  const { admin } = kafka;
  const serde = AvroSerde.forUrl(config.registryUrl, loadSchemas());
  return {
    config,
    kafka,
    admin,
    serde,
    bootstrap: () =>
      bootstrapTopics({
        admin,
        serde,
        prefix: config.topicPrefix,
        partitions: config.partitions,
        replicationFactor: 1,
      }),
    close: () => kafka.close(),
  };
}
