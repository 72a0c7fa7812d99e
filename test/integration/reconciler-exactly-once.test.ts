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
interface StateRecord {
  stack_id: string;
  client_id: string;
  status: string;
}

const CLIENTS = Array.from({ length: 30 }, (_, i) => `client-${String(i).padStart(3, "0")}`);
const FLIPS = 40; // per client: unhealthy, healthy, unhealthy, ... -> one transition each

describe("exactly once across a SIGKILL of the reconciler process", () => {
  let h: Harness;
  let drift: Collector<DriftEvent>;
  let states: Collector<StateRecord>;
  const children: Child[] = [];

  beforeAll(async () => {
    h = await createHarness(3);
    drift = await collectTopic<DriftEvent>(h.ctx.kafka, h.ctx.names["drift-events"], "DriftEvent", h.ctx.serde);
    states = await collectTopic<StateRecord>(h.ctx.kafka, h.ctx.names["stack-state"], "StateRecord", h.ctx.serde);
  });
  afterAll(async () => {
    for (const c of children) await c.kill("SIGKILL");
    await drift?.stop();
    await states?.stop();
    await h?.close();
  });

  const startReconcilerProcess = () => {
    const child = startProcess("processors/reconciler/main.ts", {
      KAFKA_BROKERS: h.config.brokers.join(","),
      SCHEMA_REGISTRY_URL: h.config.registryUrl,
      BLACKWELL_TOPIC_PREFIX: h.config.topicPrefix,
      BLACKWELL_PARTITIONS: "3",
      BLACKWELL_APPLICATION_ID: `${h.config.topicPrefix}reconciler`,
      BLACKWELL_STATE_DIR: h.stateDir,
      BLACKWELL_WALL_CLOCK_TICKS: "0",
      BLACKWELL_SESSION_TIMEOUT_MS: "6000",
      LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? "warn",
    });
    children.push(child);
    return child;
  };

  it("emits every drift transition exactly once and ends where a fresh replay ends", async () => {
    const base = Date.now() - 3_600_000;
    for (const client of CLIENTS) {
      await h.produce("desired-state", "DesiredState", `${client}/web`, [desiredToAvro(dbStack(client, base))]);
    }
    const produceFlips = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        for (const client of CLIENTS)
          await h.produce("resource-events", "ResourceEvent", client, [dbFlip(client, i, base)]);
      }
    };

    let first = startReconcilerProcess();
    await states.waitFor((items) => items.length >= CLIENTS.length, 60_000, "every stack applied");
    await produceFlips(0, 15);
    await drift.waitFor((items) => items.length >= 200, 60_000, "first transitions");
    // Kill it while records are streaming in and being processed.
    const streaming = produceFlips(15, 30);
    await new Promise((r) => setTimeout(r, 300));
    await first.kill("SIGKILL");
    await streaming;
    first = startReconcilerProcess();
    await produceFlips(30, FLIPS);
    const expected = CLIENTS.length * FLIPS;
    await drift.waitFor((items) => items.length >= expected, 120_000, `${expected} transitions`);
    await states.waitFor(
      (items) => {
        const last = new Map(items.map((i) => [i.key, i.value?.status]));
        return CLIENTS.every((c) => last.get(`${c}/web`) === "healthy");
      },
      60_000,
      "every stack healthy",
    );
    await new Promise((r) => setTimeout(r, 2000)); // would-be duplicates have time to show up

    const ids = drift.values().map((v) => v.event_id);
    expect(ids.length).toBe(expected);
    expect(new Set(ids).size).toBe(expected);
    const perDrift = new Map<string, string[]>();
    for (const v of drift.values()) perDrift.set(v.drift_id, [...(perDrift.get(v.drift_id) ?? []), v.transition]);
    expect(perDrift.size).toBe(CLIENTS.length);
    for (const seq of perDrift.values())
      expect(seq).toEqual(Array.from({ length: FLIPS }, (_, i) => (i % 2 === 0 ? "opened" : "resolved")));

    await first.kill("SIGTERM");
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
    expect(replay.equal).toBe(true);
  }, 300_000);
});
