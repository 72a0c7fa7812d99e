import { readFileSync } from "node:fs";
import { errorMessage } from "../errors.js";
import { EnvReader } from "./env-reader.js";
import { RETAINED_ROLES, retentionProblems, type Retention, type TopicRole } from "../adapters/kafka/topics.js";
import { parseDuration } from "../core/duration.js";

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
  /**
   * SASL from `KAFKA_SASL_MECHANISM` (plain, scram-sha-256, scram-sha-512), `KAFKA_SASL_USERNAME`,
   * `KAFKA_SASL_PASSWORD[_FILE]`. Default none.
   */
  sasl?: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string };
  /** TLS from `KAFKA_SSL=1`, `KAFKA_SSL_CA_FILE`, `KAFKA_SSL_REJECT_UNAUTHORIZED=0`. */
  ssl?: { ca?: string; rejectUnauthorized: boolean };
  /** Registry basic auth from `SCHEMA_REGISTRY_USERNAME`, `SCHEMA_REGISTRY_PASSWORD[_FILE]`. */
  registryAuth?: { username: string; password: string };
  /**
   * Retention of the topics whose records age out, from `BLACKWELL_RETENTION` (`audit=730d,provider-events=14d`):
   * applied when a topic is created and changed on an existing one by the topic bootstrap. Roles not named keep
   * their defaults (30 days, audit 365 days) and are never changed on an existing topic.
   */
  retention?: Retention;
}

/** The least retention a topic may be given: shorter loses records before a stopped role is back. */
const MIN_RETENTION_MS = 3_600_000;

function retentionFrom(r: EnvReader): Retention | undefined {
  const raw = r.optional("BLACKWELL_RETENTION");
  if (raw === undefined || raw.trim() === "") return undefined;
  const retention: Retention = {};
  const parts = raw
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  // Separators alone are a value gone wrong (a template with its entries left out), not a request for the defaults.
  if (parts.length === 0)
    r.problem(
      "BLACKWELL_RETENTION",
      `${JSON.stringify(raw)} names no topic (e.g. audit=730d); unset it for the defaults`,
    );
  for (const part of parts) {
    const [role, duration, extra] = part.split("=").map((x) => x.trim());
    if (!role || duration === undefined || extra !== undefined) {
      r.problem("BLACKWELL_RETENTION", `${JSON.stringify(part)} is not <topic>=<duration> (e.g. audit=730d)`);
      continue;
    }
    if (!(RETAINED_ROLES as readonly string[]).includes(role)) {
      r.problem(
        "BLACKWELL_RETENTION",
        `${JSON.stringify(role)} is not a topic whose records age out (one of ${RETAINED_ROLES.join(", ")})`,
      );
      continue;
    }
    const ms = parseDuration(duration);
    if (ms === null || ms < MIN_RETENTION_MS) {
      r.problem(
        "BLACKWELL_RETENTION",
        `${role}: ${JSON.stringify(duration)} must be a duration of at least 1h (e.g. 30d)`,
      );
      continue;
    }
    if (retention[role as TopicRole] !== undefined) {
      r.problem("BLACKWELL_RETENTION", `${role} is named twice: give each topic once`);
      continue;
    }
    retention[role as TopicRole] = ms;
  }
  for (const problem of retentionProblems(retention)) r.problem("BLACKWELL_RETENTION", problem);
  return retention;
}

const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;
type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** Printed when a role has no Kafka: a deployed role never starts a local one by itself. */
export const NO_KAFKA_HINT =
  "a deployed role needs the bootstrap servers (e.g. KAFKA_BROKERS=127.0.0.1:9092) and the registry " +
  "(e.g. SCHEMA_REGISTRY_URL=http://127.0.0.1:8081); for a local Kafka and registry, " +
  "`blackwell demo` starts them and runs everything, `blackwell up` starts them and prints these variables";

function saslFrom(r: EnvReader): KafkaConfig["sasl"] {
  const raw = r.optional("KAFKA_SASL_MECHANISM");
  if (raw === undefined) return undefined;
  const mechanism = raw.toLowerCase();
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    r.problem("KAFKA_SASL_MECHANISM", `must be one of ${SASL_MECHANISMS.join(", ")}, got ${JSON.stringify(raw)}`);
    return undefined;
  }
  const username = r.optional("KAFKA_SASL_USERNAME");
  const password = r.secret("KAFKA_SASL_PASSWORD");
  // An unreadable password file is already reported; "missing" on top of it would mislead.
  if (!username || (!password && r.optional("KAFKA_SASL_PASSWORD_FILE") === undefined)) {
    const needed = "and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) are required with KAFKA_SASL_MECHANISM";
    r.problem("KAFKA_SASL_USERNAME", needed);
    return undefined;
  }
  return { mechanism: mechanism as SaslMechanism, username, password: password ?? "" };
}

function sslFrom(r: EnvReader): KafkaConfig["ssl"] {
  const caFile = r.optional("KAFKA_SSL_CA_FILE");
  if (!r.flag("KAFKA_SSL", false) && caFile === undefined) return undefined;
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, "utf8");
    } catch (err) {
      r.problem("KAFKA_SSL_CA_FILE", `names ${caFile}, which cannot be read: ${errorMessage(err)}`);
    }
  }
  return { ...(ca ? { ca } : {}), rejectUnauthorized: r.optional("KAFKA_SSL_REJECT_UNAUTHORIZED") !== "0" };
}

/** Reads the Kafka settings into `r`, which collects the problems; see {@link kafkaConfigFromEnv}. */
export function readKafkaConfig(r: EnvReader): KafkaConfig {
  const brokers = (r.optional("KAFKA_BROKERS") ?? "")
    .split(",")
    .map((b) => b.trim())
    .filter(Boolean);
  const rawRegistry = r.optional("SCHEMA_REGISTRY_URL");
  if (brokers.length === 0 && rawRegistry === undefined) {
    r.problem("KAFKA_BROKERS and SCHEMA_REGISTRY_URL", `are not set: ${NO_KAFKA_HINT}`);
  } else if (brokers.length === 0) {
    r.problem("KAFKA_BROKERS", `is not set: ${NO_KAFKA_HINT}`);
  } else if (rawRegistry === undefined) {
    r.problem("SCHEMA_REGISTRY_URL", `is not set: ${NO_KAFKA_HINT}`);
  }
  const registryUrl = r.httpUrl("SCHEMA_REGISTRY_URL") ?? "";
  const sasl = saslFrom(r);
  const ssl = sslFrom(r);
  const registryPassword = r.secret("SCHEMA_REGISTRY_PASSWORD");
  const registryUser = r.optional("SCHEMA_REGISTRY_USERNAME");
  const retention = retentionFrom(r);
  return {
    brokers,
    registryUrl,
    topicPrefix: r.string("BLACKWELL_TOPIC_PREFIX", "blackwell."),
    partitions: r.positiveInt("BLACKWELL_PARTITIONS", 6),
    replicationFactor: r.positiveInt("BLACKWELL_REPLICATION_FACTOR", 1),
    clientId: r.string("BLACKWELL_CLIENT_ID", "blackwell"),
    ...(sasl ? { sasl } : {}),
    ...(ssl ? { ssl } : {}),
    ...(registryUser && registryPassword
      ? { registryAuth: { username: registryUser, password: registryPassword } }
      : {}),
    ...(retention ? { retention } : {}),
  };
}

/** Reads the Kafka configuration from the environment, refusing bad values at start-up with every problem named. */
export function kafkaConfigFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaConfig {
  const r = new EnvReader(env);
  return r.finish(readKafkaConfig(r));
}
