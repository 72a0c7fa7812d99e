import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry } from "kafkajs";
import type { KafkaConfig } from "../../config/config.js";

export type LogSink = (level: "error" | "warn" | "info" | "debug", message: string, extra: Record<string, unknown>) => void;

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
      const level = entry.level === logLevel.ERROR ? "error" : entry.level === logLevel.WARN ? "warn" : entry.level === logLevel.INFO ? "info" : "debug";
      log(level, `[kafkajs ${entry.namespace}] ${message}`, extra);
    },
    retry: { initialRetryTime: 100, retries: 8 },
    ...overrides,
  });
}
