import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { desiredToAvro, toInput } from "../../src/adapters/kafka/records.js";
import { partitionForClient } from "../../src/adapters/kafka/partitioner.js";
import { TaskPass } from "../../src/runtime/task-pass.js";
import type { AvroChangelogEntry } from "../../src/adapters/store/state-codec.js";
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

/** A stack of `client` whose db is watched, applied a minute ago, and its db reported unhealthy a second later. */
function dbStack(client: string) {
  const base = Date.now() - 60_000;
  const desired = desiredStack({
    client_id: client,
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
    client_id: client,
    resource_name: "db",
    status: "unhealthy",
    at: new Date(base + 1000),
  });
  return { base, desired, unhealthy };
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
    const { base, desired, unhealthy } = dbStack("handover");
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
  it("restores a changelog written before the state was split (whole clients as JSON), then writes the new form", async () => {
    h = await createHarness(3);
    const { base, desired, unhealthy } = dbStack("upgraded");
    // The state an earlier version kept: the db drift open. Its changelog row was the client's state as JSON.
    const pass = new TaskPass({ get: () => undefined, dueBetween: () => [], nextDeadlineAfter: () => null }, 0);
    for (const [role, key, value, at] of [
      ["desired-state", "upgraded/web", desiredToAvro(desired), base],
      ["resource-events", "upgraded", unhealthy, base + 1000],
    ] as const) {
      pass.take(at);
      pass.applyRecord(
        toInput(role, key, value as never, at),
        { role, partition: 0, offset: "0", timestamp: at },
        false,
      );
    }
    const legacy = pass.clients.get("upgraded")!;
    expect(Object.keys(legacy.stacks.web!.drifts)).toHaveLength(1);
    const { names, kafka } = h.ctx;
    const producer = await kafka.producer();
    await producer.send([
      {
        topic: names.changelog,
        key: "upgraded",
        partition: partitionForClient("upgraded", 3),
        value: Buffer.from(JSON.stringify({ v: 1, deadline: null, stream_time: base + 1000, state: legacy })),
      },
    ]);
    await producer.disconnect();
    // (The inputs that built it are not needed: the row alone is the state.)
    drift = await collectTopic<DriftEvent>(kafka, names["drift-events"], "DriftEvent", h.ctx.serde);
    // Raw: the legacy JSON row is not Avro.
    const changelog = await collectTopic<Buffer>(kafka, names.changelog, "raw");
    const entries = (key: string) =>
      Promise.all(
        changelog.items
          .filter((i) => i.key === key && i.value !== null && i.value[0] === 0)
          .map((i) => h!.ctx.serde.decode<AvroChangelogEntry>("ChangelogEntry", i.value)),
      );
    try {
      const second = await h.startReconciler({ stateDir: mkdtempSync(join(tmpdir(), "blackwell-empty-")) });
      await h.produce("resource-events", "ResourceEvent", "upgraded", [
        resourceEventValue({
          client_id: "upgraded",
          resource_name: "db",
          status: "healthy",
          at: new Date(base + 2000),
        }),
      ]);
      // The drift the legacy row held open is the one that resolves: nothing opened again.
      await drift.waitFor((i) => i.length >= 1, 30_000, "the restored drift resolved");
      expect(drift.values().map((v) => v.transition)).toEqual(["resolved"]);
      // The next commit wrote the client in the new form: its runtime entry, and the stack's desired state.
      await changelog.waitFor(
        (items) => items.some((i) => i.key === "upgraded/web"),
        30_000,
        "the stack's desired state in the changelog",
      );
      expect((await entries("upgraded/web")).map((e) => e.desired?.desired_hash)).toEqual([desired.desired_hash]);
      expect((await entries("upgraded")).map((e) => e.client?.client_id)).toContain("upgraded");
      await second.stop();

      // And that form restores: a third instance with an empty disk sees the resolved state and opens the drift anew.
      await h.startReconciler({ stateDir: mkdtempSync(join(tmpdir(), "blackwell-empty-")) });
      await h.produce("resource-events", "ResourceEvent", "upgraded", [
        resourceEventValue({
          client_id: "upgraded",
          resource_name: "db",
          status: "unhealthy",
          at: new Date(base + 3000),
        }),
      ]);
      await drift.waitFor((i) => i.length >= 2, 30_000, "the drift opened again");
      expect(drift.values().map((v) => v.transition)).toEqual(["resolved", "opened"]);
    } finally {
      await changelog.stop();
    }
  });
});
