import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type SASLOptions } from "kafkajs";
import type { KafkaConfig } from "../../config/config.js";

export type LogSink = (
  level: "error" | "warn" | "info" | "debug",
  message: string,
  extra: Record<string, unknown>,
) => void;

/**
 * KafkaJS messages that are routine for us, not problems: the coordinator
 * answers CONCURRENT_TRANSACTIONS while it writes the previous commit's
 * markers (retried at once), and bounded retries on a transactional producer
 * are safe because a failed send aborts the whole transaction.
 */
const EXPECTED_NOISE = [/concurrent operation on the same transaction/, /Limiting retries for the idempotent producer/];

/**
 * Builds the one KafkaJS client of a process. KafkaJS's own logs go through
 * `log` (our structured logger) instead of its console JSON.
 */
export function createKafka(config: KafkaConfig, log?: LogSink, overrides: Partial<KafkaJsConfig> = {}): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      if (!log) return;
      const { message, ...extra } = entry.log;
      let level: "error" | "warn" | "info" | "debug" =
        entry.level === logLevel.ERROR
          ? "error"
          : entry.level === logLevel.WARN
            ? "warn"
            : entry.level === logLevel.INFO
              ? "info"
              : "debug";
      if (EXPECTED_NOISE.some((re) => re.test(message) || re.test(String(extra.error ?? "")))) level = "debug";
      log(level, `[kafkajs ${entry.namespace}] ${message}`, extra);
    },
    // A short cap on the backoff: a consumer that gave up restarts after its last retry time, and with the default
    // 30 s cap that came to about 26 s of idleness after a broker came back.
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
    ...(config.sasl ? { sasl: config.sasl as SASLOptions } : {}),
    ...(config.ssl
      ? {
          ssl: { rejectUnauthorized: config.ssl.rejectUnauthorized, ...(config.ssl.ca ? { ca: [config.ssl.ca] } : {}) },
        }
      : {}),
    ...overrides,
  });
}
