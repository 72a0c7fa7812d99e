import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import type { ExecutorRunner } from "../../src/executor/executor-runner.js";
import { buildsOf, codebuildClient, createBuildProject } from "../support/aws.js";
import { desiredStack } from "../support/core-spec.js";
import { providerEventValue, resourceEventValue } from "../support/events.js";
import { startTestExecutor } from "../support/executor-harness.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";

interface HealCommand {
  action: string;
  command_key: string;
  client_id: string;
  attempt: number;
  not_before: string;
  issued_at: string;
}
interface HealResult {
  client_id: string;
  status: string;
  error_message: string | null;
  attempt: number;
}
interface StateRecord {
  client_id: string;
  status: string;
  drift_details: Array<{ severity: string }>;
}

describe("runaway guards on the real broker, with executors and CodeBuild on moto", () => {
  let h: Harness;
  let cb: CodeBuildClient;
  let executor: ExecutorRunner;
  let commands: Collector<HealCommand>;

  beforeAll(async () => {
    h = await createHarness(3);
    await h.startReconciler({ wallClockTicks: true, tickIntervalMs: 200, idleMs: 300 });
    cb = codebuildClient();
    executor = await startTestExecutor(h, null);
    commands = await collectTopic(h.ctx.kafka, h.ctx.names["heal-commands"], "HealCommand", h.ctx.serde);
  });
  afterAll(async () => {
    await executor?.stop();
    await commands?.stop();
    cb?.destroy();
    await h?.close();
  });

  it("turns twenty content publishes within the quiet period into one site rebuild", async () => {
    const project = await createBuildProject(cb);
    const base = desiredStack();
    const now = Date.now();
    await h.produce("desired-state", "DesiredState", "publisher/site", [
      desiredToAvro(
        desiredStack({
          client_id: "publisher",
          stack_id: "site",
          applied_at: new Date(now).toISOString(),
          build_project: project,
          content_types: ["product"],
          providers: { cms: "sanity", ecommerce: null, ssg: null },
          staleness: { ...base.staleness, content_grace_seconds: 1 },
          policy: {
            ...base.policy,
            auto_heal: {
              ...base.policy.auto_heal,
              enabled: true,
              allowed_drift_types: ["site_stale"],
              backoff_base_seconds: 3600,
              content_quiet_period_seconds: 3,
            },
          },
        }),
      ),
    ]);
    await h.produce("provider-events", "ProviderEvent", "publisher", [
      providerEventValue({
        client_id: "publisher",
        environment: "prod",
        provider_name: "sanity",
        event_type: "provider.heartbeat",
        at: new Date(now),
      }),
    ]);
    for (let i = 0; i < 20; i++) {
      await h.produce("provider-events", "ProviderEvent", "publisher", [
        providerEventValue({
          client_id: "publisher",
          environment: "prod",
          provider_name: "sanity",
          event_type: "content.published",
          content_type: "product",
          content_id: `product-${i}`,
          at: new Date(Date.now()),
        }),
      ]);
      await new Promise((r) => setTimeout(r, 100));
    }
    const lastPublish = Date.now();
    await commands.waitFor((i) => i.some((c) => c.value?.client_id === "publisher"), 30_000, "the rebuild command");
    expect(Date.now() - lastPublish).toBeGreaterThanOrEqual(2500); // it waited for the quiet period
    const deadline = Date.now() + 10_000;
    while ((await buildsOf(cb, project)).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 3000)); // a second rebuild would show up by now
    expect(
      commands
        .values()
        .filter((c) => c.client_id === "publisher")
        .map((c) => c.action),
    ).toEqual(["site.rebuild"]);
    expect(await buildsOf(cb, project)).toHaveLength(1);
  });

  it("stops a heal that keeps failing at max attempts, spaced by the backoff, and puts the stack in error", async () => {
    const results = await collectTopic<HealResult>(h.ctx.kafka, h.ctx.names["heal-results"], "HealResult", h.ctx.serde);
    const states = await collectTopic<StateRecord>(h.ctx.kafka, h.ctx.names["stack-state"], "StateRecord", h.ctx.serde);
    try {
      const base = desiredStack();
      const now = Date.now();
      await h.produce("desired-state", "DesiredState", "failing/web", [
        desiredToAvro(
          desiredStack({
            client_id: "failing",
            stack_id: "web",
            applied_at: new Date(now).toISOString(),
            build_project: "no-such-project",
            resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:failing", ignore_paths: [] }],
            policy: {
              ...base.policy,
              auto_heal: {
                ...base.policy.auto_heal,
                enabled: true,
                allowed_drift_types: ["resource_unhealthy"],
                max_attempts: 3,
                backoff_strategy: "exponential",
                backoff_base_seconds: 1,
                backoff_cap_seconds: 60,
              },
            },
          }),
        ),
      ]);
      await h.produce("provider-events", "ProviderEvent", "failing", [
        providerEventValue({
          client_id: "failing",
          environment: "prod",
          provider_name: "sanity",
          event_type: "provider.heartbeat",
          at: new Date(now),
        }),
      ]);
      await h.produce("resource-events", "ResourceEvent", "failing", [
        resourceEventValue({
          client_id: "failing",
          environment: "prod",
          resource_name: "db",
          status: "unhealthy",
          at: new Date(now),
        }),
      ]);
      await states.waitFor(
        (i) => i.some((s) => s.value?.client_id === "failing" && s.value.status === "error"),
        30_000,
        "the stack in error",
      );
      const mine = commands.values().filter((c) => c.client_id === "failing");
      expect(mine.map((c) => c.attempt)).toEqual([1, 2, 3]);
      const issued = mine.map((c) => Date.parse(c.not_before));
      expect(issued[1]! - Date.parse(mine[0]!.issued_at)).toBe(1000); // base
      expect(issued[2]! - Date.parse(mine[1]!.issued_at)).toBe(2000); // exponential
      await results.waitFor(
        (i) => i.filter((r) => r.value?.client_id === "failing").length >= 3,
        10_000,
        "three failed results",
      );
      expect(
        results
          .values()
          .filter((r) => r.client_id === "failing")
          .map((r) => [r.attempt, r.status]),
      ).toEqual([
        [1, "failed"],
        [2, "failed"],
        [3, "failed"],
      ]);
      expect(results.values().find((r) => r.client_id === "failing")!.error_message).toContain("no-such-project");
      const last = states
        .values()
        .filter((s) => s.client_id === "failing")
        .at(-1)!;
      expect(last.drift_details[0]!.severity).toBe("critical");
      await new Promise((r) => setTimeout(r, 3000));
      expect(commands.values().filter((c) => c.client_id === "failing")).toHaveLength(3);
    } finally {
      await results.stop();
      await states.stop();
    }
  });
});
