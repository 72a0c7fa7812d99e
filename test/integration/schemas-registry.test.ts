import avro from "avsc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { AvroSerde } from "../../src/adapters/kafka/serde.js";
import { loadSchemas, SCHEMA_NAMES } from "../../src/adapters/kafka/schemas.js";
import { TOPICS, topicNames } from "../../src/adapters/kafka/topics.js";
import { BlackwellError } from "../../src/errors.js";
import { connectTestKafka, type TestKafka } from "../support/kafka-env.js";

describe("Avro contracts against the real schema registry", () => {
  let t: TestKafka;
  const types = loadSchemas();
  beforeAll(async () => {
    t = await connectTestKafka();
    await t.bootstrap();
  });
  afterAll(async () => t.close());

  it.each(SCHEMA_NAMES)(
    "%s round-trips through the registry, decoded by a reader that only knows the id",
    async (name) => {
      const spec = TOPICS.find((s) => s.schema === name)!;
      const topic = topicNames(t.config.topicPrefix)[spec.role];
      const value = types.get(name)!.random();
      const wire = t.serde.encode(topic, name, value);
      expect(wire.readUInt8(0)).toBe(0);
      // A fresh serde has no cache: it must fetch the writer schema by id from the registry.
      const reader = AvroSerde.forUrl(t.config.registryUrl, types);
      const decoded = await reader.decode(name, wire);
      expect(decoded).toEqual(value);
      expect(types.get(name)!.toBuffer(decoded).equals(types.get(name)!.toBuffer(value))).toBe(true);
    },
  );

  it("sets BACKWARD compatibility on every subject it registers", async () => {
    const names = topicNames(t.config.topicPrefix);
    const res = await fetch(`${t.config.registryUrl}/config/${encodeURIComponent(`${names["drift-events"]}-value`)}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe("BACKWARD");
  });

  it("registers the contracts with their field defaults, so adding a defaulted field later is accepted", async () => {
    const subject = `${topicNames(t.config.topicPrefix)["desired-state"]}-value`;
    const latest = (await (await fetch(`${t.config.registryUrl}/subjects/${subject}/versions/latest`)).json()) as {
      schema: string;
    };
    const staleness = (JSON.parse(latest.schema) as avro.schema.RecordType).fields.find((f) => f.name === "staleness")!;
    expect(
      (staleness.type as avro.schema.RecordType).fields.find((f) => f.name === "content_grace_seconds")!.default,
    ).toBe(300);
  });

  it("accepts a backward-compatible change (new field with default) and refuses an incompatible one", async () => {
    const topic = topicNames(t.config.topicPrefix)["provider-events"];
    const base = types.get("ProviderEvent")!.schema() as avro.schema.RecordType;
    const compatible = {
      ...base,
      fields: [...base.fields, { name: "region", type: ["null", "string"], default: null }],
    };
    const incompatible = { ...base, fields: [...base.fields, { name: "tenant_tier", type: "string" }] };
    const registry = new SchemaRegistry({ host: t.config.registryUrl });
    const ok = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(compatible) },
      { subject: `${topic}-value` },
    );
    expect(ok.id).toBeGreaterThan(0);

    const serde = new AvroSerde({
      registry,
      types: new Map([["ProviderEvent", avro.Type.forSchema(incompatible as avro.Schema)]]),
    });
    const refused = await serde.register(topic, "ProviderEvent").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BlackwellError);
    expect((refused as BlackwellError).code).toBe("BLACKWELL_ERR_SCHEMA_INCOMPATIBLE");
    expect((refused as BlackwellError).retriable).toBe(false);
  });

  it("registers through the moment another process has created the subject but not yet set BACKWARD on it", async () => {
    // Found trying a fresh clone: the API and the reconciler started together on a fresh registry, and the API died
    // reading the registry's default rule on a subject the reconciler had just created, before it set BACKWARD.
    const url = (path: string) => `${t.config.registryUrl}${path}`;
    const json = { "content-type": "application/vnd.schemaregistry.v1+json" };
    /** What the other process does first: the subject, with no rule of its own yet. */
    const createBare = async (topic: string) => {
      const schema = JSON.stringify(types.get("DriftEvent")!.schema({ exportAttrs: true }));
      const r = await fetch(url(`/subjects/${encodeURIComponent(`${topic}-value`)}/versions`), {
        method: "POST",
        headers: json,
        body: JSON.stringify({ schema }),
      });
      expect(r.status).toBe(200);
    };
    const setRule = async (topic: string, compatibility: string) => {
      const r = await fetch(url(`/config/${encodeURIComponent(`${topic}-value`)}`), {
        method: "PUT",
        headers: json,
        body: JSON.stringify({ compatibility }),
      });
      expect(r.status).toBe(200);
    };
    const racing = `${t.config.topicPrefix}race-${Date.now()}`;
    await createBare(racing);
    await setRule(racing, "NONE");
    const fresh = AvroSerde.forUrl(t.config.registryUrl, types);
    const registered = fresh.register(racing, "DriftEvent");
    await new Promise((r) => setTimeout(r, 150));
    await setRule(racing, "BACKWARD");
    expect(await registered).toBeGreaterThan(0);
    // A rule someone set on purpose is still refused, in the registry's words.
    const deliberate = `${t.config.topicPrefix}none-${Date.now()}`;
    await createBare(deliberate);
    await setRule(deliberate, "NONE");
    await expect(fresh.register(deliberate, "DriftEvent")).rejects.toThrow(/Compatibility does not match/);
  });

  it("decodes a record written with an older schema version into the current reader", async () => {
    const topic = topicNames(t.config.topicPrefix)["resource-events"];
    const current = types.get("ResourceEvent")!.schema() as avro.schema.RecordType;
    const older = {
      ...current,
      fields: current.fields.filter((f) => f.name !== "details_json" && f.name !== "source"),
    };
    const registry = new SchemaRegistry({ host: t.config.registryUrl });
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(older) },
      { subject: `${topic}-old-value` },
    );
    const olderType = avro.Type.forSchema(older as avro.Schema);
    const body = olderType.toBuffer({
      event_id: "e1",
      client_id: "acme",
      stack_id: null,
      environment: "prod",
      resource_name: "cdn",
      resource_arn: null,
      status: "healthy",
      timestamp: "2026-01-01T00:00:00Z",
    });
    const wire = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
    wire.writeInt32BE(id, 1);
    const decoded = await t.serde.decode<{ source: string; details_json: string; resource_name: string }>(
      "ResourceEvent",
      wire,
    );
    expect(decoded).toMatchObject({ resource_name: "cdn", source: "unknown", details_json: "{ }" });
  });

  describe("bad input yields typed, non-retriable errors", () => {
    const expectCode = async (p: Promise<unknown>, code: string) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BlackwellError);
      expect((err as BlackwellError).code).toBe(code);
      expect((err as BlackwellError).retriable).toBe(false);
      return err as BlackwellError;
    };

    it("garbage bytes", async () => {
      await expectCode(t.serde.decode("ProviderEvent", Buffer.from("not avro at all")), "BLACKWELL_ERR_UNDECODABLE");
      await expectCode(t.serde.decode("ProviderEvent", Buffer.from([0, 1])), "BLACKWELL_ERR_UNDECODABLE");
      await expectCode(t.serde.decode("ProviderEvent", null), "BLACKWELL_ERR_UNDECODABLE");
    });

    it("an unknown schema id", async () => {
      const wire = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]);
      const err = await expectCode(t.serde.decode("ProviderEvent", wire), "BLACKWELL_ERR_UNKNOWN_SCHEMA");
      expect(err.message).toContain(String(0x7ffffff0));
    });

    it("a record of another contract", async () => {
      const names = topicNames(t.config.topicPrefix);
      const command = t.serde.encode(names.commands, "Command", types.get("Command")!.random());
      await expectCode(t.serde.decode("ProviderEvent", command), "BLACKWELL_ERR_INVALID_RECORD");
    });

    it("a truncated body", async () => {
      const names = topicNames(t.config.topicPrefix);
      const wire = t.serde.encode(names["provider-events"], "ProviderEvent", types.get("ProviderEvent")!.random());
      await expectCode(t.serde.decode("ProviderEvent", wire.subarray(0, 12)), "BLACKWELL_ERR_UNDECODABLE");
    });

    it("encoding a value that violates its schema names the field", () => {
      const names = topicNames(t.config.topicPrefix);
      const bad = { ...(types.get("Command")!.random() as object), issued_by: 42 };
      expect(() => t.serde.encode(names.commands, "Command", bad)).toThrowError(/issued_by/);
    });
  });
});
