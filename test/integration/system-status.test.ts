/**
 * The console's system panel, from Kafka's own offsets: the reconciler's consumer lag and throughput, the
 * dead-letter topic, and the alerts they fire, on the real broker.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { figuresOf, SystemStatus } from "../../src/api/system-status.js";
import { firingAlerts } from "../../src/api/system-alerts.js";
import { startTestApi, type TestApi } from "../support/api-harness.js";
import { providerEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

const ACME = "acme-token-0123456789abcdef";
const ADMIN = "admin-token-0123456789abcdef";
const TOKENS = `acme-ops@acme-corp:${ACME},root@*:${ADMIN}`;

describe("the system status of the fleet page, on the real broker", () => {
  let h: Harness;
  let api: TestApi;
  let group: string;

  beforeAll(async () => {
    h = await createHarness(3);
    group = `${h.config.topicPrefix}reconciler`;
    api = await startTestApi(h, TOKENS, { reconcilerGroup: group });
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
    await h?.close();
  });

  it("reports records waiting for a reconciler, a stall once they wait a whole window, and dead letters once one runs", async () => {
    let clock = Date.now();
    const status = new SystemStatus({
      admin: h.ctx.admin,
      names: h.ctx.names,
      reconcilerGroup: group,
      deadLetters: () => api.replica.deadLetters().total,
      cacheMs: 0,
      minWindowMs: 10_000,
      now: () => clock,
    });
    const figures = async () => {
      const { sample, rates } = await status.read();
      const fleet = { stacksInError: 0, openCriticalDrifts: 0, replicaLagRecords: 0 };
      const alerts = firingAlerts(figuresOf(sample, rates, fleet)).map((a) => a.alert);
      return { sample, rates, alerts };
    };

    // Given five events and no reconciler
    const at = Date.now();
    await h.produce(
      "provider-events",
      "ProviderEvent",
      "acme-corp",
      [1, 2, 3, 4, 5].map(() =>
        providerEventValue({
          client_id: "acme-corp",
          provider_name: "sanity",
          event_type: "provider.heartbeat",
          at: new Date(at),
        }),
      ),
    );
    const first = await figures();
    expect(first.sample.lagRecords).toBe(5);
    // One sample says nothing about rates, so nothing can be called stalled yet.
    expect(first.rates.processedPerSecond).toBeNull();
    expect(first.alerts).toEqual([]);

    // When they have waited a whole window with nothing processed
    clock += 20_000;
    const stalled = await figures();
    expect(stalled.rates.windowSeconds).toBe(20);
    expect(stalled.rates.processedPerSecond).toBe(0);
    expect(stalled.alerts).toEqual(["ReconcilerStalled"]);

    // When a reconciler runs, two undecodable records arrive, and one event is written in a transaction (as the
    // executor writes heal-results: its commit marker then takes the partition's last offset)
    await h.startReconciler();
    const tx = await h.ctx.kafka.transactionalProducer(`${h.config.topicPrefix}system-test-tx`);
    const topic = h.ctx.names["provider-events"];
    const event = providerEventValue({
      client_id: "acme-corp",
      provider_name: "sanity",
      event_type: "provider.heartbeat",
      at: new Date(at),
    });
    await tx.commit([{ topic, key: "acme-corp", value: h.ctx.serde.encode(topic, "ProviderEvent", event) }]);
    await tx.close();
    const raw = await h.ctx.kafka.producer();
    await raw.send(
      ["not avro", "neither"].map((text) => ({
        topic: h.ctx.names["provider-events"],
        key: "acme-corp",
        value: Buffer.from(text),
      })),
    );
    await raw.disconnect();
    const deadline = Date.now() + 60_000;
    let now = await figures();
    while (!(now.sample.lagRecords === 0 && now.sample.deadLetters === 2)) {
      if (Date.now() > deadline) throw new Error(`not drained: ${JSON.stringify(now.sample)}`);
      await new Promise((r) => setTimeout(r, 200));
      clock += 1_000;
      now = await figures();
    }

    // Then the stall is over (the marker is no lag), the processed rate counts all eight records, and the dead
    // letters fire their alert
    expect(now.rates.processedPerSecond).toBeGreaterThan(0);
    expect(now.sample.inputHigh).toBe(9);
    expect(now.rates.deadLettersInWindow).toBe(2);
    expect(now.alerts).toEqual(["DeadLettersArriving"]);
  }, 120_000);

  it("answers the system view to an admin token only", async () => {
    const client = await api.call("GET", "/v1/system", ACME);
    expect(client.status).toBe(403);
    expect(client.body.error.code).toBe("BLACKWELL_ERR_FORBIDDEN");
    expect(JSON.stringify(client.body)).not.toContain("lag_records");
    expect((await api.call("GET", "/v1/system", null)).status).toBe(401);

    const admin = await api.call("GET", "/v1/system", ADMIN);
    expect(admin.status, JSON.stringify(admin.body)).toBe(200);
    expect(admin.body.reconciler.lag_records).toBeGreaterThanOrEqual(0);
    // The two undecodable records of the first test, by where they came from and why.
    expect(admin.body.dead_letters.total).toBe(2);
    expect(admin.body.dead_letters.reasons).toEqual([
      expect.objectContaining({
        source_topic: h.ctx.names["provider-events"],
        code: "BLACKWELL_ERR_UNDECODABLE",
        count: 2,
      }),
    ]);
    expect(Array.isArray(admin.body.alerts)).toBe(true);
    expect(admin.body.replica).toEqual(expect.objectContaining({ lag_records: expect.any(Number) }));
  });
});
