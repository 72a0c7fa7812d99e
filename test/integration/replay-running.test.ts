/**
 * Replay against a reconciler that is running, with wall-clock ticks: the drifts it opens on a tick (no record
 * moved its time) are reproduced by the replay at the stream time the tick moved to, read from the task journal,
 * and the comparison is one consistent cut of live while live keeps committing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { replayAndCompare } from "../../src/runtime/replay.js";
import { desiredStack } from "../support/core-spec.js";
import { providerEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";

interface DriftEvent {
  transition: string;
  component: string;
  timestamp: string;
}

describe("replay of a running reconciler", () => {
  let h: Harness | undefined;
  let drift: Collector<DriftEvent> | undefined;
  afterEach(async () => {
    await drift?.stop();
    await h?.close();
  });

  it("reproduces what its wall-clock ticks decided, exactly, while it keeps running", async () => {
    h = await createHarness(3);
    await h.startReconciler({ wallClockTicks: true, tickIntervalMs: 200, idleMs: 300 });
    drift = await collectTopic<DriftEvent>(h.ctx.kafka, h.ctx.names["drift-events"], "DriftEvent", h.ctx.serde);
    const clients = ["tick-a", "tick-b", "tick-c", "tick-d"];
    for (const [i, client] of clients.entries()) {
      const now = new Date();
      const desired = desiredStack({
        client_id: client,
        stack_id: "web",
        applied_at: now.toISOString(),
        staleness: {
          provider_silence_seconds: 2 + i,
          resource_ttl_seconds: 3600,
          content_grace_seconds: 300,
          webhook_failure_threshold: 3,
        },
      });
      await h.produce("desired-state", "DesiredState", `${client}/web`, [desiredToAvro(desired)]);
      await h.produce("provider-events", "ProviderEvent", client, [
        providerEventValue({ client_id: client, provider_name: "sanity", event_type: "provider.heartbeat", at: now }),
      ]);
    }
    // Each provider falls silent with no further record: only ticks can notice.
    const opened = await drift.waitFor(
      (items) => items.filter((i) => i.value?.transition === "opened").length >= clients.length,
      60_000,
      "a missing provider per client, opened on ticks",
    );
    expect(opened.filter((i) => i.value?.transition === "opened").map((i) => i.value!.component)).toEqual(
      clients.map(() => "cms"),
    );

    const replay = await replayAndCompare(h.ctx, { applicationId: `${h.config.topicPrefix}reconciler` });
    expect(replay.mode).toBe("journal");
    expect(replay.exactCut).toBe(true);
    expect(replay.journal.entries).toBeGreaterThan(0);
    expect(replay.sequences.find((s) => s.topic === "drift-events")?.replayed).toBeGreaterThanOrEqual(clients.length);
    expect(replay.equal, JSON.stringify({ sequences: replay.sequences, stacks: replay.stacks.differences })).toBe(true);

    // A reconciler the journal does not know is a mistake to name, not an empty replay to compare.
    await expect(replayAndCompare(h.ctx, { applicationId: "nobody" })).rejects.toThrow(
      `no reconciler nobody (it has ${h.config.topicPrefix}reconciler)`,
    );

    // Without the journal, the ticks are not there: nothing moves stream time past the silence windows.
    const reordered = await replayAndCompare(h.ctx, {
      applicationId: `${h.config.topicPrefix}reconciler`,
      reorder: true,
    });
    expect(reordered.sequences.find((s) => s.topic === "drift-events")?.replayed).toBe(0);
    expect(reordered.equal).toBe(false);
  }, 300_000);
});
