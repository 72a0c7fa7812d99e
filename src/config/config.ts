import { readFileSync } from "node:fs";
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
  /** SASL from `KAFKA_SASL_MECHANISM` (plain, scram-sha-256, scram-sha-512), `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD[_FILE]`. */
  sasl?: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string };
  /** TLS from `KAFKA_SSL=1`, `KAFKA_SSL_CA_FILE`, `KAFKA_SSL_REJECT_UNAUTHORIZED=0`. */
  ssl?: { ca?: string; rejectUnauthorized: boolean };
  /** Registry basic auth from `SCHEMA_REGISTRY_USERNAME`, `SCHEMA_REGISTRY_PASSWORD[_FILE]`. */
  registryAuth?: { username: string; password: string };
}

function secretFrom(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new BlackwellError("BLACKWELL_ERR_CONFIG", `${name}_FILE ${file} cannot be read: ${(err as Error).message}`);
    }
  }
  return env[name];
}

const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;

function securityFromEnv(env: NodeJS.ProcessEnv): Pick<KafkaConfig, "sasl" | "ssl" | "registryAuth"> {
  const out: Pick<KafkaConfig, "sasl" | "ssl" | "registryAuth"> = {};
  const mechanism = env.KAFKA_SASL_MECHANISM?.toLowerCase();
  if (mechanism) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) throw new BlackwellError("BLACKWELL_ERR_CONFIG", `KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(", ")}, got ${JSON.stringify(env.KAFKA_SASL_MECHANISM)}`);
    const username = env.KAFKA_SASL_USERNAME;
    const password = secretFrom(env, "KAFKA_SASL_PASSWORD");
    if (!username || !password) throw new BlackwellError("BLACKWELL_ERR_CONFIG", "KAFKA_SASL_MECHANISM is set: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) are required");
    out.sasl = { mechanism: mechanism as (typeof SASL_MECHANISMS)[number], username, password };
  }
  if (env.KAFKA_SSL === "1" || env.KAFKA_SSL === "true" || env.KAFKA_SSL_CA_FILE) {
    let ca: string | undefined;
    if (env.KAFKA_SSL_CA_FILE) {
      try {
        ca = readFileSync(env.KAFKA_SSL_CA_FILE, "utf8");
      } catch (err) {
        throw new BlackwellError("BLACKWELL_ERR_CONFIG", `KAFKA_SSL_CA_FILE ${env.KAFKA_SSL_CA_FILE} cannot be read: ${(err as Error).message}`);
      }
    }
    out.ssl = { ...(ca ? { ca } : {}), rejectUnauthorized: env.KAFKA_SSL_REJECT_UNAUTHORIZED !== "0" };
  }
  const registryPassword = secretFrom(env, "SCHEMA_REGISTRY_PASSWORD");
  if (env.SCHEMA_REGISTRY_USERNAME && registryPassword) out.registryAuth = { username: env.SCHEMA_REGISTRY_USERNAME, password: registryPassword };
  return out;
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
    ...securityFromEnv(env),
  };
}
