import parsePrometheus from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { startProcess, type Child } from "../support/child-process.js";
import { desiredStack } from "../support/core-spec.js";
import { resourceEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

describe("ops endpoints of a reconciler process (BLACKWELL_OPS_PORT)", () => {
  let h: Harness;
  let child: Child;

  beforeAll(async () => {
    h = await createHarness(3);
  });
  afterAll(async () => {
    await child?.kill("SIGKILL");
    await h?.close();
  });

  it("answers health, becomes ready once its stores are restored, and exports the spec's metrics and its consumer lag", async () => {
    const group = `${h.config.topicPrefix}reconciler`;
    child = startProcess("processors/reconciler/main.ts", {
      KAFKA_BROKERS: h.config.brokers.join(","),
      SCHEMA_REGISTRY_URL: h.config.registryUrl,
      BLACKWELL_TOPIC_PREFIX: h.config.topicPrefix,
      BLACKWELL_PARTITIONS: "3",
      BLACKWELL_APPLICATION_ID: group,
      BLACKWELL_STATE_DIR: h.stateDir,
      BLACKWELL_OPS_PORT: "0",
      LOG_LEVEL: "warn",
    });
    const deadline = Date.now() + 60_000;
    let url: string | undefined;
    while (!(url = /ops endpoints on (http:\/\/\S+)/.exec(child.output())?.[1]) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(url, child.output()).toBeDefined();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    while ((await fetch(`${url}/readyz`)).status !== 200 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    await h.produce("desired-state", "DesiredState", "ops/web", [
      desiredToAvro(
        desiredStack({
          client_id: "ops",
          stack_id: "web",
          applied_at: new Date().toISOString(),
          resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:o", ignore_paths: [] }],
        }),
      ),
    ]);
    await h.produce("resource-events", "ResourceEvent", "ops", [
      resourceEventValue({ client_id: "ops", environment: "prod", resource_name: "db", status: "unhealthy" }),
    ]);
    let families: ReturnType<typeof parsePrometheus> = [];
    const value = (name: string, labels: Record<string, string> = {}) =>
      families
        .find((f) => f.name === name)
        ?.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
        .reduce((n, m) => n + Number(m.value ?? m.count ?? 0), 0) ?? 0;
    while (Date.now() < deadline) {
      families = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
      if (value("drift_detected_total", { drift_type: "resource", severity: "high" }) >= 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(value("drift_detected_total", { drift_type: "resource", severity: "high" })).toBe(1);
    // The desired state and the event share a partition: fetched together, they are taken in one pass, else in two.
    expect(value("reconciliation_success_total")).toBeGreaterThanOrEqual(1);
    // The one client it judged is held decoded, within the state cache's budget.
    expect(value("reconciler_state_cache_clients")).toBe(1);
    expect(value("reconciler_state_cache_bytes")).toBeGreaterThan(0);
    // The latency breakdown: every record taken has its fetch and queue wait, every pass its process and commit time.
    // (read from the text: the parser drops a labelled histogram's counts)
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const phase of ["fetch", "queue", "process", "commit"]) {
      const count = new RegExp(`^reconciler_latency_phase_seconds_count\\{phase="${phase}"\\} (\\d+)$`, "m").exec(text);
      expect(Number(count?.[1]), phase).toBeGreaterThan(0);
    }
    expect(
      families
        .find((f) => f.name === "kafka_consumer_group_lag")!
        .metrics.some((m) => m.labels?.group === group && m.labels?.topic === h.ctx.names["resource-events"]),
    ).toBe(true);
    // Committed offsets reach the coordinator a moment after the pass: the lag settles at zero.
    while (value("kafka_consumer_group_lag", { group }) !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      families = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
    }
    expect(value("kafka_consumer_group_lag", { group })).toBe(0);
  });
});
