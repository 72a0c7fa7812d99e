import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partitionForClient } from "../../src/adapters/kafka/partitioner.js";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import type { PassSummary } from "../../src/runtime/reconciler-task.js";
import { desiredStack } from "../support/core-spec.js";
import { commandValue, resourceEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";

const CLIENTS = Array.from({ length: 60 }, (_, i) => `poisoned-${i}`);
const GOOD_PER_CLIENT = 60;

describe("poison and bad input at volume", () => {
  let h: Harness;
  let dlq: Collector<Buffer>;
  let drift: Collector<{ client_id: string }>;
  const summaries: PassSummary[] = [];

  beforeAll(async () => {
    h = await createHarness(6);
    await h.startReconciler({ onCommitted: (s) => summaries.push(s) });
    dlq = await collectTopic<Buffer>(h.ctx.kafka, h.ctx.names.dlq, "raw");
    drift = await collectTopic(h.ctx.kafka, h.ctx.names["drift-events"], "DriftEvent", h.ctx.serde);
  });
  afterAll(async () => {
    await dlq?.stop();
    await drift?.stop();
    await h?.close();
  });

  it("never stalls a partition: every bad record is in the DLQ with its reason, and processed + DLQ = produced", async () => {
    const { names, serde } = h.ctx;
    const base = Date.now() - 3_600_000;
    // Record times are the times the records claim (as an external producer stamping observation times would):
    // stream time is the record time, and a report claiming to be an hour older than it would be stale.
    for (const c of CLIENTS) {
      await h.produce(
        "desired-state",
        "DesiredState",
        `${c}/web`,
        [
          desiredToAvro(
            desiredStack({
              client_id: c,
              stack_id: "web",
              applied_at: new Date(base).toISOString(),
              providers: { cms: null, ecommerce: null, ssg: null },
              resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:p", ignore_paths: [] }],
            }),
          ),
        ],
        { timestamp: base },
      );
    }
    // The desired states are processed before the volume starts (counted apart from it).
    const settled = Date.now() + 60_000;
    while (summaries.reduce((n, s) => n + s.records + s.dlq, 0) < CLIENTS.length && Date.now() < settled)
      await new Promise((r) => setTimeout(r, 100));
    const before = summaries.reduce((n, s) => n + s.records + s.dlq, 0);
    expect(before).toBe(CLIENTS.length);
    const producer = await h.ctx.kafka.producer();
    const topic = names["resource-events"];
    type Msg = { key: string | null; value: Buffer; partition: number; timestamp?: number; bad?: string };
    const messages: Msg[] = [];
    let seq = 0;
    for (let i = 0; i < GOOD_PER_CLIENT; i++) {
      for (const c of CLIENTS) {
        const p = partitionForClient(c, 6);
        messages.push({
          key: c,
          partition: p,
          timestamp: base + 1000 * (i + 1),
          value: serde.encode(
            topic,
            "ResourceEvent",
            resourceEventValue({
              client_id: c,
              resource_name: "db",
              status: i % 2 === 0 ? "unhealthy" : "healthy",
              at: new Date(base + 1000 * (i + 1)),
            }),
          ),
        });
        // Every tenth slot, something bad rides along on the same partition.
        if (++seq % 10 === 0) {
          const kind = (seq / 10) % 4;
          if (kind === 0)
            messages.push({
              key: c,
              partition: p,
              value: Buffer.from(`garbage ${seq}`),
              bad: "BLACKWELL_ERR_UNDECODABLE",
            });
          if (kind === 1)
            messages.push({
              key: c,
              partition: p,
              value: serde.encode(names.commands, "Command", commandValue({ client_id: c, command: "pause" })),
              bad: "BLACKWELL_ERR_INVALID_RECORD",
            });
          if (kind === 2)
            messages.push({
              key: c,
              partition: p,
              value: Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x01]), Buffer.alloc(300 * 1024, 7)]),
              bad: "BLACKWELL_ERR_UNKNOWN_SCHEMA",
            });
          if (kind === 3)
            messages.push({
              key: `nobody-${seq}`,
              partition: p,
              value: serde.encode(
                topic,
                "ResourceEvent",
                resourceEventValue({ client_id: `nobody-${seq}`, resource_name: "db", status: "deleted" }),
              ),
              bad: "BLACKWELL_ERR_INVALID_RECORD",
            });
        }
      }
    }
    // The unknown client's records are keyed right but land on a partition its key does not hash to: refused, not folded.
    for (const m of messages.filter((x) => x.key?.startsWith("nobody-")))
      if (partitionForClient(m.key!, 6) === m.partition) m.partition = (m.partition + 1) % 6;
    for (let i = 0; i < messages.length; i += 200)
      await producer.send(
        messages
          .slice(i, i + 200)
          .map(({ key, value, partition, timestamp }) => ({ topic, key, value, partition, timestamp })),
      );
    await producer.disconnect();
    const badCount = messages.filter((m) => m.bad).length;
    const goodCount = messages.length - badCount;

    await dlq.waitFor(
      (i) => i.filter((d) => d.headers["blackwell.source.topic"] === topic).length >= badCount,
      120_000,
      `${badCount} dead letters`,
    );
    await drift.waitFor((i) => i.length >= CLIENTS.length * GOOD_PER_CLIENT, 120_000, "every good flip's transition");
    await new Promise((r) => setTimeout(r, 1500));
    const processed = summaries.reduce((n, s) => n + s.records, 0);
    const dead = dlq.items.filter((d) => d.headers["blackwell.source.topic"] === topic);
    const after = summaries.reduce((n, s) => n + s.records + s.dlq, 0) - before;
    console.log(
      `[poison] produced ${messages.length} (good ${goodCount}, bad ${badCount}); processed ${after - dead.length}, DLQ ${dead.length}, lost ${messages.length - after}`,
    );
    expect(after).toBe(messages.length);
    expect(dead).toHaveLength(badCount);
    const byCode = new Map<string, number>();
    for (const d of dead)
      byCode.set(d.headers["blackwell.error.code"]!, (byCode.get(d.headers["blackwell.error.code"]!) ?? 0) + 1);
    const expected = new Map<string, number>();
    for (const m of messages.filter((x) => x.bad)) expected.set(m.bad!, (expected.get(m.bad!) ?? 0) + 1);
    expect(Object.fromEntries(byCode)).toEqual(Object.fromEntries(expected));
    expect(dead.every((d) => (d.headers["blackwell.error.message"] ?? "").length > 10)).toBe(true);
    expect(drift.items).toHaveLength(CLIENTS.length * GOOD_PER_CLIENT);
    expect(processed).toBeGreaterThan(0);
  }, 300_000);
});
