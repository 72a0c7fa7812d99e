import { BlackwellError } from "../errors.js";

/** Where to find Kafka and the registry, and how our topics are laid out. */
export interface KafkaConfig {
  /** Bootstrap servers. From `KAFKA_BROKERS` (comma-separated). */
  brokers: string[];
  /** Registry base URL (Confluent-compatible API). From `SCHEMA_REGISTRY_URL`. */
  registryUrl: string;
  /** Topic name prefix. From `BLACKWELL_TOPIC_PREFIX`, default `blackwell.`. */
  topicPrefix: string;
  /** Partitions of every topic at creation. From `BLACKWELL_PARTITIONS`, default 6. */
  partitions: number;
  /** Replication factor at creation. From `BLACKWELL_REPLICATION_FACTOR`, default 1. */
  replicationFactor: number;
  /** Client id reported to the broker. Default `blackwell`. */
  clientId: string;
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new BlackwellError("BLACKWELL_ERR_CONFIG", `${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Reads the Kafka configuration from the environment, refusing bad values at start-up. */
export function kafkaConfigFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaConfig {
  const brokers = (env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) throw new BlackwellError("BLACKWELL_ERR_CONFIG", "KAFKA_BROKERS is not set (e.g. 127.0.0.1:9092)");
  const registryUrl = (env.SCHEMA_REGISTRY_URL ?? "").replace(/\/+$/, "");
  if (!/^https?:\/\//.test(registryUrl)) {
    throw new BlackwellError("BLACKWELL_ERR_CONFIG", "SCHEMA_REGISTRY_URL is not set to an http(s) URL (e.g. http://127.0.0.1:8081)");
  }
  return {
    brokers,
    registryUrl,
    topicPrefix: env.BLACKWELL_TOPIC_PREFIX ?? "blackwell.",
    partitions: positiveInt("BLACKWELL_PARTITIONS", env.BLACKWELL_PARTITIONS, 6),
    replicationFactor: positiveInt("BLACKWELL_REPLICATION_FACTOR", env.BLACKWELL_REPLICATION_FACTOR, 1),
    clientId: env.BLACKWELL_CLIENT_ID ?? "blackwell",
  };
}
