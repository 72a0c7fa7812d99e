import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { TokenAuth } from "../../src/api/auth.js";
import { Replica } from "../../src/api/replica.js";
import { buildApi } from "../../src/api/server.js";
import { CodeBuild } from "../../src/executor/codebuild.js";
import { ExecutorRunner } from "../../src/executor/executor-runner.js";
import { parseRate, RateBudgets } from "../../src/executor/rate-budget.js";
import { parseWebhookConfig } from "../../src/gateway/webhook-config.js";
import { startLocalInfra, stopLocalInfra, stopLocalKafka, type LocalInfraInfo } from "../../src/infra/local-infra.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { createAppContext, type AppContext } from "../../src/runtime/app-context.js";
import { ReconcilerRunner } from "../../src/runtime/reconciler-runner.js";
import { buildsOf, createBuildProject } from "../support/aws.js";
import { desiredStack } from "../support/core-spec.js";
import { healCommandValue, resourceEventValue } from "../support/events.js";
import { collectTopic } from "../support/topic-collector.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SECRET = "restart-secret-0123456789";

/** Its own broker, registry and moto: stopping this broker must not disturb the other tests of the run. */
describe("a broker restart in the middle of the stream", () => {
  const dir = mkdtempSync(join(tmpdir(), "blackwell-restart-"));
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  let info: LocalInfraInfo;
  let ctx: AppContext;

  beforeAll(async () => {
    info = await startLocalInfra({ root: ROOT, dir });
    ctx = await createAppContext(
      {
        brokers: [info.brokers],
        registryUrl: info.registryUrl,
        topicPrefix: "restart.",
        partitions: 3,
        replicationFactor: 1,
        clientId: "restart-test",
      },
      log,
    );
  }, 180_000);
  afterAll(async () => {
    await ctx?.close().catch(() => {});
    await stopLocalInfra(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 503 while Kafka is down; reconciler, executor, API and gateway reconnect by themselves; nothing accepted is lost", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "blackwell-restart-state-"));
    const reconciler = new ReconcilerRunner({
      kafka: ctx.kafka,
      admin: ctx.admin,
      serde: ctx.serde,
      names: ctx.names,
      partitions: 3,
      applicationId: "restart-reconciler",
      stateDir,
      log,
      wallClockTicks: false,
    });
    await reconciler.start();
    const replica = new Replica({
      kafka: ctx.kafka,
      admin: ctx.admin,
      serde: ctx.serde,
      names: ctx.names,
      log,
      path: join(stateDir, "api.db"),
      groupId: "restart-api",
    });
    await replica.start();
    const producer = await ctx.kafka.producer();
    const gateway = await ctx.kafka.producer({ fastFail: true });
    const webhooks = parseWebhookConfig(
      `sources:\n  - {provider: generic, match: steady, client_id: steady, environment: prod, secret: "${SECRET}"}\n`,
      "webhooks.yaml",
    );
    const app = await buildApi({
      ctx,
      replica,
      auth: new TokenAuth(`root@*:${"r".repeat(20)}`),
      metrics: createMetrics(),
      producer,
      log,
      webhooks: { config: webhooks, producer: gateway },
    });
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    // CodeBuild on this test's own moto server, which stays up while the broker is down.
    const cb = new CodeBuildClient({
      endpoint: info.awsEndpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const executor = new ExecutorRunner({
      kafka: ctx.kafka,
      admin: ctx.admin,
      serde: ctx.serde,
      names: ctx.names,
      partitions: 3,
      targets: { codebuild: new CodeBuild(cb), integrationApi: null },
      budgets: new RateBudgets(() => ({ total: parseRate("100/s"), perClient: parseRate("100/s") })),
      log,
      groupId: "restart-executor",
      watchIntervalMs: 200,
      sessionTimeoutMs: 6000,
    });
    await executor.start();
    const project = await createBuildProject(cb);
    const results = await collectTopic<{ command_key: string; status: string }>(
      ctx.kafka,
      ctx.names["heal-results"],
      "HealResult",
      ctx.serde,
    );
    const heal = async (key: string) => {
      await producer.send([
        {
          topic: ctx.names["heal-commands"],
          key: "steady",
          value: ctx.serde.encode(
            ctx.names["heal-commands"],
            "HealCommand",
            healCommandValue({ client_id: "steady", action: "site.rebuild", params: { project }, command_key: key }),
          ),
        },
      ]);
      await results.waitFor(
        (i) => i.some((r) => r.value?.command_key === key),
        120_000,
        `the executor's result for ${key}`,
      );
    };
    const drift = await collectTopic<{ transition: string }>(
      ctx.kafka,
      ctx.names["drift-events"],
      "DriftEvent",
      ctx.serde,
    );
    const events = await collectTopic<{ event_id: string }>(
      ctx.kafka,
      ctx.names["provider-events"],
      "ProviderEvent",
      ctx.serde,
    );
    const accepted: string[] = [];
    const refused: number[] = [];
    let seq = 0;
    const webhook = async () => {
      const id = `evt-${++seq}`;
      const body = JSON.stringify({
        event_id: id,
        event_type: "content.published",
        provider_name: "sanity",
        content_type: "page",
        content_id: id,
      });
      const t = Math.floor(Date.now() / 1000);
      const res = await fetch(`${url}/webhooks/generic`, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "x-blackwell-client": "steady",
          "x-blackwell-signature": `t=${t},v1=${createHmac("sha256", SECRET).update(`${t}.${body}`).digest("hex")}`,
        },
      }).catch(() => null);
      if (res?.status === 202) accepted.push(id);
      else refused.push(res?.status ?? 0);
      return res?.status ?? 0;
    };
    try {
      const base = Date.now();
      await producer.send([
        {
          topic: ctx.names["desired-state"],
          key: "steady/web",
          value: ctx.serde.encode(
            ctx.names["desired-state"],
            "DesiredState",
            desiredToAvro(
              desiredStack({
                client_id: "steady",
                stack_id: "web",
                applied_at: new Date(base).toISOString(),
                providers: { cms: null, ecommerce: null, ssg: null },
                resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:s", ignore_paths: [] }],
              }),
            ),
          ),
        },
      ]);
      const flip = (status: string, at: number) =>
        producer.send([
          {
            topic: ctx.names["resource-events"],
            key: "steady",
            value: ctx.serde.encode(
              ctx.names["resource-events"],
              "ResourceEvent",
              resourceEventValue({
                client_id: "steady",
                environment: "prod",
                resource_name: "db",
                status,
                at: new Date(at),
              }),
            ),
          },
        ]);
      for (let i = 0; i < 10; i++) expect(await webhook()).toBe(202);
      await flip("unhealthy", base + 1000);
      await drift.waitFor((i) => i.length >= 1, 30_000, "the first drift");
      await heal("before-the-outage");

      await stopLocalKafka(dir);
      const downAt = Date.now();
      const during: number[] = [];
      let slowest = 0;
      while (Date.now() - downAt < 15_000) {
        const t0 = Date.now();
        during.push(await webhook());
        slowest = Math.max(slowest, Date.now() - t0);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(during.length).toBeGreaterThanOrEqual(2);
      expect(during.every((s) => s === 503)).toBe(true);
      expect(slowest).toBeLessThan(15_000); // senders get their 503 in time to retry

      info = await startLocalInfra({ root: ROOT, dir });
      const upAt = Date.now();
      let firstAccepted: number | null = null;
      while (firstAccepted === null && Date.now() - upAt < 120_000) {
        if ((await webhook()) === 202) firstAccepted = Date.now();
        else await new Promise((r) => setTimeout(r, 500));
      }
      expect(firstAccepted).not.toBeNull();
      await flip("healthy", base + 60_000);
      await drift.waitFor(
        (i) => i.some((d) => d.value?.transition === "resolved"),
        120_000,
        "the reconciler back at work",
      );
      const reconcilerBack = Date.now();
      await createBuildProject(cb, project).catch(() => {}); // moto came back empty with the rest of the infrastructure
      await heal("after-the-outage");
      const executorBack = Date.now();
      expect(await buildsOf(cb, project)).toHaveLength(1);
      expect(
        results
          .values()
          .filter((r) => r.command_key === "after-the-outage")
          .map((r) => r.status),
      ).toContain("started");
      for (let i = 0; i < 10; i++) expect(await webhook()).toBe(202);
      await events.waitFor(
        (i) => accepted.every((id) => i.some((e) => e.value?.event_id === id)),
        60_000,
        "every accepted webhook on the topic",
      );
      const stored = new Set(events.values().map((e) => e.event_id));
      const lost = accepted.filter((id) => !stored.has(id));
      console.log(
        `[broker-restart] down ${((upAt - downAt) / 1000).toFixed(1)} s; slowest 503 ${slowest} ms; gateway accepting again ${((firstAccepted! - upAt) / 1000).toFixed(1)} s after the broker start; reconciler processing again ${((reconcilerBack - upAt) / 1000).toFixed(1)} s after; executor acting again ${((executorBack - upAt) / 1000).toFixed(1)} s after (a command sent once the reconciler was back); accepted ${accepted.length}, refused with 503 ${refused.filter((s) => s === 503).length}, on the topic ${accepted.length - lost.length}, lost ${lost.length}`,
      );
      expect(lost).toEqual([]);
      expect(refused.every((s) => s === 503)).toBe(true);
    } finally {
      await drift.stop().catch(() => {});
      await events.stop().catch(() => {});
      await results.stop().catch(() => {});
      await executor.stop();
      cb.destroy();
      await app.close();
      await gateway.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
      await replica.stop().catch(() => {});
      await reconciler.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
});
