/**
 * Runs a reconciler in the test process against the run's real broker, under
 * the test's own topic prefix, with a temporary state directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { SchemaName } from "../../src/adapters/kafka/topics.js";
import { createAppContext, type AppContext } from "../../src/runtime/app-context.js";
import { ReconcilerRunner, type ReconcilerOptions } from "../../src/runtime/reconciler-runner.js";
import type { KafkaConfig } from "../../src/config/config.js";
import { testConfig } from "./kafka-env.js";

export interface Harness {
  ctx: AppContext;
  config: KafkaConfig;
  stateDir: string;
  startReconciler: (overrides?: Partial<ReconcilerOptions>) => Promise<ReconcilerRunner>;
  /**
   * Sends `values` under `key`, in order. The record timestamp is the producer's clock unless `options.timestamp`
   * gives one (an external producer's record time, taken as given by the broker: CreateTime).
   */
  produce: (
    topic: keyof AppContext["names"],
    schema: SchemaName,
    key: string,
    values: unknown[],
    options?: { timestamp?: number },
  ) => Promise<void>;
  close: () => Promise<void>;
}

export async function createHarness(partitions = 3): Promise<Harness> {
  const config = testConfig(partitions);
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const ctx = await createAppContext(config, log);
  const stateDir = mkdtempSync(join(tmpdir(), "blackwell-test-state-"));
  const runners: ReconcilerRunner[] = [];
  const producer = await ctx.kafka.producer();
  return {
    ctx,
    config,
    stateDir,
    startReconciler: async (overrides = {}) => {
      const runner = new ReconcilerRunner({
        kafka: ctx.kafka,
        admin: ctx.admin,
        serde: ctx.serde,
        names: ctx.names,
        partitions,
        applicationId: `${config.topicPrefix}reconciler`,
        stateDir,
        log,
        wallClockTicks: false,
        ...overrides,
      });
      await runner.start();
      runners.push(runner);
      return runner;
    },
    produce: async (topic, schema, key, values, options = {}) => {
      const name = ctx.names[topic];
      const timestamp = options.timestamp !== undefined ? { timestamp: options.timestamp } : {};
      await producer.send(
        values.map((v) => ({ topic: name, key, value: ctx.serde.encode(name, schema, v), ...timestamp })),
      );
    },
    close: async () => {
      for (const r of runners) await r.stop();
      await producer.disconnect();
      await ctx.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
