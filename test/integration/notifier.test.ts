import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { NotifierRunner } from "../../src/notifier/notifier-runner.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { desiredStack } from "../support/core-spec.js";
import { providerEventValue, resourceEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

interface Received {
  path: string;
  body: { text?: string; transition?: string; severity?: string; drift_type?: string };
  idempotencyKey: string;
}

describe("the notifier on the real broker, with local Slack and webhook receivers", () => {
  let h: Harness;
  let server: Server;
  let url: string;
  const received: Received[] = [];
  const failNext: Record<string, number> = {};
  let notifier: NotifierRunner;
  const metrics = createMetrics();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = "";
      req.on("data", (c: Buffer) => {
        raw += c.toString();
      });
      req.on("end", () => {
        const path = req.url ?? "";
        if ((failNext[path] ?? 0) > 0) {
          failNext[path]!--;
          res.writeHead(503).end();
          return;
        }
        received.push({
          path,
          body: JSON.parse(raw) as Received["body"],
          idempotencyKey: String(req.headers["idempotency-key"]),
        });
        res.writeHead(path === "/gone" ? 410 : 200).end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    h = await createHarness(3);
    const base = desiredStack();
    await h.produce("desired-state", "DesiredState", "notify-me/web", [
      desiredToAvro(
        desiredStack({
          client_id: "notify-me",
          stack_id: "web",
          applied_at: new Date().toISOString(),
          providers: { cms: "sanity", ecommerce: null, ssg: null },
          resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:n", ignore_paths: [] }],
          policy: {
            ...base.policy,
            notifications: {
              channels: [
                { type: "slack", webhook_url: `${url}/slack`, addresses: [], severity_threshold: "high" },
                { type: "webhook", webhook_url: `${url}/pager`, addresses: [], severity_threshold: "critical" },
                { type: "email", webhook_url: null, addresses: ["ops@example.com"], severity_threshold: "low" },
              ],
            },
          },
        }),
      ),
    ]);
    await h.startReconciler();
    notifier = new NotifierRunner({
      kafka: h.ctx.kafka,
      admin: h.ctx.admin,
      serde: h.ctx.serde,
      names: h.ctx.names,
      metrics,
      log: pino({ level: "silent" }),
      groupId: `${h.config.topicPrefix}notifier`,
      retryBaseMs: 50,
    });
    await notifier.start();
  });
  afterAll(async () => {
    await notifier?.stop();
    await h?.close();
    await new Promise((r) => server.close(() => r(undefined)));
  });

  const waitFor = async (what: string, ok: () => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(received)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it("sends each transition to the channels whose threshold it reaches, once, retrying 5xx", async () => {
    const now = Date.now();
    failNext["/slack"] = 2; // the first delivery is retried twice
    await h.produce("provider-events", "ProviderEvent", "notify-me", [
      providerEventValue({
        client_id: "notify-me",
        environment: "prod",
        provider_name: "sanity",
        event_type: "provider.heartbeat",
        at: new Date(now),
      }),
    ]);
    const bad = resourceEventValue({
      client_id: "notify-me",
      environment: "prod",
      resource_name: "db",
      status: "unhealthy",
      at: new Date(now + 1000),
    });
    await h.produce("resource-events", "ResourceEvent", "notify-me", [bad, bad]); // a duplicate event: still one transition
    await waitFor("the high resource drift on slack", () => received.some((r) => r.path === "/slack"));
    // A critical provider drift reaches both channels.
    await h.produce("provider-events", "ProviderEvent", "notify-me", [
      providerEventValue({
        client_id: "notify-me",
        environment: "prod",
        provider_name: "contentful",
        event_type: "provider.connected",
        at: new Date(now + 2000),
      }),
    ]);
    await waitFor("the critical drift on the pager", () => received.some((r) => r.path === "/pager"));
    await new Promise((r) => setTimeout(r, 1000));
    const slack = received.filter((r) => r.path === "/slack");
    const pager = received.filter((r) => r.path === "/pager");
    expect(slack).toHaveLength(2);
    expect(slack[0]!.body.text).toMatch(/^:rotating_light: \*HIGH\* drift opened: notify-me\/web resource\/db/);
    expect(slack[1]!.body.text).toContain("*CRITICAL* drift opened: notify-me/web provider/cms");
    expect(pager).toHaveLength(1);
    expect(pager[0]!.body).toMatchObject({ transition: "opened", severity: "critical", drift_type: "provider" });
    expect(new Set(received.map((r) => r.idempotencyKey)).size).toBe(2);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/notifications_total\{channel="slack",outcome="sent"\} 2/);
    expect(text).toMatch(/notifications_total\{channel="email",outcome="unsupported"\} \d/);
  });

  it("with two notifiers in the group, knows the channels of stacks declared after it started, whichever instance owns them, past undecodable desired states", async () => {
    const second = new NotifierRunner({
      kafka: h.ctx.kafka,
      admin: h.ctx.admin,
      serde: h.ctx.serde,
      names: h.ctx.names,
      metrics: createMetrics(),
      log: pino({ level: "silent" }),
      groupId: `${h.config.topicPrefix}notifier`,
      retryBaseMs: 50,
    });
    await second.start();
    try {
      await new Promise((r) => setTimeout(r, 3000)); // both members in the group
      const late = Array.from({ length: 6 }, (_, i) => `late-${i}`);
      const raw = await h.ctx.kafka.producer();
      await raw.send(
        late.map((c) => ({
          topic: h.ctx.names["desired-state"],
          key: `${c}/broken`,
          value: Buffer.from("not avro at all"),
        })),
      );
      await raw.disconnect();
      const base = desiredStack();
      for (const client of late) {
        await h.produce("desired-state", "DesiredState", `${client}/web`, [
          desiredToAvro(
            desiredStack({
              client_id: client,
              stack_id: "web",
              applied_at: new Date().toISOString(),
              providers: { cms: null, ecommerce: null, ssg: null },
              resources: [{ name: "db", arn: `arn:aws:rds:eu-west-1:1:db:${client}`, ignore_paths: [] }],
              policy: {
                ...base.policy,
                notifications: {
                  channels: [
                    {
                      type: "webhook",
                      webhook_url: `${url}/late/${client}`,
                      addresses: [],
                      severity_threshold: "high",
                    },
                  ],
                },
              },
            }),
          ),
        ]);
      }
      await new Promise((r) => setTimeout(r, 2000)); // the reconciler and the notifiers have the new stacks
      for (const client of late) {
        await h.produce("resource-events", "ResourceEvent", client, [
          resourceEventValue({
            client_id: client,
            environment: "prod",
            resource_name: "db",
            status: "unhealthy",
            at: new Date(),
          }),
        ]);
      }
      const delivered = () => new Set(received.filter((r) => r.path.startsWith("/late/")).map((r) => r.path));
      await waitFor("every late stack's drift on its webhook", () => delivered().size === late.length);
      await new Promise((r) => setTimeout(r, 1000));
      expect(
        received
          .filter((r) => r.path.startsWith("/late/"))
          .map((r) => r.path)
          .sort(),
      ).toEqual(late.map((c) => `/late/${c}`).sort());
    } finally {
      await second.stop();
    }
  });
});
