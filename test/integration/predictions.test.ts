import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { parseBlackwellYaml } from "../../src/adapters/yaml/parse-blackwell-yaml.js";
import { startTestApi, type TestApi } from "../support/api-harness.js";
import { providerEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";
import { eventually } from "../support/eventually.js";

interface Prediction {
  drift_id: string;
  transition: string;
  kind: string;
  component: string;
  precursor: string;
  confidence: number;
  lead_seconds: number | null;
  stack_id: string;
}

describe("predicted drift on the real broker", () => {
  let h: Harness;
  let api: TestApi;
  const TOKEN = "acme-token-0123456789abcdef";
  let predictions: Collector<Prediction>;
  let drifts: Collector<{ drift_id: string; transition: string; kind?: string; component: string }>;

  beforeAll(async () => {
    h = await createHarness(3);
    const parsed = parseBlackwellYaml(readFileSync("examples/acme-corp/blackwell.yaml", "utf8"), "blackwell.yaml");
    for (const s of parsed.stacks) {
      await h.produce("desired-state", "DesiredState", `acme-corp/${s.stack_id}`, [
        desiredToAvro({
          ...s,
          // Two failures of three, with nothing learned about the webhook yet, are 0.67: under the publishing floor.
          staleness: { ...s.staleness, webhook_failure_threshold: 4 },
          state_version: "v1.0.0",
          previous_versions: [],
          applied_at: new Date().toISOString(),
          applied_by: "test",
        }),
      ]);
    }
    predictions = await collectTopic(h.ctx.kafka, h.ctx.names["drift-predictions"], "DriftPrediction", h.ctx.serde);
    drifts = await collectTopic(h.ctx.kafka, h.ctx.names["drift-events"], "DriftEvent", h.ctx.serde);
    await h.startReconciler();
    api = await startTestApi(h, `acme-ops@acme-corp:${TOKEN}`);
  });
  afterAll(async () => {
    await api?.stop();
    await predictions?.stop();
    await drifts?.stop();
    await h?.close();
  });

  it("predicts a broken webhook from its third failed delivery of four and confirms it when the fourth opens the drift", async () => {
    const failed = (at: number) =>
      providerEventValue({
        client_id: "acme-corp",
        stack_id: "cms-ecom-prod",
        provider_name: "shopify",
        event_type: "webhook.failed",
        integration: "shopify-products",
        at: new Date(at),
      });
    // After the desired state's record time, so each event moves stream time (the lead is in stream time).
    const start = Date.now() + 1000;
    // Stream time is the record's time: each event is stamped with its own.
    const send = (at: number) =>
      h.produce("provider-events", "ProviderEvent", "acme-corp", [failed(at)], { timestamp: at });
    await send(start);
    await send(start + 20_000);
    await send(start + 40_000);
    const made = await predictions.waitFor(
      (items) => items.some((i) => i.value?.transition === "predicted"),
      60_000,
      "a prediction",
    );
    const predicted = made.map((i) => i.value!).find((p) => p.transition === "predicted")!;
    // The API shows it open, with what it rests on.
    const open = await eventually(
      "the prediction in the API",
      () => api.call("GET", "/v1/clients/acme-corp/predictions", TOKEN),
      (r) => r.status === 200 && r.body.predictions.length === 1,
    );
    expect(open.body.predictions[0]).toMatchObject({
      state: "open",
      kind: "webhook_broken",
      component: "shopify-products/webhook",
      evidence: expect.stringContaining("3 of 4 webhook deliveries of shopify-products failed in a row"),
    });
    expect(predicted).toMatchObject({
      stack_id: "cms-ecom-prod",
      kind: "webhook_broken",
      component: "shopify-products/webhook",
      precursor: "webhook_failures",
      confidence: 0.75,
    });
    await send(start + 60_000);
    await predictions.waitFor(
      (items) => items.some((i) => i.value?.transition === "confirmed"),
      60_000,
      "the prediction confirmed",
    );
    const confirmed = predictions.values().find((p) => p.transition === "confirmed")!;
    expect(confirmed.drift_id).toBe(predicted.drift_id);
    expect(confirmed.lead_seconds).toBe(20);
    // The drift that opened is the one predicted.
    await drifts.waitFor((items) => items.some((i) => i.value?.drift_id === predicted.drift_id), 30_000, "the drift");
    expect(
      drifts
        .values()
        .filter((d) => d.drift_id === predicted.drift_id)
        .map((d) => d.transition),
    ).toEqual(["opened"]);
  });
});
