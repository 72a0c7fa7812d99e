import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { startLocalCluster, type LocalCluster } from "../../src/infra/local-cluster.js";
import { createAppContext, type AppContext } from "../../src/runtime/app-context.js";
import { ReconcilerRunner } from "../../src/runtime/reconciler-runner.js";
import { desiredStack } from "../support/core-spec.js";
import { resourceEventValue } from "../support/events.js";
import { collectTopic } from "../support/topic-collector.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CLIENTS = Array.from({ length: 12 }, (_, i) => `replicated-${i}`);
const FLIPS = 20;
const SENDS = 300;

describe("a three-broker cluster (replication 3, min.insync 2) losing a broker", () => {
  const dir = mkdtempSync(join(tmpdir(), "blackwell-cluster-"));
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  let cluster: LocalCluster;
  let ctx: AppContext;

  beforeAll(async () => {
    cluster = await startLocalCluster({ root: ROOT, dir });
    ctx = await createAppContext(
      {
        brokers: cluster.brokers,
        registryUrl: inject("registryUrl"),
        topicPrefix: "cluster.",
        partitions: 3,
        replicationFactor: 3,
        clientId: "cluster-test",
      },
      log,
    );
  }, 180_000);
  afterAll(async () => {
    await ctx?.close().catch(() => {});
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps reconciling exactly once after one broker is killed", async () => {
    const [drifts] = await ctx.admin.describeTopics([ctx.names["drift-events"]]);
    expect(drifts!.replicas.every((n) => n === 3)).toBe(true);
    const stateDir = mkdtempSync(join(tmpdir(), "blackwell-cluster-state-"));
    const runner = new ReconcilerRunner({
      kafka: ctx.kafka,
      admin: ctx.admin,
      serde: ctx.serde,
      names: ctx.names,
      partitions: 3,
      applicationId: "cluster-reconciler",
      stateDir,
      log,
      wallClockTicks: false,
    });
    const producer = await ctx.kafka.producer();
    const drift = await collectTopic<{ event_id: string; drift_id: string; transition: string }>(
      ctx.kafka,
      ctx.names["drift-events"],
      "DriftEvent",
      ctx.serde,
    );
    try {
      await runner.start();
      const base = Date.now() - 3_600_000;
      const topicD = ctx.names["desired-state"];
      await producer.send(
        CLIENTS.map((c) => ({
          topic: topicD,
          key: `${c}/web`,
          value: ctx.serde.encode(
            topicD,
            "DesiredState",
            desiredToAvro(
              desiredStack({
                client_id: c,
                stack_id: "web",
                applied_at: new Date(base).toISOString(),
                providers: { cms: null, ecommerce: null, ssg: null },
                resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:c", ignore_paths: [] }],
                staleness: {
                  provider_silence_seconds: 86_400,
                  resource_ttl_seconds: 86_400,
                  content_grace_seconds: 300,
                  webhook_failure_threshold: 3,
                },
              }),
            ),
          ),
        })),
      );
      // Flips sent before the reconciler has a stack's desired state are observed but judged only once it arrives
      // (cross-topic arrival order): wait for every stack, as the other reconciler tests do; the kill is the subject here.
      const states = await collectTopic<{ status: string }>(
        ctx.kafka,
        ctx.names["stack-state"],
        "StateRecord",
        ctx.serde,
      );
      await states
        .waitFor((i) => new Set(i.map((s) => s.key)).size >= CLIENTS.length, 60_000, "every stack applied")
        .finally(() => states.stop());
      const topicR = ctx.names["resource-events"];
      const flips = async (from: number, to: number) => {
        for (let i = from; i < to; i++) {
          await producer.send(
            CLIENTS.map((c) => ({
              topic: topicR,
              key: c,
              value: ctx.serde.encode(
                topicR,
                "ResourceEvent",
                resourceEventValue({
                  client_id: c,
                  resource_name: "db",
                  status: i % 2 === 0 ? "unhealthy" : "healthy",
                  at: new Date(base + 1000 * (i + 1)),
                }),
              ),
            })),
          );
        }
      };
      await flips(0, FLIPS / 2);
      await drift.waitFor((i) => i.length >= CLIENTS.length * (FLIPS / 2), 60_000, "transitions before the kill");
      await cluster.kill(2);
      const killedAt = Date.now();
      await flips(FLIPS / 2, FLIPS);
      // The watching consumer itself may see records twice around the failover (its offsets commit every few seconds):
      // wait on distinct ids, then judge the topic with a fresh read_committed read.
      const distinct = () => new Set(drift.values().map((v) => v.event_id)).size;
      await drift.waitFor(() => distinct() >= CLIENTS.length * FLIPS, 120_000, "transitions after the kill");
      console.log(
        `[cluster] all transitions after losing broker 2 within ${((Date.now() - killedAt) / 1000).toFixed(1)} s`,
      );
      await new Promise((r) => setTimeout(r, 1500));
      const stored = await collectTopic<{ event_id: string; drift_id: string; transition: string }>(
        ctx.kafka,
        ctx.names["drift-events"],
        "DriftEvent",
        ctx.serde,
      );
      const ends = await ctx.admin.endOffsets(ctx.names["drift-events"]);
      const total = ends.reduce((n, o) => n + Number(o.high), 0);
      await stored.waitFor((i) => i.length >= CLIENTS.length * FLIPS, 60_000, "the fresh read");
      await new Promise((r) => setTimeout(r, 1000));
      await stored.stop();
      expect(total).toBeGreaterThanOrEqual(CLIENTS.length * FLIPS); // transaction markers take offsets too
      const ids = stored.values().map((v) => v.event_id);
      expect(ids).toHaveLength(CLIENTS.length * FLIPS);
      expect(new Set(ids).size).toBe(ids.length);
      const perDrift = new Map<string, string[]>();
      for (const v of stored.values()) perDrift.set(v.drift_id, [...(perDrift.get(v.drift_id) ?? []), v.transition]);
      for (const seq of perDrift.values())
        expect(seq).toEqual(Array.from({ length: FLIPS }, (_, i) => (i % 2 === 0 ? "opened" : "resolved")));
    } finally {
      await drift.stop().catch(() => {});
      await producer.disconnect().catch(() => {});
      await runner.stop();
      rmSync(stateDir, { recursive: true, force: true });
      await cluster.restart(2);
    }
  }, 300_000);

  // KafkaJS 2.2.4 as published resolved such a send without the moved partition's messages (one of 300 lost per
  // failover); patches/kafkajs+2.2.4.patch keeps acknowledgements per partition instead of per broker.
  it("loses no acknowledged send of an idempotent producer while a partition leader dies", async () => {
    const kafka = new Kafka({ clientId: "producer-failover", brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    const topic = "cluster.failover-sends";
    await ctx.admin.createTopics([{ name: topic, partitions: 3, replicationFactor: 3, config: {} }]);
    await ctx.admin.waitForLeaders([topic]);
    const victim = (await ctx.admin.describeTopics([topic]))[0]!.leaders[1]!;
    const producer = kafka.producer({ idempotent: true });
    const consumer = kafka.consumer({ groupId: "failover-reader" });
    await producer.connect();
    try {
      for (let i = 0; i < SENDS; i++) {
        if (i === SENDS / 3) await cluster.kill(victim);
        await producer.send({
          topic,
          acks: -1,
          messages: [0, 1, 2].map((partition) => ({ partition, value: `${i}` })),
        });
      }
      const seen = new Map<number, string[]>([
        [0, []],
        [1, []],
        [2, []],
      ]);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => void seen.get(partition)!.push(message.value!.toString()),
      });
      const read = () => [...seen.values()].reduce((n, v) => n + v.length, 0);
      const deadline = Date.now() + 60_000;
      while (read() < 3 * SENDS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      await new Promise((r) => setTimeout(r, 500));
      console.log(
        `[cluster] producer: killed broker ${victim} (leader of partition 1) after ${SENDS / 3} of ${SENDS} sends; read back ${read()} of ${3 * SENDS}`,
      );
      const expected = Array.from({ length: SENDS }, (_, i) => `${i}`);
      for (const partition of [0, 1, 2]) expect(seen.get(partition), `partition ${partition}`).toEqual(expected);
    } finally {
      await consumer.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
      await cluster.restart(victim);
    }
  }, 300_000);
});
