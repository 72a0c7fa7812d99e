/** Each role's configuration is read once and refused at start-up, naming every bad variable. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { apiConfigFromEnv } from "../../../src/config/api-config.js";
import { kafkaConfigFromEnv } from "../../../src/config/config.js";
import { notifierConfigFromEnv } from "../../../src/config/notifier-config.js";
import { reconcilerConfigFromEnv } from "../../../src/config/reconciler-config.js";
import { executorConfigFromEnv } from "../../../src/executor/executor-config.js";
import { BlackwellError } from "../../../src/errors.js";

const KAFKA = { KAFKA_BROKERS: "10.0.0.1:9092,10.0.0.2:9092", SCHEMA_REGISTRY_URL: "http://registry:8081/" };
const TOKEN = "s3cret-token-0123456789";

/** The refusal `read` throws, as the operator sees it. */
function refusal(read: () => unknown): BlackwellError {
  try {
    read();
  } catch (err) {
    expect(err).toBeInstanceOf(BlackwellError);
    expect((err as BlackwellError).code).toBe("BLACKWELL_ERR_CONFIG");
    return err as BlackwellError;
  }
  throw new Error("the configuration was accepted");
}

describe("a role's configuration", () => {
  it.each([
    ["reconciler", () => reconcilerConfigFromEnv({})],
    ["executor", () => executorConfigFromEnv({})],
    ["notifier", () => notifierConfigFromEnv({})],
    ["api", () => apiConfigFromEnv({ BLACKWELL_API_TOKENS: `ops@*:${TOKEN}` })],
  ])("of the %s without Kafka names KAFKA_BROKERS and SCHEMA_REGISTRY_URL and the local way", (_role, read) => {
    const { message } = refusal(read);
    expect(message).toContain("KAFKA_BROKERS and SCHEMA_REGISTRY_URL are not set");
    expect(message).toContain("`blackwell demo`");
    expect(message).toContain("`blackwell up`");
  });

  it("treats an empty variable as unset, as a shell user means it, and names the one missing", () => {
    expect(refusal(() => kafkaConfigFromEnv({ KAFKA_BROKERS: "", SCHEMA_REGISTRY_URL: "" })).message).toContain(
      "KAFKA_BROKERS and SCHEMA_REGISTRY_URL are not set",
    );
    expect(refusal(() => kafkaConfigFromEnv({ KAFKA_BROKERS: "k:9092" })).message).toMatch(
      /^SCHEMA_REGISTRY_URL is not set/,
    );
    expect(refusal(() => kafkaConfigFromEnv({ SCHEMA_REGISTRY_URL: "http://r" })).message).toMatch(
      /^KAFKA_BROKERS is not set/,
    );
  });

  it("gives the documented defaults when only Kafka is configured", () => {
    const cfg = reconcilerConfigFromEnv(KAFKA);
    expect(cfg.kafka).toMatchObject({
      brokers: ["10.0.0.1:9092", "10.0.0.2:9092"],
      registryUrl: "http://registry:8081",
      topicPrefix: "blackwell.",
      partitions: 6,
      replicationFactor: 1,
    });
    expect(cfg).toMatchObject({
      applicationId: "blackwell-reconciler",
      wallClockTicks: true,
      maxTaskIdleMs: 1000,
      stateCacheBytes: 256 * 1024 * 1024,
      commitIntervalMs: 0,
    });
    expect(cfg.stateDir).toMatch(/\.blackwell\/state$/);
    expect(cfg.sessionTimeoutMs).toBeUndefined();
    expect(notifierConfigFromEnv(KAFKA).groupId).toBe("blackwell-notifier");
    const executor = executorConfigFromEnv(KAFKA);
    expect(executor).toMatchObject({ groupId: "blackwell-executor", watchIntervalMs: 15_000, integrationApiUrl: null });
    expect(executor.breaker).toEqual({ maxHeals: 200, windowMs: 600_000 });
  });

  it("reads every setting the operator gives", () => {
    const cfg = reconcilerConfigFromEnv({
      ...KAFKA,
      BLACKWELL_APPLICATION_ID: "rec-eu",
      BLACKWELL_STATE_DIR: "/var/lib/blackwell",
      BLACKWELL_WALL_CLOCK_TICKS: "0",
      BLACKWELL_SESSION_TIMEOUT_MS: "6000",
      BLACKWELL_PARTITIONS: "12",
      BLACKWELL_MAX_TASK_IDLE: "2s",
      BLACKWELL_STATE_CACHE_MB: "64",
      BLACKWELL_COMMIT_INTERVAL: "100ms",
    });
    expect(cfg).toMatchObject({
      stateCacheBytes: 64 * 1024 * 1024,
      commitIntervalMs: 100,
      applicationId: "rec-eu",
      stateDir: "/var/lib/blackwell",
      wallClockTicks: false,
      sessionTimeoutMs: 6000,
      maxTaskIdleMs: 2000,
    });
    expect(reconcilerConfigFromEnv({ ...KAFKA, BLACKWELL_MAX_TASK_IDLE: "0" }).maxTaskIdleMs).toBe(0);
    expect(refusal(() => reconcilerConfigFromEnv({ ...KAFKA, BLACKWELL_MAX_TASK_IDLE: "soon" })).message).toContain(
      "BLACKWELL_MAX_TASK_IDLE",
    );
    expect(cfg.kafka.partitions).toBe(12);
    for (const bad of ["0", "1.5", "lots"])
      expect(refusal(() => reconcilerConfigFromEnv({ ...KAFKA, BLACKWELL_STATE_CACHE_MB: bad })).message).toMatch(
        /BLACKWELL_STATE_CACHE_MB.*whole number of megabytes/,
      );
  });

  it("names every bad variable in one refusal, so one restart fixes them all", () => {
    const { message } = refusal(() =>
      reconcilerConfigFromEnv({
        ...KAFKA,
        BLACKWELL_PARTITIONS: "zero",
        BLACKWELL_WALL_CLOCK_TICKS: "sometimes",
        BLACKWELL_SESSION_TIMEOUT_MS: "soon",
      }),
    );
    expect(message).toContain('BLACKWELL_PARTITIONS must be a positive integer (got "zero")');
    expect(message).toContain("BLACKWELL_WALL_CLOCK_TICKS must be one of");
    expect(message).toContain("BLACKWELL_SESSION_TIMEOUT_MS must be a number of milliseconds");
  });

  it("reads topic retentions, and refuses a compacted topic, a bad duration and a journal shorter than its inputs", () => {
    const DAY = 86_400_000;
    const cfg = kafkaConfigFromEnv({ ...KAFKA, BLACKWELL_RETENTION: "audit=730d, provider-events=14d" });
    expect(cfg.retention).toEqual({ audit: 730 * DAY, "provider-events": 14 * DAY });
    expect(kafkaConfigFromEnv(KAFKA)).not.toHaveProperty("retention");
    const { message } = refusal(() =>
      kafkaConfigFromEnv({
        ...KAFKA,
        BLACKWELL_RETENTION: "stack-state=7d,audit=soon,drift-events=10m,commands=90d,nonsense",
      }),
    );
    expect(message).toContain('"stack-state" is not a topic whose records age out');
    expect(message).toContain('audit: "soon" must be a duration of at least 1h');
    expect(message).toContain('drift-events: "10m" must be a duration of at least 1h');
    expect(message).toContain("task-journal (30d) must be kept at least as long as commands (90d)");
    expect(message).toContain('"nonsense" is not <topic>=<duration>');
    // A topic named twice would silently take the last value (a typo that deletes audit history).
    expect(
      refusal(() => kafkaConfigFromEnv({ ...KAFKA, BLACKWELL_RETENTION: "audit=30d,audit=40d" })).message,
    ).toContain("audit is named twice");
    // Separators alone were taken for an unset value, so the defaults applied without a word.
    expect(refusal(() => kafkaConfigFromEnv({ ...KAFKA, BLACKWELL_RETENTION: ",," })).message).toContain(
      'BLACKWELL_RETENTION ",," names no topic',
    );
  });

  it("of the api names a bad port, missing tokens and an unreadable webhook file, never echoing a token", () => {
    const missing = refusal(() =>
      apiConfigFromEnv({ ...KAFKA, BLACKWELL_API_PORT: "99999", BLACKWELL_WEBHOOKS_FILE: "/nonexistent.yaml" }),
    );
    expect(missing.message).toContain('BLACKWELL_API_PORT must be a port number 0-65535 (got "99999")');
    expect(missing.message).toContain("BLACKWELL_API_TOKENS is not set");
    expect(missing.message).toContain("BLACKWELL_WEBHOOKS_FILE");
    const malformed = refusal(() => apiConfigFromEnv({ ...KAFKA, BLACKWELL_API_TOKENS: `ops-no-client:${TOKEN}` }));
    expect(malformed.message).toContain("BLACKWELL_API_TOKENS is malformed");
    expect(malformed.message).not.toContain(TOKEN);
    const ok = apiConfigFromEnv({ ...KAFKA, BLACKWELL_API_TOKENS: `ops@*:${TOKEN}`, BLACKWELL_API_INSTANCE: "api/1" });
    expect(ok).toMatchObject({ host: "127.0.0.1", port: 8080, instance: "api_1", webhooks: null });
    expect(ok.auth.size).toBe(1);
  });

  it("of the executor names a bad rate, URL and breaker window", () => {
    const { message } = refusal(() =>
      executorConfigFromEnv({
        ...KAFKA,
        BLACKWELL_BUDGET_CODEBUILD_PER_CLIENT: "fast",
        BLACKWELL_INTEGRATION_API_URL: "ftp://x",
        BLACKWELL_GLOBAL_BREAKER_WINDOW: "soon",
        BLACKWELL_BUILD_WATCH_INTERVAL_MS: "1",
      }),
    );
    expect(message).toContain('BLACKWELL_BUDGET_CODEBUILD_PER_CLIENT rate "fast" is not of the form');
    expect(message).toContain("BLACKWELL_INTEGRATION_API_URL must be an http(s) URL");
    expect(message).toContain("BLACKWELL_GLOBAL_BREAKER_WINDOW must be a duration");
    expect(message).toContain("BLACKWELL_BUILD_WATCH_INTERVAL_MS must be a number of milliseconds >= 10");
  });

  it("names the secret file that cannot be read, and reads one that can", () => {
    const sasl = { ...KAFKA, KAFKA_SASL_MECHANISM: "SCRAM-SHA-512", KAFKA_SASL_USERNAME: "alice" };
    expect(refusal(() => kafkaConfigFromEnv({ ...sasl, KAFKA_SASL_PASSWORD_FILE: "/nonexistent/pw" })).message).toMatch(
      /^KAFKA_SASL_PASSWORD_FILE names \/nonexistent\/pw, which cannot be read/,
    );
    expect(refusal(() => kafkaConfigFromEnv({ ...KAFKA, KAFKA_SASL_MECHANISM: "kerberos" })).message).toContain(
      'KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512, got "kerberos"',
    );
    const dir = mkdtempSync(join(tmpdir(), "blackwell-config-"));
    const file = join(dir, "pw");
    writeFileSync(file, "pw-from-file\n");
    expect(kafkaConfigFromEnv({ ...sasl, KAFKA_SASL_PASSWORD_FILE: file }).sasl).toEqual({
      mechanism: "scram-sha-512",
      username: "alice",
      password: "pw-from-file",
    });
  });
});
