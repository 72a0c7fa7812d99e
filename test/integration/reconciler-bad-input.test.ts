import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partitionForClient } from "../../src/adapters/kafka/partitioner.js";
import type { PassSummary } from "../../src/runtime/reconciler-task.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { commandValue, providerEventValue, resourceEventValue } from "../support/events.js";
import { desiredStack } from "../support/core-spec.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

const CLIENT = "globex";

describe("bad input on every input topic goes to the DLQ with its reason; nothing else is lost", () => {
  let h: Harness;
  let dlq: Collector<Buffer>;
  const summaries: PassSummary[] = [];

  beforeAll(async () => {
    h = await createHarness(3);
    await h.startReconciler({ onCommitted: (s) => summaries.push(s) });
    dlq = await collectTopic<Buffer>(h.ctx.kafka, h.ctx.names.dlq, "raw");
  });
  afterAll(async () => {
    await dlq?.stop();
    await h?.close();
  });

  it("routes each kind of bad record to the DLQ and keeps processing the good ones", async () => {
    const { names, serde } = h.ctx;
    const producer = await h.ctx.kafka.producer();
    const p = partitionForClient(CLIENT, 3);
    const wrongPartition = (p + 1) % 3;
    const good = (n: number) =>
      Array.from({ length: n }, () => ({
        key: CLIENT,
        partition: p,
        value: serde.encode(
          names["provider-events"],
          "ProviderEvent",
          providerEventValue({ client_id: CLIENT, provider_name: "sanity", event_type: "provider.heartbeat" }),
        ),
      }));
    const bad: Array<{ topic: string; key: string | null; value: Buffer | null; partition: number; expect: string }> = [
      {
        topic: names["provider-events"],
        key: CLIENT,
        value: Buffer.from("definitely not avro"),
        partition: p,
        expect: "BLACKWELL_ERR_UNDECODABLE",
      },
      {
        topic: names["provider-events"],
        key: CLIENT,
        value: serde.encode(names.commands, "Command", commandValue({ client_id: CLIENT, command: "pause" })),
        partition: p,
        expect: "BLACKWELL_ERR_INVALID_RECORD",
      },
      {
        topic: names["provider-events"],
        key: CLIENT,
        value: serde.encode(
          names["provider-events"],
          "ProviderEvent",
          providerEventValue({ client_id: CLIENT, provider_name: "sanity", event_type: "content.exploded" }),
        ),
        partition: p,
        expect: "BLACKWELL_ERR_INVALID_RECORD",
      },
      {
        topic: names["provider-events"],
        key: CLIENT,
        value: serde.encode(names["provider-events"], "ProviderEvent", {
          ...providerEventValue({ client_id: CLIENT, provider_name: "sanity", event_type: "provider.heartbeat" }),
          timestamp: "yesterday",
        }),
        partition: p,
        expect: "BLACKWELL_ERR_INVALID_RECORD",
      },
      {
        topic: names["provider-events"],
        key: CLIENT,
        value: serde.encode(
          names["provider-events"],
          "ProviderEvent",
          providerEventValue({ client_id: "someone-else", provider_name: "sanity", event_type: "provider.heartbeat" }),
        ),
        partition: p,
        expect: "BLACKWELL_ERR_INVALID_RECORD",
      },
      {
        topic: names["provider-events"],
        key: CLIENT,
        value: serde.encode(
          names["provider-events"],
          "ProviderEvent",
          providerEventValue({ client_id: CLIENT, provider_name: "sanity", event_type: "provider.heartbeat" }),
        ),
        partition: wrongPartition,
        expect: "BLACKWELL_ERR_INVALID_RECORD",
      },
      {
        topic: names["provider-events"],
        key: null,
        value: serde.encode(
          names["provider-events"],
          "ProviderEvent",
          providerEventValue({ client_id: CLIENT, provider_name: "sanity", event_type: "provider.heartbeat" }),
        ),
        partition: p,
        expect: "BLACKWELL_ERR_INVALID_RECORD",
      },
      {
        topic: names["resource-events"],
        key: CLIENT,
        value: Buffer.from([0, 0x7f, 0xff, 0xff, 0x00, 1, 2]),
        partition: p,
        expect: "BLACKWELL_ERR_UNKNOWN_SCHEMA",
      },
      {
        topic: names["resource-events"],
        key: CLIENT,
        value: serde.encode(
          names["resource-events"],
          "ResourceEvent",
          resourceEventValue({ client_id: CLIENT, resource_name: "db", status: "on-fire" }),
        ),
        partition: p,
        expect: "BLACKWELL_ERR_INVALID_RECORD",
      },
      {
        topic: names.commands,
        key: CLIENT,
        value: serde.encode(names.commands, "Command", commandValue({ client_id: CLIENT, command: "self-destruct" })),
        partition: p,
        expect: "BLACKWELL_ERR_INVALID_RECORD",
      },
      {
        topic: names.commands,
        key: CLIENT,
        value: Buffer.from([1, 2, 3, 4, 5, 6]),
        partition: p,
        expect: "BLACKWELL_ERR_UNDECODABLE",
      },
      { topic: names["desired-state"], key: CLIENT, value: null, partition: p, expect: "BLACKWELL_ERR_INVALID_RECORD" },
      {
        topic: names["desired-state"],
        key: `${CLIENT}/web`,
        value: Buffer.from('{"yaml": true}'),
        partition: p,
        expect: "BLACKWELL_ERR_UNDECODABLE",
      },
      {
        // Decodes as Avro, but its content is one blackwell.yaml would refuse: judged by the same validation, it goes
        // to the DLQ instead of stalling the partition on every retry (issue 14 item 5).
        topic: names["desired-state"],
        key: `${CLIENT}/web`,
        value: serde.encode(
          names["desired-state"],
          "DesiredState",
          desiredToAvro(
            desiredStack({
              client_id: CLIENT,
              stack_id: "web",
              integrations: [{ name: "hook", config: { url: "https://x" }, ignore_paths: ["foo"] }],
            }),
          ),
        ),
        partition: p,
        expect: "BLACKWELL_ERR_INVALID_RECORD",
      },
      {
        topic: names["heal-results"],
        key: CLIENT,
        value: Buffer.alloc(0),
        partition: p,
        expect: "BLACKWELL_ERR_UNDECODABLE",
      },
    ];
    let produced = 0;
    const send = (topic: string, records: Array<{ key: string | null; value: Buffer | null; partition: number }>) =>
      producer.send(records.map((r) => ({ topic, ...r })));
    await send(names["provider-events"], good(5));
    produced += 5;
    for (const b of bad) {
      await send(b.topic, [{ key: b.key, value: b.value, partition: b.partition }]);
      produced += 1;
      await send(names["provider-events"], good(2));
      produced += 2;
    }
    await producer.disconnect();

    await dlq.waitFor((items) => items.length >= bad.length, 60_000, `${bad.length} DLQ records`);
    const deadline = Date.now() + 30_000;
    const processed = () => summaries.reduce((n, s) => n + s.records, 0);
    const dlqd = () => summaries.reduce((n, s) => n + s.dlq, 0);
    while (processed() + dlqd() < produced && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    expect(processed() + dlqd()).toBe(produced);
    expect(dlqd()).toBe(bad.length);
    const byCode = dlq.items.map((i) => i.headers["blackwell.error.code"]).sort();
    expect(byCode).toEqual(bad.map((b) => b.expect).sort());
    for (const item of dlq.items) {
      expect(item.headers["blackwell.source.topic"]).toMatch(
        /\.(provider-events|resource-events|commands|desired-state|heal-results)$/,
      );
      expect(item.headers["blackwell.source.offset"]).toMatch(/^\d+$/);
      expect(item.headers["blackwell.source.partition"]).toMatch(/^\d$/);
      expect(item.headers["blackwell.error.message"]!.length).toBeGreaterThan(10);
    }
    // The original bytes are kept for re-drive.
    const garbage = dlq.items.find((i) => i.headers["blackwell.error.message"]!.includes("magic byte is 100"))!;
    expect(Buffer.from(garbage.value!).toString()).toBe("definitely not avro");
    expect(dlq.items.map((i) => i.headers["blackwell.error.message"]).join("\n")).toContain('JSON pointer "foo"');
    const misrouted = dlq.items.find((i) => i.headers["blackwell.error.message"]!.includes("is on partition"));
    expect(misrouted?.headers["blackwell.error.message"]).toContain(`is on partition ${wrongPartition}, expected ${p}`);
  });
});
