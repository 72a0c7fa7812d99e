import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { desiredStack } from "../support/core-spec.js";
import { providerEventValue, resourceEventValue } from "../support/events.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

interface DriftEvent {
  transition: string;
  drift_type: string;
  component: string;
  observed_json: string;
}

describe("reconciler time and state hand-over", () => {
  let h: Harness | undefined;
  let drift: Collector<DriftEvent> | undefined;
  afterEach(async () => {
    await drift?.stop();
    await h?.close();
  });

  it("notices a provider going silent with no further event, on the wall-clock tick of an idle partition", async () => {
    h = await createHarness(3);
    await h.startReconciler({ wallClockTicks: true, tickIntervalMs: 200, idleMs: 300 });
    drift = await collectTopic<DriftEvent>(h.ctx.kafka, h.ctx.names["drift-events"], "DriftEvent", h.ctx.serde);
    const now = new Date();
    const desired = desiredStack({
      client_id: "quiet",
      stack_id: "web",
      applied_at: now.toISOString(),
      staleness: {
        provider_silence_seconds: 2,
        resource_ttl_seconds: 3600,
        content_grace_seconds: 300,
        webhook_failure_threshold: 3,
      },
    });
    await h.produce("desired-state", "DesiredState", "quiet/web", [desiredToAvro(desired)]);
    await h.produce("provider-events", "ProviderEvent", "quiet", [
      providerEventValue({
        client_id: "quiet",
        environment: "prod",
        provider_name: "sanity",
        event_type: "provider.heartbeat",
        at: now,
      }),
    ]);
    const items = await drift.waitFor((i) => i.length >= 1, 20_000, "missing provider");
    expect(items.map((i) => [i.value!.transition, i.value!.component, JSON.parse(i.value!.observed_json)])).toEqual([
      ["opened", "cms", "missing"],
    ]);
  });

  it("a new instance with an empty disk restores state from the changelog and carries on without re-opening drifts", async () => {
    h = await createHarness(3);
    const base = Date.now() - 60_000;
    const desired = desiredStack({
      client_id: "handover",
      stack_id: "web",
      applied_at: new Date(base).toISOString(),
      resources: [{ name: "db", arn: "arn:aws:rds:x", ignore_paths: [] }],
      staleness: {
        provider_silence_seconds: 86_400,
        resource_ttl_seconds: 86_400,
        content_grace_seconds: 300,
        webhook_failure_threshold: 3,
      },
    });
    const unhealthy = resourceEventValue({
      client_id: "handover",
      resource_name: "db",
      status: "unhealthy",
      at: new Date(base + 1000),
    });
    const first = await h.startReconciler();
    drift = await collectTopic<DriftEvent>(h.ctx.kafka, h.ctx.names["drift-events"], "DriftEvent", h.ctx.serde);
    await h.produce("desired-state", "DesiredState", "handover/web", [desiredToAvro(desired)]);
    await h.produce("resource-events", "ResourceEvent", "handover", [unhealthy]);
    await drift.waitFor((i) => i.length >= 1, 20_000, "opened");
    await first.stop();

    await h.startReconciler({ stateDir: mkdtempSync(join(tmpdir(), "blackwell-empty-")) });
    await h.produce("resource-events", "ResourceEvent", "handover", [unhealthy]); // a redelivered duplicate
    await h.produce("resource-events", "ResourceEvent", "handover", [
      resourceEventValue({ client_id: "handover", resource_name: "db", status: "healthy", at: new Date(base + 2000) }),
    ]);
    await drift.waitFor((i) => i.length >= 2, 20_000, "resolved");
    await new Promise((r) => setTimeout(r, 1000));
    expect(drift.values().map((v) => v.transition)).toEqual(["opened", "resolved"]);
  });
});
