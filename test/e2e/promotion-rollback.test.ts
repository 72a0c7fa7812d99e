/**
 * Promotion on the real broker, end to end: staging gets a version that is bad for prod, its gates pass, it is
 * promoted, prod's drift of a named kind opens within the verification window, and the reconciler's rollback command
 * is carried out by an executor: prod's previous version is published again, audited with the drift, and the drift
 * resolves. Gates refuse a promotion while staging has an open drift.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBlackwellYaml } from "../../src/adapters/yaml/parse-blackwell-yaml.js";
import type { ExecutorRunner } from "../../src/executor/executor-runner.js";
import { applyDesired, currentDesired } from "../../src/runtime/apply-desired.js";
import { promote } from "../../src/runtime/promote.js";
import { providerEventValue } from "../support/events.js";
import { startTestExecutor } from "../support/executor-harness.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";
import { eventuallyValue } from "../support/eventually.js";

const CLIENT = "promo-corp";
const composition = (stagingCms: string) =>
  parseBlackwellYaml(
    `apiVersion: blackwell.io/v1
kind: Composition
metadata: {client_id: ${CLIENT}}
spec:
  stacks:
    - stack_id: web-staging
      environment: staging
      providers: {cms: ${stagingCms}}
    - stack_id: web-prod
      environment: prod
      providers: {cms: sanity}
      promotion:
        from: web-staging
        match: [providers]
        soak: 1s
        verify: {window: 10m, rollback_on: [cms_provider_change, provider_missing]}
`,
    "blackwell.yaml",
  );

interface Audit {
  action: string;
  stack_id: string | null;
  drift_id: string | null;
  changes_made_json: string;
}
interface DriftEvent {
  stack_id: string;
  drift_id: string;
  transition: string;
  component: string;
}
interface StateRecord {
  stack_id: string;
  state_version: string;
  status: string;
}

describe("promotion with automatic rollback on the real broker", () => {
  let h: Harness;
  let executor: ExecutorRunner;
  let audit: Collector<Audit>;
  let drifts: Collector<DriftEvent>;
  let states: Collector<StateRecord>;
  const beat = (environment: string, name: string, type = "provider.heartbeat", role: string | null = null) =>
    h.produce("provider-events", "ProviderEvent", CLIENT, [
      providerEventValue({
        client_id: CLIENT,
        environment,
        provider_name: name,
        event_type: type,
        provider_role: role,
      }),
    ]);

  beforeAll(async () => {
    h = await createHarness(3);
    audit = await collectTopic(h.ctx.kafka, h.ctx.names.audit, "AuditEntry", h.ctx.serde);
    drifts = await collectTopic(h.ctx.kafka, h.ctx.names["drift-events"], "DriftEvent", h.ctx.serde);
    states = await collectTopic(h.ctx.kafka, h.ctx.names["stack-state"], "StateRecord", h.ctx.serde);
    await h.startReconciler();
    executor = await startTestExecutor(h, null);
  });
  afterAll(async () => {
    await executor?.stop();
    for (const c of [audit, drifts, states]) await c?.stop();
    await h?.close();
  });

  it("promotes a gated staging version, then rolls prod back when the promoted version opens a named drift", async () => {
    await applyDesired(h.ctx, composition("sanity"), { file: "blackwell.yaml", appliedBy: "test" });
    await beat("prod", "sanity");
    // Staging's new version names a CMS prod does not run.
    await applyDesired(h.ctx, composition("contentful"), { file: "blackwell.yaml", appliedBy: "test" });
    // While staging has an open drift (contentful is declared, sanity still connected), the gate refuses.
    await beat("staging", "sanity", "provider.connected", "cms");
    await drifts.waitFor(
      (items) => items.some((i) => i.value?.stack_id === "web-staging" && i.value.transition === "opened"),
      60_000,
      "staging's drift",
    );
    await expect(promote(h.ctx, CLIENT, { from: "web-staging", to: "web-prod", by: "release" })).rejects.toThrow(
      /promotion refused: web-staging is drift_detected with 1 open drift/,
    );
    // Contentful connects in staging: healthy, and after its 1 s soak the promotion goes through.
    await beat("staging", "contentful", "provider.connected", "cms");
    const promoted = await eventuallyValue("the promotion", () =>
      promote(h.ctx, CLIENT, { from: "web-staging", to: "web-prod", by: "release" }),
    );
    expect(promoted).toMatchObject({
      published: true,
      from: { stack_id: "web-staging", state_version: "v1.1.0" },
      to: { stack_id: "web-prod", from_version: "v1.0.0", state_version: "v1.1.0" },
    });
    const afterPromotion = (await currentDesired(h.ctx, CLIENT)).get("web-prod")!;
    expect([afterPromotion.providers.cms, afterPromotion.promoted_from]).toEqual([
      "contentful",
      { stack_id: "web-staging", state_version: "v1.1.0" },
    ]);
    // Prod still runs sanity: once the reconciler judges the promoted version, its CMS changes under it.
    await states.waitFor(
      (items) => items.some((i) => i.value?.stack_id === "web-prod" && i.value.state_version === "v1.1.0"),
      60_000,
      "prod judged under the promoted version",
    );
    await beat("prod", "sanity", "provider.connected", "cms");

    const rolledBack = await audit.waitFor(
      (items) => items.some((i) => i.value?.action === "promotion_rolled_back"),
      60_000,
      "the rollback decision",
    );
    const decision = rolledBack.map((i) => i.value!).find((a) => a.action === "promotion_rolled_back")!;
    const opened = drifts
      .values()
      .find((d) => d.stack_id === "web-prod" && d.transition === "opened" && d.component === "cms")!;
    expect(decision.drift_id).toBe(opened.drift_id);
    expect(JSON.parse(decision.changes_made_json)).toMatchObject({
      to_version: "v1.0.0",
      from_version: "v1.1.0",
      drifts: [opened.drift_id],
      promoted_from: { stack_id: "web-staging", state_version: "v1.1.0" },
    });

    // The executor publishes v1.0.0's content as prod's next version, not as a promotion.
    const back = await eventuallyValue("prod rolled back", async () => {
      const d = (await currentDesired(h.ctx, CLIENT)).get("web-prod")!;
      return d.state_version === "v1.2.0" ? d : null;
    });
    expect([back.providers.cms, back.promoted_from ?? null, back.source]).toEqual([
      "sanity",
      null,
      "rollback to v1.0.0",
    ]);
    // Sanity is what prod runs and declares again: the drift resolves.
    await drifts.waitFor(
      (items) => items.some((i) => i.value?.drift_id === opened.drift_id && i.value.transition === "resolved"),
      60_000,
      "the drift resolved after the rollback",
    );
    // One rollback, whatever else happened in the window.
    expect(audit.values().filter((a) => a.action === "promotion_rolled_back")).toHaveLength(1);
  }, 300_000);
});
