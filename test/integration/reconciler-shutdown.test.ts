import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { desiredStack } from "../support/core-spec.js";
import { startProcess, type Child } from "../support/child-process.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

describe("graceful shutdown of the reconciler process", () => {
  let h: Harness;
  let states: Collector<{ stack_id: string }>;
  let child: Child | undefined;
  beforeAll(async () => {
    h = await createHarness(3);
    states = await collectTopic(h.ctx.kafka, h.ctx.names["stack-state"], "StateRecord", h.ctx.serde);
  });
  afterAll(async () => {
    await child?.kill("SIGKILL");
    await states?.stop();
    await h?.close();
  });

  it("on SIGTERM finishes, leaves the consumer group and exits 0 within a bounded time", async () => {
    const groupId = `${h.config.topicPrefix}reconciler`;
    child = startProcess("processors/reconciler/main.ts", {
      KAFKA_BROKERS: h.config.brokers.join(","),
      SCHEMA_REGISTRY_URL: h.config.registryUrl,
      BLACKWELL_TOPIC_PREFIX: h.config.topicPrefix,
      BLACKWELL_PARTITIONS: "3",
      BLACKWELL_APPLICATION_ID: groupId,
      BLACKWELL_STATE_DIR: h.stateDir,
      LOG_LEVEL: "warn",
    });
    await h.produce("desired-state", "DesiredState", "calm/web", [
      desiredToAvro(desiredStack({ client_id: "calm", stack_id: "web", applied_at: new Date().toISOString() })),
    ]);
    await states.waitFor((items) => items.length >= 1, 60_000, "the reconciler working");

    const started = Date.now();
    const code = await child.kill("SIGTERM");
    expect(code, child.output()).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await h.ctx.admin.describeGroup(groupId)).members).toBe(0);
  });
});
