import { afterEach, describe, expect, it } from "vitest";
import { partitionForClient } from "../../src/adapters/kafka/partitioner.js";
import type { PassSummary } from "../../src/runtime/reconciler-task.js";
import { providerEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

const CLIENT = "initech";
const RECORDS = 12;
const INTERVAL_MS = 8_000;

describe("commit interval (BLACKWELL_COMMIT_INTERVAL, as commit.interval.ms)", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
  });

  it("holds records that arrive within the interval for one transaction, and processes every one", async () => {
    h = await createHarness(3);
    const passes: Array<PassSummary & { at: number }> = [];
    await h.startReconciler({
      commitIntervalMs: INTERVAL_MS,
      onCommitted: (s) => passes.push({ ...s, at: Date.now() }),
    });
    const partition = partitionForClient(CLIENT, 3);
    const mine = () => passes.filter((p) => p.partition === partition && p.records > 0);
    const heartbeat = () =>
      h!.produce("provider-events", "ProviderEvent", CLIENT, [
        providerEventValue({ client_id: CLIENT, provider_name: "sanity", event_type: "provider.heartbeat" }),
      ]);
    const waitFor = async (records: number) => {
      const deadline = Date.now() + 60_000;
      while (mine().reduce((n, p) => n + p.records, 0) < records && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(mine().reduce((n, p) => n + p.records, 0)).toBe(records);
    };
    // A first record: its transaction starts the interval.
    await heartbeat();
    await waitFor(1);
    const first = mine()[0]!;
    // Then records one at a time, each its own fetch: without an interval each would be a transaction of its own.
    for (let i = 0; i < RECORDS; i++) {
      await heartbeat();
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor(1 + RECORDS);
    const later = mine().slice(1);
    expect(later.map((p) => p.records)).toEqual([RECORDS]);
    // And it did not start before the interval was up (it can only be later on a loaded machine).
    expect(later[0]!.at - first.at + first.durationMs).toBeGreaterThanOrEqual(INTERVAL_MS);
  });
});
