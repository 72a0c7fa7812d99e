/**
 * What every process builds once at start-up and passes down: configuration,
 * the Kafka client and admin, the serde with registered schemas, topic names.
 */
import type { Admin, Kafka } from "kafkajs";
import type { KafkaConfig } from "../config/config.js";
import { bootstrapTopics } from "../adapters/kafka/bootstrap.js";
import { createKafka } from "../adapters/kafka/kafka-client.js";
import { loadSchemas } from "../adapters/kafka/schemas.js";
import { AvroSerde } from "../adapters/kafka/serde.js";
import type { TopicNames } from "../adapters/kafka/topics.js";
import type { Logger } from "../observability/logger.js";

export interface AppContext {
  config: KafkaConfig;
  kafka: Kafka;
  admin: Admin;
  serde: AvroSerde;
  names: TopicNames;
  log: Logger;
  close: () => Promise<void>;
}

/** Connects, creates missing topics and registers schemas (idempotent). */
export async function createAppContext(config: KafkaConfig, log: Logger): Promise<AppContext> {
  const kafka = createKafka(config, (level, message, extra) => log[level]({ ...extra }, message));
  const admin = kafka.admin();
  await admin.connect();
  const serde = AvroSerde.forUrl(config.registryUrl, loadSchemas(), config.registryAuth);
  const report = await bootstrapTopics({ admin, serde, prefix: config.topicPrefix, partitions: config.partitions, replicationFactor: config.replicationFactor });
  if (report.created.length > 0) log.info({ created: report.created }, "topics created");
  return { config, kafka, admin, serde, names: report.names, log, close: () => admin.disconnect() };
}
