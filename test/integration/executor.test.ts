import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import type { ExecutorRunner } from "../../src/executor/executor-runner.js";
import { parseRate, RateBudgets } from "../../src/executor/rate-budget.js";
import { GlobalBreaker } from "../../src/executor/global-breaker.js";
import { buildsOf, codebuildClient, createBuildProject } from "../support/aws.js";
import { desiredStack } from "../support/core-spec.js";
import { healCommandValue, providerEventValue, resourceEventValue } from "../support/events.js";
import { startTestExecutor } from "../support/executor-harness.js";
import { startFakeIntegrationApi, type FakeIntegrationApi } from "../support/integration-api-server.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";

interface HealResult {
  command_key: string;
  status: string;
  error_message: string | null;
  details_json: string;
  started_at: string;
  attempt: number;
}
interface Audit {
  action: string;
  drift_id: string | null;
  success: boolean;
  triggered_by: string;
  changes_made_json: string;
}
interface DriftEvent {
  drift_id: string;
  transition: string;
  drift_type: string;
}

describe("executors on the real broker, CodeBuild on moto, a local Integration API", () => {
  let h: Harness;
  let api: FakeIntegrationApi;
  let cb: CodeBuildClient;
  let executor: ExecutorRunner;
  let results: Collector<HealResult>;
  let audit: Collector<Audit>;
  let dlq: Collector<Buffer>;

  beforeAll(async () => {
    h = await createHarness(3);
    api = await startFakeIntegrationApi();
    cb = codebuildClient();
    executor = await startTestExecutor(h, api.url);
    results = await collectTopic(h.ctx.kafka, h.ctx.names["heal-results"], "HealResult", h.ctx.serde);
    audit = await collectTopic(h.ctx.kafka, h.ctx.names.audit, "AuditEntry", h.ctx.serde);
    dlq = await collectTopic(h.ctx.kafka, h.ctx.names.dlq, "raw");
  });
  afterAll(async () => {
    await executor?.stop();
    for (const c of [results, audit, dlq]) await c?.stop();
    await api?.close();
    cb?.destroy();
    await h?.close();
  });

  const resultsOf = (key: string) => results.values().filter((r) => r.command_key === key);

  it("heals an unhealthy resource end to end: one CodeBuild build, its results, the drift resolved by observation, the audit chain", async () => {
    const project = await createBuildProject(cb);
    const drifts = await collectTopic<DriftEvent>(h.ctx.kafka, h.ctx.names["drift-events"], "DriftEvent", h.ctx.serde);
    await h.startReconciler();
    const now = Date.now();
    const base = desiredStack();
    const desired = desiredStack({
      client_id: "rebuildme",
      stack_id: "web",
      applied_at: new Date(now).toISOString(),
      build_project: project,
      resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:rebuildme", ignore_paths: [] }],
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
    await h.produce("desired-state", "DesiredState", "rebuildme/web", [desiredToAvro(desired)]);
    await h.produce("provider-events", "ProviderEvent", "rebuildme", [
      providerEventValue({
        client_id: "rebuildme",
        environment: "prod",
        provider_name: "sanity",
        event_type: "provider.heartbeat",
        at: new Date(now),
      }),
    ]);
    await h.produce("resource-events", "ResourceEvent", "rebuildme", [
      resourceEventValue({
        client_id: "rebuildme",
        environment: "prod",
        resource_name: "db",
        status: "unhealthy",
        at: new Date(now + 1000),
      }),
    ]);

    const opened = await drifts.waitFor(
      (i) => i.some((d) => d.value?.transition === "opened"),
      30_000,
      "the drift opening",
    );
    const driftId = opened.find((d) => d.value?.transition === "opened")!.value!.drift_id;
    await results.waitFor(
      () => results.values().some((r) => r.status === "succeeded" && JSON.parse(r.details_json).build_id),
      30_000,
      "the build's success",
    );
    const started = results.values().find((r) => r.status === "started")!;
    const buildId = JSON.parse(started.details_json).build_id as string;
    expect(buildId).toMatch(new RegExp(`^${project}:`));
    expect(await buildsOf(cb, project)).toEqual([buildId]);

    await h.produce("resource-events", "ResourceEvent", "rebuildme", [
      resourceEventValue({
        client_id: "rebuildme",
        environment: "prod",
        resource_name: "db",
        status: "healthy",
        at: new Date(now + 60_000),
      }),
    ]);
    await drifts.waitFor(
      (i) => i.some((d) => d.value?.drift_id === driftId && d.value.transition === "resolved"),
      30_000,
      "the drift resolved",
    );
    const chain = audit
      .values()
      .filter((a) => a.drift_id === driftId)
      .map((a) => a.action);
    expect(chain).toEqual(
      expect.arrayContaining(["heal_command_issued", "resource.rebuild:started", "resource.rebuild:succeeded"]),
    );
    expect(chain.indexOf("heal_command_issued")).toBeLessThan(chain.indexOf("resource.rebuild:started"));
    expect(await buildsOf(cb, project)).toHaveLength(1);
    await drifts.stop();
  });

  it("acts once on a command delivered twice", async () => {
    const project = await createBuildProject(cb);
    const cmd = healCommandValue({
      client_id: "twice",
      action: "site.rebuild",
      params: { project, reason: "content" },
    });
    await h.produce("heal-commands", "HealCommand", "twice", [cmd, cmd]);
    await results.waitFor(
      () => resultsOf(cmd.command_key).some((r) => r.status === "started"),
      30_000,
      "the started result",
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await buildsOf(cb, project)).toHaveLength(1);
    expect(resultsOf(cmd.command_key).filter((r) => r.status === "started")).toHaveLength(1);
  });

  it("calls the Integration API, retrying 5xx and giving up on 4xx with the API's answer", async () => {
    api.script([503, 502]);
    const register = healCommandValue({
      client_id: "api",
      action: "provider.register",
      params: { provider_type: "cms", provider_name: "sanity" },
    });
    await h.produce("heal-commands", "HealCommand", "api", [register]);
    await results.waitFor(() => resultsOf(register.command_key).length > 0, 30_000, "the register result");
    expect(resultsOf(register.command_key)[0]).toMatchObject({ status: "succeeded" });
    expect(JSON.parse(resultsOf(register.command_key)[0]!.details_json)).toMatchObject({
      http_status: 200,
      attempts: 3,
    });
    const posts = api.calls.filter((c) => c.path === "/providers/register");
    expect(posts).toHaveLength(3);
    expect(posts[2]!.body).toEqual({
      client_id: "api",
      stack_id: "web",
      provider_type: "cms",
      provider_name: "sanity",
    });
    expect(posts[2]!.headers["idempotency-key"]).toBe(register.command_key);

    api.script([422]);
    const configure = healCommandValue({
      client_id: "api",
      action: "integration.configure",
      params: { integration: "shopify-products", configuration: { format: "json" } },
    });
    await h.produce("heal-commands", "HealCommand", "api", [configure]);
    await results.waitFor(() => resultsOf(configure.command_key).length > 0, 30_000, "the configure result");
    expect(resultsOf(configure.command_key)[0]).toMatchObject({
      status: "failed",
      error_message: expect.stringContaining(
        "PUT /integrations/shopify-products?client_id=api&stack_id=web answered 422",
      ),
    });
    expect(
      api.calls
        .filter((c) => c.path === "/integrations/shopify-products?client_id=api&stack_id=web")
        .map((c) => c.body),
    ).toEqual([{ format: "json" }]);
    const failedAudit = await audit.waitFor(
      (i) => i.some((a) => a.value?.action === "integration.configure:failed"),
      10_000,
      "the failure audit",
    );
    expect(failedAudit.find((a) => a.value?.action === "integration.configure:failed")!.value).toMatchObject({
      success: false,
      triggered_by: "policy",
    });
  });

  it("sends an undecodable or unactionable command to the DLQ with the reason and keeps going", async () => {
    const project = await createBuildProject(cb);
    const topic = h.ctx.names["heal-commands"];
    const producer = await h.ctx.kafka.producer();
    const garbage = { key: "bad", value: Buffer.from("not avro at all") };
    const badParams = {
      key: "bad",
      value: h.ctx.serde.encode(topic, "HealCommand", {
        ...healCommandValue({ client_id: "bad", action: "site.rebuild", params: {} }),
        params_json: "[1,2]",
      }),
    };
    const good = healCommandValue({ client_id: "bad", action: "site.rebuild", params: { project } });
    await producer.send(
      [garbage, badParams, { key: "bad", value: h.ctx.serde.encode(topic, "HealCommand", good) }].map((m) => ({
        topic,
        ...m,
      })),
    );
    await producer.disconnect();
    await results.waitFor(
      () => resultsOf(good.command_key).some((r) => r.status === "started"),
      30_000,
      "the good command's result",
    );
    const dead = await dlq.waitFor(
      (i) => i.filter((d) => d.headers["blackwell.source.topic"] === topic).length >= 2,
      10_000,
      "two DLQ records",
    );
    const reasons = dead
      .filter((d) => d.headers["blackwell.source.topic"] === topic)
      .map((d) => d.headers["blackwell.error.message"]);
    expect(reasons.some((r) => /magic byte|wire format|decode/i.test(r!))).toBe(true);
    expect(reasons).toContain("params_json must be a JSON object");
    expect(await buildsOf(cb, project)).toHaveLength(1);
  });

  it("does not act before not_before", async () => {
    const project = await createBuildProject(cb);
    const notBefore = new Date(Date.now() + 3000);
    const cmd = healCommandValue({
      client_id: "later",
      action: "site.rebuild",
      params: { project },
      not_before: notBefore,
    });
    await h.produce("heal-commands", "HealCommand", "later", [cmd]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await buildsOf(cb, project)).toHaveLength(0);
    await results.waitFor(() => resultsOf(cmd.command_key).length > 0, 30_000, "the deferred result");
    expect(Date.parse(resultsOf(cmd.command_key)[0]!.started_at)).toBeGreaterThanOrEqual(notBefore.getTime());
    expect(await buildsOf(cb, project)).toHaveLength(1);
  });
});

describe("executor rate budgets on the real broker", () => {
  it("holds a noisy client's commands beyond its share while another client's go through", async () => {
    const h = await createHarness(1); // one partition: both clients share it, the hardest case for fairness
    const cb = codebuildClient();
    const executor = await startTestExecutor(h, null, {
      budgets: new RateBudgets(() => ({ total: parseRate("10/min"), perClient: parseRate("2/min") })),
    });
    const results = await collectTopic<HealResult>(h.ctx.kafka, h.ctx.names["heal-results"], "HealResult", h.ctx.serde);
    try {
      const noisyProject = await createBuildProject(cb);
      const quietProject = await createBuildProject(cb);
      const noisy = [1, 2, 3].map(() =>
        healCommandValue({ client_id: "noisy", action: "site.rebuild", params: { project: noisyProject } }),
      );
      await h.produce("heal-commands", "HealCommand", "noisy", noisy);
      const quiet = healCommandValue({ client_id: "quiet", action: "site.rebuild", params: { project: quietProject } });
      await h.produce("heal-commands", "HealCommand", "quiet", [quiet]);
      await results.waitFor(
        (i) => i.filter((r) => r.value?.status === "started").length >= 2,
        30_000,
        "two started builds",
      );
      await new Promise((r) => setTimeout(r, 2000));
      expect(await buildsOf(cb, noisyProject)).toHaveLength(2);
      expect(results.values().filter((r) => r.command_key === noisy[2]!.command_key)).toHaveLength(0);
    } finally {
      await executor.stop();
      await results.stop();
      cb.destroy();
      await h.close();
    }
  });

  it("holds every client's heals once the global circuit breaker opens, and audits why", async () => {
    const h = await createHarness(3);
    const cb = codebuildClient();
    const executor = await startTestExecutor(h, null, { breaker: new GlobalBreaker(2, 60_000) });
    const results = await collectTopic<HealResult>(h.ctx.kafka, h.ctx.names["heal-results"], "HealResult", h.ctx.serde);
    const audit = await collectTopic<Audit & { client_id: string; reason: string }>(
      h.ctx.kafka,
      h.ctx.names.audit,
      "AuditEntry",
      h.ctx.serde,
    );
    try {
      const project = await createBuildProject(cb);
      for (const client of ["one", "two", "three"]) {
        await h.produce("heal-commands", "HealCommand", client, [
          healCommandValue({ client_id: client, action: "site.rebuild", params: { project } }),
        ]);
        await results.waitFor((i) => i.length >= 1 || client === "three", 30_000, "a result");
      }
      await audit.waitFor(
        (i) => i.some((a) => a.value?.action === "global_circuit_breaker_open"),
        30_000,
        "the breaker's audit",
      );
      await new Promise((r) => setTimeout(r, 2000));
      expect(await buildsOf(cb, project)).toHaveLength(2);
      const open = audit.values().filter((a) => a.action === "global_circuit_breaker_open");
      expect(open).toHaveLength(1);
      expect(open[0]!.reason).toContain("2 heal actions by the executors within 60s");
    } finally {
      await executor.stop();
      await results.stop();
      await audit.stop();
      cb.destroy();
      await h.close();
    }
  });

  it("holds heals at the limit across two executors: the breaker counts the fleet, not one instance", async () => {
    const h = await createHarness(4);
    const cb = codebuildClient();
    const first = await startTestExecutor(h, null, { breaker: new GlobalBreaker(3, 60_000), executorId: "exec-1" });
    const second = await startTestExecutor(h, null, { breaker: new GlobalBreaker(3, 60_000), executorId: "exec-2" });
    const results = await collectTopic<HealResult & { client_id: string }>(
      h.ctx.kafka,
      h.ctx.names["heal-results"],
      "HealResult",
      h.ctx.serde,
    );
    const audit = await collectTopic<Audit & { executor?: string }>(
      h.ctx.kafka,
      h.ctx.names.audit,
      "AuditEntry",
      h.ctx.serde,
    );
    try {
      await new Promise((r) => setTimeout(r, 3000)); // both executors in the group, with two partitions each
      const project = await createBuildProject(cb);
      const clients = Array.from({ length: 10 }, (_, i) => `fleet-${i}`);
      for (const client of clients.slice(0, 3)) {
        await h.produce("heal-commands", "HealCommand", client, [
          healCommandValue({ client_id: client, action: "site.rebuild", params: { project } }),
        ]);
        await results.waitFor((i) => i.some((r) => r.value?.client_id === client), 30_000, `the heal of ${client}`);
      }
      await new Promise((r) => setTimeout(r, 1000)); // each executor's fleet feed has seen the other's actions
      for (const client of clients.slice(3)) {
        await h.produce("heal-commands", "HealCommand", client, [
          healCommandValue({ client_id: client, action: "site.rebuild", params: { project } }),
        ]);
      }
      await audit.waitFor(
        (i) => i.some((a) => a.value?.action === "global_circuit_breaker_open"),
        30_000,
        "the breaker's audit",
      );
      await new Promise((r) => setTimeout(r, 2000));
      expect(await buildsOf(cb, project)).toHaveLength(3);
      expect(new Set(results.values().map((r) => r.client_id))).toEqual(new Set(clients.slice(0, 3)));
      // The later commands landed on both executors' partitions, and both held them.
      const heldBy = new Set(
        audit
          .values()
          .filter((a) => a.action === "global_circuit_breaker_open")
          .map((a) => JSON.stringify(a).match(/exec-\d/)?.[0]),
      );
      expect(heldBy).toEqual(new Set(["exec-1", "exec-2"]));
    } finally {
      await first.stop();
      await second.stop();
      await results.stop();
      await audit.stop();
      cb.destroy();
      await h.close();
    }
  });
});
