/**
 * What-if of a policy on the real broker: a live run with the recorded policy, a what-if of a proposed policy over
 * its history, and a second live run of the proposed policy over the same inputs. The what-if's counts must equal
 * what the second live run did, and nothing the what-if decided may reach the live topics.
 */
import { afterAll, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { parsePolicyDocument } from "../../src/adapters/yaml/parse-blackwell-yaml.js";
import type { ReconciliationPolicy } from "../../src/core/model/desired.js";
import { whatIf } from "../../src/runtime/what-if.js";
import { startTestApi, type TestApi } from "../support/api-harness.js";
import { desiredStack } from "../support/core-spec.js";
import { providerEventValue, resourceEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";

interface HealCommand {
  client_id: string;
  drift_id: string;
  action: string;
}

const RECORDED = `
auto_heal:
  enabled: true
  max_attempts: 1
  backoff_base: 1h
  allowed_drift_types: [resource_unhealthy, integration_config]
`;
// Integration configs are left to people: half the heals.
const PROPOSED = `
auto_heal:
  enabled: true
  max_attempts: 1
  backoff_base: 1h
  allowed_drift_types: [resource_unhealthy]
  require_approval: [integration_config]
`;
const CLIENTS = ["whatif-a", "whatif-b", "whatif-c"];

/** The same inputs, at the same record times, on a harness's topics, under `policy`. */
async function feed(h: Harness, policy: ReconciliationPolicy, base: number) {
  for (const [i, client] of CLIENTS.entries()) {
    const t = base + i * 10;
    const desired = desiredStack({
      client_id: client,
      stack_id: "web",
      applied_at: new Date(t).toISOString(),
      providers: { cms: "sanity", ecommerce: "shopify", ssg: null },
      resources: [{ name: "db", arn: `arn:aws:rds:eu-west-1:1:db:${client}`, ignore_paths: [] }],
      integrations: [{ name: "orders-hook", config: { url: "https://hooks.example/orders" }, ignore_paths: [] }],
      policy,
    });
    await h.produce("desired-state", "DesiredState", `${client}/web`, [desiredToAvro(desired)], { timestamp: t });
    const event = (at: number, name: string, type: string, extra: object = {}) =>
      providerEventValue({ client_id: client, provider_name: name, event_type: type, at: new Date(at), ...extra });
    await h.produce(
      "provider-events",
      "ProviderEvent",
      client,
      [event(t + 100, "sanity", "provider.heartbeat"), event(t + 100, "shopify", "provider.heartbeat")],
      { timestamp: t + 100 },
    );
    await h.produce(
      "resource-events",
      "ResourceEvent",
      client,
      [resourceEventValue({ client_id: client, resource_name: "db", status: "unhealthy", at: new Date(t + 1000) })],
      { timestamp: t + 1000 },
    );
    await h.produce(
      "provider-events",
      "ProviderEvent",
      client,
      [
        event(t + 2000, "shopify", "integration.configured", {
          integration: "orders-hook",
          payload: { configuration: { url: "https://hooks.example/legacy" } },
        }),
      ],
      { timestamp: t + 2000 },
    );
  }
}

describe("policy what-if on the real broker", () => {
  const harnesses: Harness[] = [];
  const collectors: Array<Collector<unknown>> = [];
  let api: TestApi | undefined;
  afterAll(async () => {
    await api?.stop();
    for (const c of collectors) await c.stop();
    for (const h of harnesses) await h.close();
  });

  it("reports the heals a proposed policy avoids, equal to a live run of that policy, and touches no live topic", async () => {
    const recorded = parsePolicyDocument(RECORDED, "recorded.yaml");
    const proposed = parsePolicyDocument(PROPOSED, "proposed.yaml");
    const base = Date.now();

    // Live with the recorded policy: a resource heal and an integration heal per client.
    const live = await createHarness(3);
    harnesses.push(live);
    const liveHeals = await collectTopic<HealCommand>(
      live.ctx.kafka,
      live.ctx.names["heal-commands"],
      "HealCommand",
      live.ctx.serde,
    );
    collectors.push(liveHeals as Collector<unknown>);
    await live.startReconciler();
    await feed(live, recorded, base);
    await liveHeals.waitFor((items) => items.length >= 2 * CLIENTS.length, 60_000, "two heals per client");

    // The proposed policy over the same history, in a sandbox.
    while (Date.now() <= base + 3000) await new Promise((r) => setTimeout(r, 100));
    const report = await whatIf(live.ctx, {
      policy: proposed,
      client: null,
      stack: null,
      window: { from: base - 60_000, to: Date.now() },
      applicationId: `${live.config.topicPrefix}reconciler`,
    });
    expect(report.replay.stacks_changed).toBe(CLIENTS.length);
    expect(report.fleet.recorded.heals_issued).toBe(2 * CLIENTS.length);
    expect(report.fleet.proposed.heals_issued).toBe(CLIENTS.length);
    for (const c of report.clients) {
      expect(c.heals_avoided.map((h) => h.action)).toEqual(["integration.configure"]);
      expect(c.heals_added).toEqual([]);
      expect([c.recorded.approvals_asked, c.proposed.approvals_asked]).toEqual([0, 1]);
    }

    // Nothing of the what-if reached the live heal-commands topic, and its sandboxes are gone.
    expect(liveHeals.values()).toHaveLength(2 * CLIENTS.length);
    // (Kafka deletes topics in the background: a listing right after may still show them.)
    const sandboxTopics = async () => (await live.ctx.admin.listTopics()).filter((t) => t.includes(".whatif-"));
    const deadline = Date.now() + 60_000;
    while ((await sandboxTopics()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await sandboxTopics()).toEqual([]);

    // A live run of the proposed policy over the same inputs did what the what-if said.
    const second = await createHarness(3);
    harnesses.push(second);
    const secondHeals = await collectTopic<HealCommand>(
      second.ctx.kafka,
      second.ctx.names["heal-commands"],
      "HealCommand",
      second.ctx.serde,
    );
    collectors.push(secondHeals as Collector<unknown>);
    const secondAudit = await collectTopic<{ action: string; client_id: string }>(
      second.ctx.kafka,
      second.ctx.names.audit,
      "AuditEntry",
      second.ctx.serde,
    );
    collectors.push(secondAudit as Collector<unknown>);
    await second.startReconciler();
    await feed(second, proposed, base);
    const approvals = await secondAudit.waitFor(
      (items) => items.filter((i) => i.value?.action === "heal_await_approval").length >= CLIENTS.length,
      60_000,
      "an approval asked per client",
    );
    await secondHeals.waitFor((items) => items.length >= CLIENTS.length, 60_000, "a heal per client");
    const byClient = (heals: HealCommand[]) =>
      Object.fromEntries(CLIENTS.map((c) => [c, heals.filter((h) => h.client_id === c).map((h) => h.action)]));
    expect(byClient(secondHeals.values())).toEqual(
      Object.fromEntries(
        report.clients.map((c) => [c.client_id, Array(c.proposed.heals_issued).fill("resource.rebuild")]),
      ),
    );
    expect(approvals.filter((i) => i.value?.action === "heal_await_approval")).toHaveLength(
      report.fleet.proposed.approvals_asked,
    );
  }, 300_000);

  it("answers the same over the API: a client's own what-if, the fleet's for admins only, one at a time", async () => {
    const live = harnesses[0]!;
    const ADMIN = "admin-token-0123456789abcdef";
    const CLIENT = "whatif-a-token-0123456789abcdef";
    api = await startTestApi(live, `ops@*:${ADMIN},a-ops@whatif-a:${CLIENT}`);
    const body = { policy: PROPOSED, from: "1h" };
    // The replica learns the client from the topics: until then the client route answers 404.
    const deadline = Date.now() + 60_000;
    let mine = await api.call("POST", "/v1/clients/whatif-a/policy/what-if", CLIENT, { policy: PROPOSED, from: "1h" });
    while (mine.status === 404 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      mine = await api.call("POST", "/v1/clients/whatif-a/policy/what-if", CLIENT, { policy: PROPOSED, from: "1h" });
    }
    expect(mine.status, JSON.stringify(mine.body)).toBe(200);
    expect(mine.body.clients.map((c: { client_id: string }) => c.client_id)).toEqual(["whatif-a"]);
    expect(mine.body.clients[0].recorded.heals_issued).toBe(2);
    expect(mine.body.clients[0].proposed.heals_issued).toBe(1);
    expect(mine.body.clients[0].heals_avoided.map((h: { action: string }) => h.action)).toEqual([
      "integration.configure",
    ]);

    expect((await api.call("POST", "/v1/clients/whatif-b/policy/what-if", CLIENT, body)).status).toBe(404);
    expect((await api.call("POST", "/v1/policy/what-if", CLIENT, body)).status).toBe(403);
    const invalid = await api.call("POST", "/v1/policy/what-if", ADMIN, {
      policy: { auto_heal: { enabled: "maybe" } },
    });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toContain("policy.auto_heal.enabled");
    const nobody = await api.call("POST", "/v1/policy/what-if", ADMIN, { ...body, client: "nobody" });
    expect(nobody.status).toBe(404);

    // Two at once: one runs, the other is told to come back.
    const both = await Promise.all([
      api.call("POST", "/v1/policy/what-if", ADMIN, body),
      api.call("POST", "/v1/policy/what-if", ADMIN, body),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 429]);
    const fleet = both.find((r) => r.status === 200)!.body;
    expect(fleet.fleet.recorded.heals_issued).toBe(2 * CLIENTS.length);
    expect(fleet.fleet.proposed.heals_issued).toBe(CLIENTS.length);
  }, 300_000);
});
