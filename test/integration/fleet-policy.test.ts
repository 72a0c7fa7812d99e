/**
 * Fleet policy on the real broker: defaults reach the stacks that do not set a field (a new desired version each,
 * judged by the reconciler under the inherited policy), stacks that set it keep theirs, a rule refuses the policies
 * that break it (an apply, and a fleet change that a stack would break), and explain says where each field came from.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  parseBlackwellYaml,
  parseFleetPolicy,
  parsePolicyDocument,
} from "../../src/adapters/yaml/parse-blackwell-yaml.js";
import { whatIf } from "../../src/runtime/what-if.js";
import { EXIT, exitCodeFor } from "../../src/cli/cli-kit.js";
import { policyCommand } from "../../src/cli/commands/policy.js";
import { rollbackDesired } from "../../src/runtime/rollback.js";
import { applyDesired, currentDesired } from "../../src/runtime/apply-desired.js";
import { currentFleetPolicy, explainPolicy, setFleetPolicy } from "../../src/runtime/fleet-policy.js";
import { startTestApi, type TestApi } from "../support/api-harness.js";
import { providerEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";

const composition = (client: string, policy: string) =>
  parseBlackwellYaml(
    `apiVersion: blackwell.io/v1
kind: Composition
metadata: {client_id: ${client}}
spec:
  stacks:
    - stack_id: web
      environment: prod
      providers: {cms: sanity}
${policy}`,
    `${client}.yaml`,
  );

const apply = (h: Harness, client: string, policy: string) =>
  applyDesired(h.ctx, composition(client, policy), { file: `${client}.yaml`, appliedBy: "test" });

interface StateRecord {
  client_id: string;
  state_version: string;
  reconciliation_policy: { max_heal_attempts: number };
}

describe("fleet policy on the real broker", () => {
  let h: Harness;
  let api: TestApi;
  let states: Collector<StateRecord>;
  const ADMIN = "admin-token-0123456789abcdef";
  const CLIENT = "fleet-a-token-0123456789abcdef";
  beforeAll(async () => {
    h = await createHarness(3);
    states = await collectTopic(h.ctx.kafka, h.ctx.names["stack-state"], "StateRecord", h.ctx.serde);
    await h.startReconciler();
    api = await startTestApi(h, `ops@*:${ADMIN},a-ops@fleet-a:${CLIENT}`);
  });
  afterAll(async () => {
    await api?.stop();
    await states?.stop();
    await h?.close();
  });

  it("passes defaults to the stacks that do not set them, enforces its rules, and explains each field", async () => {
    // fleet-a sets nothing about attempts; fleet-b sets 4 and auto-heals a critical kind without an approval.
    await apply(h, "fleet-a", "");
    await apply(
      h,
      "fleet-b",
      `      policy:
        auto_heal: {enabled: true, max_attempts: 4, allowed_drift_types: [provider_missing]}
`,
    );
    // fleet-c once auto-healed CMS changes (v1.0.0), then stopped (v1.1.0): before any fleet rule forbade it.
    await apply(
      h,
      "fleet-c",
      `      policy:
        auto_heal: {enabled: true, allowed_drift_types: [cms_provider_change]}
`,
    );
    await apply(h, "fleet-c", "");

    const v1 = await setFleetPolicy(
      h.ctx,
      parseFleetPolicy(
        "defaults: {auto_heal: {max_attempts: 2}}\nrules: {never_auto_heal: [cms_provider_change]}\n",
        "fleet.yaml",
      ),
      { by: "platform", reason: "fewer retries", file: "fleet.yaml" },
    );
    expect(v1.version).toBe(1);
    expect(v1.changes.map((c) => [c.client_id, c.change, c.from, c.to])).toEqual([
      ["fleet-a", "updated", "v1.0.0", "v1.0.1"],
      ["fleet-b", "unchanged", "v1.0.0", "v1.0.0"],
      ["fleet-c", "updated", "v1.1.0", "v1.1.1"],
    ]);
    const a = (await currentDesired(h.ctx, "fleet-a")).get("web")!;
    expect([a.policy.auto_heal.max_attempts, a.fleet_policy_version, a.source]).toEqual([2, 1, "fleet-policy"]);
    expect((await currentDesired(h.ctx, "fleet-b")).get("web")!.policy.auto_heal.max_attempts).toBe(4);

    // The reconciler judges fleet-a under the inherited policy.
    await h.produce("provider-events", "ProviderEvent", "fleet-a", [
      providerEventValue({ client_id: "fleet-a", provider_name: "sanity", event_type: "provider.heartbeat" }),
    ]);
    const seen = await states.waitFor(
      (items) => items.some((i) => i.value?.client_id === "fleet-a" && i.value.state_version === "v1.0.1"),
      60_000,
      "fleet-a's state under v1.0.1",
    );
    const state = seen.map((i) => i.value!).find((s) => s.client_id === "fleet-a" && s.state_version === "v1.0.1")!;
    expect(state.reconciliation_policy.max_heal_attempts).toBe(2);

    // A rule refuses an apply that breaks it, naming the stack and field.
    await expect(
      apply(
        h,
        "fleet-a",
        `      policy:
        auto_heal: {enabled: true, allowed_drift_types: [cms_provider_change]}
`,
      ),
    ).rejects.toThrow(
      "fleet-a/web: policy.auto_heal.allowed_drift_types: allows cms_provider_change, which the fleet policy never lets auto-heal",
    );

    // A fleet change that a stack's own policy would break is refused whole, and nothing is published.
    await expect(
      setFleetPolicy(h.ctx, parseFleetPolicy("rules: {approval_required_from_severity: critical}\n", "strict.yaml"), {
        by: "platform",
        reason: null,
        file: "strict.yaml",
      }),
    ).rejects.toThrow("fleet-b/web: policy.auto_heal.require_approval: must name provider_missing: it is critical");
    expect((await currentFleetPolicy(h.ctx))?.version).toBe(1);

    // Defaults that break the fleet's own rules are named as the defaults, not blamed on the stacks inheriting them.
    await expect(
      setFleetPolicy(
        h.ctx,
        parseFleetPolicy("defaults: {auto_heal: {max_attempts: 9}}\nrules: {max_attempts_at_most: 5}\n", "self.yaml"),
        { by: "platform", reason: null, file: "self.yaml" },
      ),
    ).rejects.toThrow(
      "self.yaml: a fleet rule forbids this:\n  defaults.auto_heal.max_attempts: is 9; the fleet policy allows at most 5",
    );
    // A what-if of a proposal the rules forbid is refused before anything is replayed.
    await expect(
      whatIf(h.ctx, {
        policy: parsePolicyDocument("auto_heal: {enabled: true, allowed_drift_types: [cms_provider_change]}", "p.yaml"),
        client: null,
        stack: null,
        window: { from: Date.now() - 60_000, to: Date.now() },
        file: "p.yaml",
      }),
    ).rejects.toThrow("proposed: policy.auto_heal.allowed_drift_types: allows cms_provider_change");

    // Explain: each field's value and where it came from.
    const explained = await explainPolicy(h.ctx, "fleet-b", "web");
    const field = (name: string) => explained!.fields.find((f) => f.field === name);
    expect(field("auto_heal.max_attempts")).toEqual({ field: "auto_heal.max_attempts", value: 4, source: "stack" });
    expect(field("auto_heal.backoff_strategy")?.source).toBe("default");
    const fromFleet = await explainPolicy(h.ctx, "fleet-a", "web");
    expect(fromFleet!.fields.find((f) => f.field === "auto_heal.max_attempts")).toEqual({
      field: "auto_heal.max_attempts",
      value: 2,
      source: "fleet",
    });
    expect(fromFleet!.fleet_policy_version).toBe(1);
    // A rollback brings the old content back under today's fleet policy: fleet-a's v1.0.0 (built-in 3 attempts
    // then) inherits the fleet's 2 now, which is what it holds: nothing to publish. fleet-c's v1.0.0 set what a rule
    // now forbids: refused, like an apply of it.
    expect(await rollbackDesired(h.ctx, "fleet-a", "web", "v1.0.0", "ops")).toMatchObject({ published: false });
    await expect(rollbackDesired(h.ctx, "fleet-c", "web", "v1.0.0", "ops")).rejects.toThrow(
      /the rollback of fleet-c\/web to v1.0.0: a fleet rule forbids this:\n {2}fleet-c\/web: policy.auto_heal.allowed_drift_types/,
    );
    // The CLI: a stack it does not know is a bad name (exit 3), not a broken rule (exit 1).
    process.env.BLACKWELL_TOPIC_PREFIX = h.ctx.config.topicPrefix;
    process.env.BLACKWELL_PARTITIONS = String(h.ctx.config.partitions);
    try {
      const unknown = await policyCommand(["explain", "fleet-a", "no-such-stack"]).catch((err: unknown) => err);
      expect([exitCodeFor(unknown), String(unknown)]).toEqual([
        EXIT.invalid,
        expect.stringContaining("no stack no-such-stack for client fleet-a"),
      ]);
      expect(await policyCommand(["explain", "fleet-a", "web", "--json"])).toBe(EXIT.ok);
    } finally {
      delete process.env.BLACKWELL_TOPIC_PREFIX;
      delete process.env.BLACKWELL_PARTITIONS;
    }

    // The same over the API: explain for the client's own stack; setting the fleet policy is for admins.
    const over = await api.call("GET", "/v1/clients/fleet-a/stacks/web/policy/explain", CLIENT);
    expect(over.status).toBe(200);
    expect(over.body.fields.find((f: { field: string }) => f.field === "auto_heal.max_attempts").source).toBe("fleet");
    expect((await api.call("GET", "/v1/clients/fleet-b/stacks/web/policy/explain", CLIENT)).status).toBe(404);
    const put = (token: string, body: string, query = "") =>
      api.call("PUT", `/v1/fleet-policy${query}`, token, body, { "content-type": "application/yaml" });
    expect((await put(CLIENT, "defaults: {}\n")).status).toBe(403);
    const dry = await put(ADMIN, "defaults: {auto_heal: {max_attempts: 1}}\n", "?dry_run=true");
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ version: 2, dry_run: true });
    expect((await api.call("GET", "/v1/fleet-policy", CLIENT)).body.fleet_policy.version).toBe(1);
    const bad = await put(ADMIN, "rules: {max_attempts_at_most: 0}\n");
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("rules.max_attempts_at_most");
  }, 300_000);
});
