import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partitionForClient } from "../../src/adapters/kafka/partitioner.js";
import type { TopicRole } from "../../src/adapters/kafka/topics.js";
import { readRecords } from "../../src/runtime/read-records.js";
import { startTestApi, type TestApi } from "../support/api-harness.js";
import { blackwell } from "../support/cli.js";
import { resourceEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";
import { eventually } from "../support/eventually.js";

const ADMIN = "admin-token-0123456789abcdef";
const COMPACTED: readonly TopicRole[] = [
  "desired-state",
  "stack-state",
  "changelog",
  "desired-history",
  "executor-ledger",
];

describe("offboarding a client, on the real broker", () => {
  let h: Harness;
  let api: TestApi;
  let env: Record<string, string>;
  let drifts: Collector<Record<string, unknown>>;
  let dir: string;

  /** Every record (tombstones included) per compacted topic whose key belongs to `client`. */
  const recordsOf = async (client: string) => {
    const found: Record<string, Array<{ key: string; tombstone: boolean }>> = {};
    for (const role of COMPACTED) {
      const records = await readRecords(h.ctx, role, client, { decode: false });
      found[role] = records
        .filter((r) => r.key === client || r.key.startsWith(`${client}/`))
        .map((r) => ({ key: r.key, tombstone: r.record.value === null }));
    }
    return found;
  };

  beforeAll(async () => {
    h = await createHarness(3);
    env = {
      KAFKA_BROKERS: h.config.brokers.join(","),
      SCHEMA_REGISTRY_URL: h.config.registryUrl,
      BLACKWELL_TOPIC_PREFIX: h.config.topicPrefix,
      BLACKWELL_PARTITIONS: "3",
      BLACKWELL_USER: "ops@acme",
    };
    await h.startReconciler();
    api = await startTestApi(h, `root@*:${ADMIN}`);
    drifts = await collectTopic(h.ctx.kafka, h.ctx.names["drift-events"], "DriftEvent", h.ctx.serde);
    dir = mkdtempSync(join(tmpdir(), "blackwell-offboard-"));
    const example = readFileSync("examples/acme-corp/blackwell.yaml", "utf8");
    writeFileSync(join(dir, "acme.yaml"), example);
    writeFileSync(join(dir, "kept.yaml"), example.replace("client_id: acme-corp", "client_id: kept-co"));
    for (const file of ["acme.yaml", "kept.yaml"]) {
      const applied = await blackwell(["apply", "-f", join(dir, file)], env);
      expect(applied.code, applied.stderr).toBe(0);
    }
    await h.produce("resource-events", "ResourceEvent", "acme-corp", [
      resourceEventValue({
        client_id: "acme-corp",
        environment: "prod",
        resource_name: "site_bucket",
        status: "deleted",
      }),
    ]);
    // An executor's ledger entry for one of the client's heal commands (what an executor writes before acting).
    const producer = await h.ctx.kafka.producer();
    await producer.send([
      { topic: h.ctx.names["executor-ledger"], key: "acme-corp/heal-0123456789abcdef", value: Buffer.from("x") },
    ]);
    await producer.disconnect();
    await eventually(
      "the bucket drift open and both clients in the API",
      async () => ({
        acme: await api.call("GET", "/v1/clients/acme-corp/drift", ADMIN),
        kept: await api.call("GET", "/v1/clients/kept-co/stacks", ADMIN),
      }),
      (r) => r.acme.status === 200 && r.acme.body.drift_count === 1 && r.kept.status === 200,
    );
  }, 180_000);

  afterAll(async () => {
    await drifts?.stop();
    await api?.stop();
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("says what it would remove without --yes and does nothing", async () => {
    const dry = await blackwell(["client", "offboard", "acme-corp", "--json"], env);
    expect(dry.code).toBe(1);
    const plan = JSON.parse(dry.stdout) as { stacks: string[]; done: boolean; keys: Record<string, string[]> };
    expect(plan).toMatchObject({ done: false, stacks: ["cms-ecom-prod", "cms-ecom-staging"] });
    expect(plan.keys["executor-ledger"]).toEqual(["acme-corp/heal-0123456789abcdef"]);
    expect((await api.call("GET", "/v1/clients/acme-corp/stacks", ADMIN)).status).toBe(200);
    expect((await blackwell(["client", "offboard", "Not A Client", "--yes"], env)).code).toBe(2);
    expect((await blackwell(["client", "remove", "acme-corp"], env)).code).toBe(2);
    // A mistyped client is refused, not reported offboarded.
    const unknown = await blackwell(["client", "offboard", "acme-crop", "--yes"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("client acme-crop has no desired state, history or ledger records");
  });

  it("removes the client from every compacted topic, its stores and the API's replica, audited, leaving others", async () => {
    const done = await blackwell(
      ["client", "offboard", "acme-corp", "--yes", "--reason", "contract ended", "--json"],
      env,
    );
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const answer = JSON.parse(done.stdout) as { done: boolean; audit: { action: string; triggered_by: string } };
    expect(answer).toMatchObject({ done: true, audit: { action: "client_offboarded", triggered_by: "ops@acme" } });

    // Its open drift was resolved, saying why.
    await eventually(
      "the drift resolved by the offboarding",
      async () => drifts.values().filter((d) => d.client_id === "acme-corp" && d.transition === "resolved"),
      (resolved) => resolved.some((d) => d.note === "client offboarded"),
    );
    // The API forgot it; the other client is untouched.
    await eventually(
      "the client gone from the API",
      async () => (await api.call("GET", "/v1/clients/acme-corp/stacks", ADMIN)).status,
      (status) => status === 404,
    );
    expect((await api.call("GET", "/v1/clients/kept-co/stacks", ADMIN)).body.stacks).toHaveLength(2);
    // `status` said "not applied yet" of an offboarded client, as if it had never been set up.
    const status = await eventually(
      "status to see the stacks tombstoned",
      () => blackwell(["status", "acme-corp"], env),
      (s) => s.stderr.includes("offboarded"),
    );
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(
      /^client acme-corp was offboarded at \S+ by ops@acme \(reason: contract ended\): it has no stacks$/m,
    );

    // Every compacted key of the client ends in a tombstone.
    const before = await eventually(
      "a tombstone as the latest record of every key",
      () => recordsOf("acme-corp"),
      (found) =>
        COMPACTED.every((role) => {
          const latest = new Map<string, boolean>();
          for (const r of found[role]!) latest.set(r.key, r.tombstone);
          return latest.size > 0 && [...latest.values()].every(Boolean);
        }),
    );
    expect(before.changelog!.map((r) => r.key)).toContain("acme-corp");

    // Compaction, made quick for the test, removes the records and then the tombstones themselves.
    for (const role of COMPACTED) {
      await h.ctx.admin.alterTopicConfig(h.ctx.names[role], {
        "segment.ms": "100",
        "min.cleanable.dirty.ratio": "0.001",
        "delete.retention.ms": "100",
        "min.compaction.lag.ms": "0",
      });
    }
    // Records of another client on the same partition roll its segments (the client's own keys would stay behind).
    const partition = partitionForClient("acme-corp", 3);
    const neighbour = Array.from({ length: 100 }, (_, i) => `roll-co-${i}`).find(
      (c) => partitionForClient(c, 3) === partition,
    )!;
    const producer = await h.ctx.kafka.producer();
    let roll = 0;
    try {
      await eventually(
        "no record of the client left in any compacted topic after compaction",
        async () => {
          // A record after segment.ms rolls the segment holding the client's records, so the cleaner may take it.
          roll++;
          for (const role of COMPACTED)
            await producer.send([{ topic: h.ctx.names[role], key: `${neighbour}/roll-${roll}`, value: null }]);
          return recordsOf("acme-corp");
        },
        (found) => COMPACTED.every((role) => found[role]!.length === 0),
        240_000,
      );
    } finally {
      await producer.disconnect();
    }
    // The other client's records are still there.
    const kept = await readRecords(h.ctx, "desired-state", "kept-co", { decode: false });
    expect(
      kept
        .filter((r) => r.record.value !== null)
        .map((r) => r.key)
        .sort(),
    ).toEqual(["kept-co/cms-ecom-prod", "kept-co/cms-ecom-staging"]);
    const audits = await readRecords<{ action: string; client_id: string; reason: string | null }>(
      h.ctx,
      "audit",
      "acme-corp",
    );
    expect(audits.map((a) => a.value!).filter((a) => a.action === "client_offboarded")).toEqual([
      expect.objectContaining({ client_id: "acme-corp", reason: "contract ended" }),
    ]);
  }, 400_000);
});
