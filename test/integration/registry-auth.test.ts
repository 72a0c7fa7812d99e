import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import pino from "pino";
import { blackwell as runCli } from "../support/cli.js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { bootstrapTopics } from "../../src/adapters/kafka/bootstrap.js";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { loadSchemas } from "../../src/adapters/kafka/schemas.js";
import { AvroSerde } from "../../src/adapters/kafka/serde.js";
import { createAppContext } from "../../src/runtime/app-context.js";
import { ReconcilerRunner } from "../../src/runtime/reconciler-runner.js";
import { desiredStack } from "../support/core-spec.js";
import { resourceEventValue } from "../support/events.js";
import { collectTopic } from "../support/topic-collector.js";

const PASSWORD = "registry-secret-horse";
const WRONG = "registry-wrong-do-not-log";

/** Debug logs on: what they print must not contain a credential. */
const blackwell = (args: string[], env: Record<string, string>) => runCli(args, { LOG_LEVEL: "debug", ...env });

/**
 * The real registry behind a local gateway that demands HTTP basic auth, as a
 * managed registry does (the local Apicurio runs without auth).
 */
describe("a schema registry that requires basic auth, and goes away", () => {
  const upstream = new URL(inject("registryUrl"));
  let server: Server;
  let registryUrl: string;
  const seen: string[] = [];
  let outage = false;

  beforeAll(async () => {
    const expected = `Basic ${Buffer.from(`registry-user:${PASSWORD}`).toString("base64")}`;
    server = createServer((req, res) => {
      seen.push(req.headers.authorization ?? "none");
      if (outage) {
        req.socket.destroy(); // the registry's process is gone: the connection drops
        return;
      }
      if (req.headers.authorization !== expected) {
        res
          .writeHead(401, { "content-type": "application/json", "www-authenticate": 'Basic realm="registry"' })
          .end(JSON.stringify({ error_code: 401, message: "Unauthorized" }));
        return;
      }
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on("error", () => res.writeHead(502).end());
      req.pipe(forward);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    registryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(() => r(undefined)));
  });

  const env = () => ({
    KAFKA_BROKERS: inject("kafkaBrokers"),
    SCHEMA_REGISTRY_URL: registryUrl,
    BLACKWELL_TOPIC_PREFIX: "regauth.",
    SCHEMA_REGISTRY_USERNAME: "registry-user",
  });

  it("refuses a wrong password with a clear error and exit 4, and never prints it", async () => {
    const res = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml"], {
      ...env(),
      SCHEMA_REGISTRY_PASSWORD: WRONG,
    });
    expect(res.code).toBe(4);
    expect(res.stderr).toMatch(/the schema registry refused the credentials \(HTTP 401\)/);
    expect(res.stdout + res.stderr).not.toContain(WRONG);
  });

  it("says so when the registry wants credentials and none are configured", async () => {
    const res = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml"], env());
    expect(res.code).toBe(4);
    expect(res.stderr).toMatch(/the schema registry requires credentials \(HTTP 401\); set SCHEMA_REGISTRY_USERNAME/);
  });

  it("works with the right password and never logs it", async () => {
    const res = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml"], {
      ...env(),
      SCHEMA_REGISTRY_PASSWORD: PASSWORD,
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/acme-corp\/cms-ecom-prod\s+(created|unchanged|updated)/);
    expect(res.stdout + res.stderr).not.toContain(PASSWORD);
    expect(seen.some((a) => a.startsWith("Basic "))).toBe(true);
  });

  it("a reconciler that cannot reach the registry waits and dead-letters nothing, then carries on", async () => {
    const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
    const auth = { username: "registry-user", password: PASSWORD };
    const config = {
      brokers: [inject("kafkaBrokers")],
      registryUrl,
      registryAuth: auth,
      topicPrefix: `regdown-${Date.now()}.`,
      partitions: 3,
      replicationFactor: 1,
      clientId: "registry-outage",
    };
    const ctx = await createAppContext(config, log);
    const serde = AvroSerde.forUrl(registryUrl, loadSchemas(), auth);
    await bootstrapTopics({ admin: ctx.admin, serde, prefix: config.topicPrefix, partitions: 3, replicationFactor: 1 });
    // A producer on a newer version of the event schema (one more optional field): the reconciler must fetch that
    // writer schema from the registry before it can read the events.
    const newer = new SchemaRegistry({ host: registryUrl, auth });
    const evolved = loadSchemas().get("ResourceEvent")!.schema({ exportAttrs: true }) as { fields: unknown[] };
    evolved.fields.push({ name: "region", type: ["null", "string"], default: null });
    const { id: newerId } = await newer.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(evolved) },
      { subject: `${ctx.names["resource-events"]}-value` },
    );
    const stateDir = mkdtempSync(join(tmpdir(), "blackwell-registry-outage-"));
    const runner = new ReconcilerRunner({
      kafka: ctx.kafka,
      admin: ctx.admin,
      serde,
      names: ctx.names,
      partitions: 3,
      applicationId: `${config.topicPrefix}reconciler`,
      stateDir,
      log,
      wallClockTicks: false,
    });
    const producer = await ctx.kafka.producer();
    const drift = await collectTopic<{ transition: string }>(
      ctx.kafka,
      ctx.names["drift-events"],
      "DriftEvent",
      ctx.serde,
    );
    const dlq = await collectTopic<Buffer>(ctx.kafka, ctx.names.dlq, "raw");
    try {
      const clients = ["outage-a", "outage-b", "outage-c"];
      const topicD = ctx.names["desired-state"];
      const topicR = ctx.names["resource-events"];
      await producer.send(
        clients.map((c) => ({
          topic: topicD,
          key: `${c}/web`,
          value: ctx.serde.encode(
            topicD,
            "DesiredState",
            desiredToAvro(
              desiredStack({
                client_id: c,
                stack_id: "web",
                applied_at: new Date(Date.now() - 60_000).toISOString(),
                providers: { cms: null, ecommerce: null, ssg: null },
                resources: [{ name: "db", arn: `arn:aws:rds:eu-west-1:1:db:${c}`, ignore_paths: [] }],
              }),
            ),
          ),
        })),
      );
      const events = await Promise.all(
        clients.map(async (c) => ({
          key: c,
          value: await newer.encode(newerId, {
            ...resourceEventValue({
              client_id: c,
              environment: "prod",
              resource_name: "db",
              status: "unhealthy",
              at: new Date(),
            }),
            region: "eu-west-1",
          }),
        })),
      );
      await producer.send(events.map((e) => ({ topic: topicR, ...e })));
      outage = true;
      await runner.start();
      await new Promise((r) => setTimeout(r, 6000));
      expect(dlq.items).toHaveLength(0);
      expect(drift.items).toHaveLength(0);
      outage = false;
      await drift.waitFor((i) => i.length >= clients.length, 60_000, "a drift per client once the registry is back");
      await new Promise((r) => setTimeout(r, 1000));
      expect(drift.values().map((d) => d.transition)).toEqual(clients.map(() => "opened"));
      expect(dlq.items).toHaveLength(0);
    } finally {
      outage = false;
      await drift.stop().catch(() => {});
      await dlq.stop().catch(() => {});
      await producer.disconnect().catch(() => {});
      await runner.stop();
      await ctx.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 120_000);
});
