import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type SASLOptions } from "kafkajs";
import type { KafkaConfig } from "../../config/config.js";

export type LogSink = (
  level: "error" | "warn" | "info" | "debug",
  message: string,
  extra: Record<string, unknown>,
) => void;

type Level = "error" | "warn" | "info" | "debug";

/**
 * KafkaJS messages that are routine for us, not problems: the coordinator
 * answers CONCURRENT_TRANSACTIONS while it writes the previous commit's
 * markers (retried at once), and bounded retries on a transactional producer
 * are safe because a failed send aborts the whole transaction.
 */
const EXPECTED_NOISE = [/concurrent operation on the same transaction/, /Limiting retries for the idempotent producer/];

/**
 * What a broker, group or transaction coordinator answers while it is still starting (or while a leader moves):
 * KafkaJS logs every such answer at error and retries it. A fresh `make demo` printed them before its first step.
 */
const TRANSIENT = [
  /not the leader for that topic-partition/, // NOT_LEADER_OR_FOLLOWER
  /no leader for this topic-partition as we are in the middle of a leadership election/, // LEADER_NOT_AVAILABLE
  /coordinator is loading/, // COORDINATOR_LOAD_IN_PROGRESS
  /coordinator is not available/, // COORDINATOR_NOT_AVAILABLE
  /not the correct coordinator/, // NOT_COORDINATOR
  /ECONNREFUSED/, // a broker that is not listening yet
];

/** A retrier that gave up: KafkaJS's own final failure, never demoted. */
const FINAL = /NumberOfRetriesExceeded|retries exhausted/i;

/** A run of transient reports longer than this is no longer start-up: they keep their own level. */
export const TRANSIENT_GRACE_MS = 30_000;
/** A pause this long between transient reports ends their run: the next one starts a new grace period. */
export const TRANSIENT_QUIET_MS = 10_000;

/**
 * The level a KafkaJS log entry gets in our log. Routine noise is debug. Transient start-up answers are debug too,
 * but only while they are transient: a run of them lasting longer than `graceMs` keeps KafkaJS's level, and a
 * retrier that gave up (retries exhausted) is never demoted. So a cluster that does not settle is still reported,
 * as is a consumer that stops for good (the roles log "consumer stopped for good" at error).
 */
export class KafkaLogLevels {
  private runStart: number | undefined;
  private lastTransient = -Infinity;
  /** The level of the last "Crash:", which its "Restarting the consumer" line follows. */
  private crashLevel: Level = "error";

  constructor(
    private readonly graceMs = TRANSIENT_GRACE_MS,
    private readonly quietMs = TRANSIENT_QUIET_MS,
    private readonly now: () => number = Date.now,
  ) {}

  level(kafkaLevel: Level, message: string, extra: Record<string, unknown>): Level {
    const error = typeof extra.error === "string" ? extra.error : "";
    const text = `${message} ${error}`;
    if (EXPECTED_NOISE.some((re) => re.test(text))) return "debug";
    if (message.startsWith("Restarting the consumer")) return this.crashLevel;
    let level = kafkaLevel;
    if (!FINAL.test(text) && TRANSIENT.some((re) => re.test(text))) level = this.transient(kafkaLevel);
    if (message.startsWith("Crash:")) this.crashLevel = level;
    return level;
  }

  private transient(kafkaLevel: Level): Level {
    const now = this.now();
    if (this.runStart === undefined || now - this.lastTransient > this.quietMs) this.runStart = now;
    this.lastTransient = now;
    return now - this.runStart <= this.graceMs ? "debug" : kafkaLevel;
  }
}

/**
 * Builds the one KafkaJS client of a process. KafkaJS's own logs go through
 * `log` (our structured logger) instead of its console JSON.
 */
export function createKafka(config: KafkaConfig, log?: LogSink, overrides: Partial<KafkaJsConfig> = {}): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => {
      const levels = new KafkaLogLevels();
      return (entry: LogEntry) => {
        if (!log) return;
        const { message, ...extra } = entry.log;
        const kafkaLevel: Level =
          entry.level === logLevel.ERROR
            ? "error"
            : entry.level === logLevel.WARN
              ? "warn"
              : entry.level === logLevel.INFO
                ? "info"
                : "debug";
        log(levels.level(kafkaLevel, message, extra), `[kafkajs ${entry.namespace}] ${message}`, extra);
      };
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
