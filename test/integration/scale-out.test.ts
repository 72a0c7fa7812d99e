import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { replayAndCompare } from "../../src/runtime/replay.js";
import { dbFlip, dbStack } from "../support/flipping-db.js";
import { startProcess, type Child } from "../support/child-process.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

interface DriftEvent {
  event_id: string;
  drift_id: string;
  transition: string;
}

const CLIENTS = Array.from({ length: 40 }, (_, i) => `tenant-${String(i).padStart(3, "0")}`);
const FLIPS = 30;

describe("scale-out: one, two, then three reconciler instances sharing partitions, the first SIGKILLed mid-stream", () => {
  let h: Harness;
  let drift: Collector<DriftEvent>;
  const children: Child[] = [];

  beforeAll(async () => {
    h = await createHarness(6);
    drift = await collectTopic<DriftEvent>(h.ctx.kafka, h.ctx.names["drift-events"], "DriftEvent", h.ctx.serde);
  });
  afterAll(async () => {
    for (const c of children) await c.kill("SIGKILL");
    await drift?.stop();
    await h?.close();
  });

  /** Each instance has its own disk: what it gains it must restore from the changelog. */
  const startInstance = () => {
    const child = startProcess("processors/reconciler/main.ts", {
      KAFKA_BROKERS: h.config.brokers.join(","),
      SCHEMA_REGISTRY_URL: h.config.registryUrl,
      BLACKWELL_TOPIC_PREFIX: h.config.topicPrefix,
      BLACKWELL_PARTITIONS: "6",
      BLACKWELL_APPLICATION_ID: `${h.config.topicPrefix}reconciler`,
      BLACKWELL_STATE_DIR: mkdtempSync(join(tmpdir(), "blackwell-instance-")),
      BLACKWELL_WALL_CLOCK_TICKS: "0",
      BLACKWELL_SESSION_TIMEOUT_MS: "6000",
      LOG_LEVEL: "info",
    });
    children.push(child);
    return child;
  };
  const restoreLines = (c: Child) =>
    c
      .output()
      .split("\n")
      .filter((l) => l.includes('"msg":"tasks ready"'))
      .map((l) => JSON.parse(l) as { gained: number[]; restoreMs: number; tasks: number[] });

  it("hands partitions over with their state: every transition exactly once, and the end equals a single-instance replay", async () => {
    const base = Date.now() - 3_600_000;
    for (const client of CLIENTS) {
      await h.produce("desired-state", "DesiredState", `${client}/web`, [
        desiredToAvro(dbStack(client, base, { cms: null, ecommerce: null, ssg: null })),
      ]);
    }
    const flips = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        for (const client of CLIENTS)
          await h.produce("resource-events", "ResourceEvent", client, [dbFlip(client, i, base)]);
      }
    };

    const first = startInstance();
    await flips(0, 10);
    await drift.waitFor((i) => i.length >= CLIENTS.length * 5, 60_000, "the first instance at work");
    const second = startInstance();
    await flips(10, 15); // the group rebalances while these stream in
    const deadline = Date.now() + 60_000;
    while (restoreLines(second).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(restoreLines(second).length, second.output()).toBeGreaterThan(0);
    const third = startInstance();
    await flips(15, 20);
    while (restoreLines(third).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(restoreLines(third).length, third.output()).toBeGreaterThan(0);
    const killing = flips(20, 25);
    await new Promise((r) => setTimeout(r, 200));
    await first.kill("SIGKILL");
    await killing;
    await flips(25, FLIPS);
    const expected = CLIENTS.length * FLIPS;
    // On a timeout: the survivors' warnings and hand-overs, transitions per drift, and how far the group got.
    await drift
      .waitFor((i) => i.length >= expected, 120_000, `${expected} transitions`)
      .catch(async (err: unknown) => {
        for (const c of [second, third])
          console.log(
            c
              .output()
              .split("\n")
              .filter((l) => /"level":(40|50|60)|tasks ready|revocations/.test(l))
              .join("\n"),
          );
        const per = new Map<string, number>();
        for (const v of drift.values()) per.set(v.drift_id, (per.get(v.drift_id) ?? 0) + 1);
        console.log(JSON.stringify([...per.values()].sort()));
        await h.ctx.admin
          .committedOffsets(`${h.config.topicPrefix}reconciler`, h.ctx.names["resource-events"])
          .then(async (c: Map<number, bigint>) => {
            const ends = await h.ctx.admin.endOffsets(h.ctx.names["resource-events"]);
            console.log(
              "committed",
              JSON.stringify([...c].map(([p, o]) => [p, String(o)])),
              "ends",
              JSON.stringify(ends.map((e) => [e.partition, String(e.high)])),
            );
          });

        throw err;
      });
    await new Promise((r) => setTimeout(r, 2000));

    const ids = drift.values().map((v) => v.event_id);
    expect(ids.length).toBe(expected);
    expect(new Set(ids).size).toBe(expected);
    const perDrift = new Map<string, string[]>();
    for (const v of drift.values()) perDrift.set(v.drift_id, [...(perDrift.get(v.drift_id) ?? []), v.transition]);
    for (const seq of perDrift.values())
      expect(seq).toEqual(Array.from({ length: FLIPS }, (_, i) => (i % 2 === 0 ? "opened" : "resolved")));
    // After the kill the two survivors own all six partitions between them, each restored from the changelog.
    // The newest assignment line of each survivor (gains say "tasks ready", revocations alone say "assignment unchanged").
    const last = (c: Child) =>
      c
        .output()
        .split("\n")
        .filter(
          (l) => l.includes('"msg":"tasks ready"') || l.includes('"msg":"assignment unchanged apart from revocations"'),
        )
        .map((l) => JSON.parse(l) as { tasks: number[] })
        .at(-1);
    const owned = [...(last(second)?.tasks ?? []), ...(last(third)?.tasks ?? [])].sort();
    expect(owned).toEqual([0, 1, 2, 3, 4, 5]);
    for (const c of [second, third])
      console.log(
        `[scale-out] hand-overs: ${JSON.stringify(restoreLines(c).map((l) => ({ gained: l.gained, restoreMs: l.restoreMs })))}`,
      );

    await second.kill("SIGTERM");
    await third.kill("SIGTERM");
    const replay = await replayAndCompare(h.ctx);
    expect(replay.stacks.differences).toEqual([]);
    // Followed the live journal: the very order live took, so every sequence users read is the same.
    expect(replay.mode).toBe("journal");
    expect(replay.journal.entries).toBeGreaterThan(0);
    expect(
      replay.sequences.find((s) => s.topic === "drift-events"),
      JSON.stringify(replay.sequences),
    ).toMatchObject({ live: expected, replayed: expected, equal: true });
    expect(replay.sequences.filter((s) => !s.equal)).toEqual([]);
  }, 300_000);
});
