import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBlackwellYaml } from "../../src/adapters/yaml/parse-blackwell-yaml.js";
import { applyDesired } from "../../src/runtime/apply-desired.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";
import { providerEventValue, resourceEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

interface DriftEvent {
  transition: string;
  drift_type: string;
  component: string;
  stack_id: string;
  observed_json: string;
  severity: string;
  drift_id: string;
  state_version: string;
}
interface StateRecord {
  stack_id: string;
  status: string;
  state_version: string;
  observed_state_version: string;
  drift_details: unknown[];
}

const EXAMPLE = "examples/acme-corp/blackwell.yaml";
const CLIENT = "acme-corp";

describe("reconciler end to end on the real broker", () => {
  let h: Harness;
  let drift: Collector<DriftEvent>;
  let states: Collector<StateRecord>;

  beforeAll(async () => {
    h = await createHarness(3);
    await h.startReconciler();
    drift = await collectTopic<DriftEvent>(h.ctx.kafka, h.ctx.names["drift-events"], "DriftEvent", h.ctx.serde);
    states = await collectTopic<StateRecord>(h.ctx.kafka, h.ctx.names["stack-state"], "StateRecord", h.ctx.serde);
  });
  afterAll(async () => {
    await drift?.stop();
    await states?.stop();
    await h?.close();
  });

  it("applies the example, detects provider and resource drift, and resolves it when observation matches again", async () => {
    const parsed = parseBlackwellYaml(readFileSync(EXAMPLE, "utf8"), EXAMPLE);
    const changes = await applyDesired(h.ctx, parsed, { file: EXAMPLE, appliedBy: "test" });
    expect(changes.map((c) => [c.stack_id, c.change, c.to])).toEqual([
      ["cms-ecom-prod", "created", "v1.0.0"],
      ["cms-ecom-staging", "created", "v1.0.0"],
    ]);
    await states.waitFor(
      (items) => items.filter((i) => i.value?.status === "healthy").length >= 2,
      30_000,
      "both stacks healthy",
    );

    const prod = { client_id: CLIENT, environment: "prod" };
    await h.produce("provider-events", "ProviderEvent", CLIENT, [
      providerEventValue({ ...prod, provider_name: "sanity", event_type: "provider.connected" }),
      providerEventValue({ ...prod, provider_name: "shopify", event_type: "provider.heartbeat" }),
    ]);
    await h.produce("resource-events", "ResourceEvent", CLIENT, [
      resourceEventValue({ ...prod, resource_name: "site_bucket", status: "deleted" }),
    ]);
    await h.produce("provider-events", "ProviderEvent", CLIENT, [
      providerEventValue({
        ...prod,
        provider_name: "contentful",
        event_type: "provider.connected",
        at: new Date(Date.now() + 1000),
      }),
    ]);

    const opened = await drift.waitFor(
      (items) => items.filter((i) => i.value?.transition === "opened").length >= 2,
      30_000,
      "two drifts opened",
    );
    const openedValues = opened.map((i) => i.value!).filter((v) => v.transition === "opened");
    expect(
      openedValues.map((v) => [v.stack_id, v.drift_type, v.component, JSON.parse(v.observed_json), v.severity]).sort(),
    ).toEqual([
      ["cms-ecom-prod", "provider", "cms", "contentful", "critical"],
      ["cms-ecom-prod", "resource", "site_bucket", "deleted", "high"],
    ]);
    expect(opened.every((i) => i.key === CLIENT)).toBe(true);
    await states.waitFor(
      (items) =>
        items.some(
          (i) =>
            i.value?.stack_id === "cms-ecom-prod" &&
            i.value.status === "reconciling" &&
            i.value.drift_details.length === 2,
        ),
      30_000,
      "prod reconciling (the example auto-heals resource drift) with 2 drifts",
    );

    // The healing observations: the declared CMS reconnects and the bucket is back.
    await h.produce("provider-events", "ProviderEvent", CLIENT, [
      providerEventValue({
        ...prod,
        provider_name: "sanity",
        event_type: "provider.connected",
        at: new Date(Date.now() + 2000),
      }),
    ]);
    await h.produce("resource-events", "ResourceEvent", CLIENT, [
      resourceEventValue({ ...prod, resource_name: "site_bucket", status: "healthy", at: new Date(Date.now() + 2000) }),
    ]);
    await drift.waitFor(
      (items) => items.filter((i) => i.value?.transition === "resolved").length >= 2,
      30_000,
      "two drifts resolved",
    );
    const last = await states.waitFor(
      (items) => items.at(-1)?.value?.stack_id === "cms-ecom-prod" && items.at(-1)?.value?.status === "healthy",
      30_000,
      "prod healthy again",
    );
    expect(last.at(-1)!.value).toMatchObject({
      status: "healthy",
      state_version: "v1.0.0",
      observed_state_version: "v1.0.0",
      drift_details: [],
    });
    // Each transition exactly once.
    const transitions = drift.values().map((v) => `${v.drift_id}:${v.transition}`);
    expect(new Set(transitions).size).toBe(transitions.length);
  });

  it("re-applying an unchanged file produces nothing; a changed one bumps the version and keeps the previous", async () => {
    const parsed = parseBlackwellYaml(readFileSync(EXAMPLE, "utf8"), EXAMPLE);
    expect((await applyDesired(h.ctx, parsed, { file: EXAMPLE, appliedBy: "test" })).map((c) => c.change)).toEqual([
      "unchanged",
      "unchanged",
    ]);
    const edited = parseBlackwellYaml(
      readFileSync(EXAMPLE, "utf8").replace("content_grace: 15m", "content_grace: 20m"),
      EXAMPLE,
    );
    const changes = await applyDesired(h.ctx, edited, { file: EXAMPLE, appliedBy: "test" });
    expect(changes.map((c) => [c.stack_id, c.change, c.from, c.to])).toEqual([
      ["cms-ecom-prod", "unchanged", "v1.0.0", "v1.0.0"],
      ["cms-ecom-staging", "updated", "v1.0.0", "v1.1.0"],
    ]);
    await states.waitFor(
      (items) => items.some((i) => i.value?.stack_id === "cms-ecom-staging" && i.value.state_version === "v1.1.0"),
      30_000,
      "staging at v1.1.0",
    );
  });
});
