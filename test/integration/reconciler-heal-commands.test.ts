import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { desiredStack } from "../support/core-spec.js";
import { providerEventValue, resourceEventValue } from "../support/events.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

interface HealCommand {
  command_key: string;
  action: string;
  params_json: string;
  attempt: number;
  drift_id: string;
}
interface Audit {
  action: string;
  reason: string | null;
}

describe("heal commands on the real broker", () => {
  let h: Harness;
  let commands: Collector<HealCommand>;
  let audit: Collector<Audit>;
  beforeAll(async () => {
    h = await createHarness(3);
    await h.startReconciler();
    commands = await collectTopic(h.ctx.kafka, h.ctx.names["heal-commands"], "HealCommand", h.ctx.serde);
    audit = await collectTopic(h.ctx.kafka, h.ctx.names.audit, "AuditEntry", h.ctx.serde);
  });
  afterAll(async () => {
    await commands?.stop();
    await audit?.stop();
    await h?.close();
  });

  it("emits one heal command for an allowed drift in the drift's transaction, and none for its duplicates", async () => {
    const now = Date.now();
    const base = desiredStack();
    const desired = desiredStack({
      client_id: "healme",
      stack_id: "web",
      applied_at: new Date(now).toISOString(),
      build_project: "healme-site",
      resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:healme", ignore_paths: [] }],
      policy: {
        ...base.policy,
        auto_heal: {
          ...base.policy.auto_heal,
          enabled: true,
          allowed_drift_types: ["resource_unhealthy"],
          backoff_base_seconds: 3600,
        },
      },
    });
    await h.produce("desired-state", "DesiredState", "healme/web", [desiredToAvro(desired)]);
    await h.produce("provider-events", "ProviderEvent", "healme", [
      providerEventValue({
        client_id: "healme",
        environment: "prod",
        provider_name: "sanity",
        event_type: "provider.heartbeat",
        at: new Date(now),
      }),
    ]);
    const bad = resourceEventValue({
      client_id: "healme",
      environment: "prod",
      resource_name: "db",
      status: "unhealthy",
      at: new Date(now + 1000),
    });
    await h.produce("resource-events", "ResourceEvent", "healme", [bad, bad]);
    const items = await commands.waitFor((i) => i.length >= 1, 30_000, "a heal command");
    await audit.waitFor(
      (i) => i.some((a) => a.value?.action === "heal_command_issued"),
      30_000,
      "the audit of the command",
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(items).toHaveLength(1);
    expect(items[0]!.key).toBe("healme");
    expect(items[0]!.value).toMatchObject({ action: "resource.rebuild", attempt: 1 });
    expect(JSON.parse(items[0]!.value!.params_json)).toMatchObject({
      resource: "db",
      arn: "arn:aws:rds:eu-west-1:1:db:healme",
      project: "healme-site",
    });
  });
});
