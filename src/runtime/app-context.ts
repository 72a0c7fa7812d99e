/**
 * What every process builds once at start-up and passes down: configuration,
 * the Kafka port (client and admin), the serde with registered schemas, topic
 * names.
 */
import type { KafkaConfig } from "../config/config.js";
import { bootstrapTopics } from "../adapters/kafka/bootstrap.js";
import { connectKafka } from "../adapters/kafka/kafkajs-port.js";
import type { KafkaAdmin, KafkaPort } from "../adapters/kafka/port.js";
import { loadSchemas } from "../adapters/kafka/schemas.js";
import { AvroSerde } from "../adapters/kafka/serde.js";
import type { TopicNames } from "../adapters/kafka/topics.js";
import type { Logger } from "../observability/logger.js";

export interface AppContext {
  config: KafkaConfig;
  kafka: KafkaPort;
  /** The port's admin (`kafka.admin`), named for brevity. */
  admin: KafkaAdmin;
  serde: AvroSerde;
  names: TopicNames;
  log: Logger;
  close: () => Promise<void>;
}

/** Connects, creates missing topics and registers schemas (idempotent). */
export async function createAppContext(config: KafkaConfig, log: Logger): Promise<AppContext> {
  const kafka = await connectKafka(config, (level, message, extra) => log[level]({ ...extra }, message), log);
  const serde = AvroSerde.forUrl(config.registryUrl, loadSchemas(), config.registryAuth);
  const report = await bootstrapTopics({
    admin: kafka.admin,
    serde,
    prefix: config.topicPrefix,
    partitions: config.partitions,
    replicationFactor: config.replicationFactor,
    ...(config.retention ? { retention: config.retention } : {}),
  });
  if (report.created.length > 0) log.info({ created: report.created }, "topics created");
  for (const change of report.retentionChanged) {
    const days = (ms: number | null) => (ms === null ? "unknown" : `${Math.round((ms / 86_400_000) * 100) / 100}d`);
    // A shorter retention deletes records the broker held: say it louder.
    const shorter = change.from_ms === null || change.to_ms < change.from_ms;
    log[shorter ? "warn" : "info"](
      { topic: change.topic, from_ms: change.from_ms, to_ms: change.to_ms },
      `topic retention changed from ${days(change.from_ms)} to ${days(change.to_ms)} (BLACKWELL_RETENTION)`,
    );
  }
  return { config, kafka, admin: kafka.admin, serde, names: report.names, log, close: () => kafka.close() };
}
