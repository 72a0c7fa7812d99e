/**
 * Fuzzing toInput (issue 14 item 18): for every input role, valid Avro values of its schema, with arbitrary
 * and near-miss strings, JSON text that is or is not JSON, out-of-range enumerations and extreme numbers,
 * either decode or throw a non-retriable BlackwellError (the record goes to the DLQ with its reason); never
 * another exception. A desired state that decodes must pass one pass of the core and encode its outputs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { desiredToAvro, toInput } from "../../../src/adapters/kafka/records.js";
import { RECONCILER_INPUTS, topicSpec, type TopicRole } from "../../../src/adapters/kafka/topics.js";
import { isBlackwellError } from "../../../src/errors.js";
import { applied, desiredStack, resourceEvent, run, summary, t } from "../../support/core-spec.js";
import { interestingString, jsonValue, pathsOf, runs, schemas, throughCore, withAt } from "./fuzz-support.js";

type AvroSchema = string | AvroSchema[] | AvroNamed;
interface AvroNamed {
  type: string | AvroSchema;
  items?: AvroSchema;
  values?: AvroSchema;
  fields?: Array<{ name: string; type: AvroSchema }>;
}
const T0 = Date.parse("2026-01-01T00:00:00Z");

/** JSON text fields get JSON (object or not) or not-JSON. */
const jsonText = () =>
  fc.oneof(
    jsonValue().map((v) => JSON.stringify(v) ?? "null"),
    fc
      .dictionary(fc.constantFrom("action", "resource_name", "a", "provider_name"), jsonValue())
      .map((o) => JSON.stringify(o)),
    fc.string({ maxLength: 20 }),
  );

/** An arbitrary for values of `schema` (a parsed .avsc). */
function avro(schema: AvroSchema, field = ""): fc.Arbitrary<unknown> {
  if (Array.isArray(schema)) return fc.oneof(...schema.map((s) => avro(s, field)));
  if (typeof schema === "object" && typeof schema.type === "object") return avro(schema.type, field);
  const type = typeof schema === "string" ? schema : (schema.type as string);
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "int":
      return fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
    case "long":
      return fc.oneof(fc.integer({ min: -5, max: 100_000 }), fc.maxSafeInteger());
    case "double":
      return fc.oneof(fc.double({ min: -1, max: 2 }), fc.double());
    case "string":
      return field.endsWith("_json") ? jsonText() : interestingString();
    case "array":
      return fc.array(avro((schema as AvroNamed).items!, field), { maxLength: 3 });
    case "map":
      return fc.dictionary(fc.string({ maxLength: 6 }), avro((schema as AvroNamed).values!, field), {
        maxKeys: 3,
      });
    case "record": {
      const fields = (schema as AvroNamed).fields!;
      return fc.record(Object.fromEntries(fields.map((f) => [f.name, avro(f.type, f.name)])));
    }
    default:
      throw new Error(`no arbitrary for Avro type ${type}`);
  }
}

const CLIENTS = ["acme-corp", "Acme Corp", "", "a/b"];
const ISO = new Date(T0).toISOString();

/** One valid value per input role: mutating a few of its leaves reaches the checks past the first one. */
const VALID: Record<string, Record<string, unknown>> = {
  "desired-state": {
    ...(desiredToAvro(
      desiredStack({
        integrations: [{ name: "shopify-products", config: { a: 1 }, ignore_paths: ["/signing_secret"] }],
        resources: [{ name: "site_bucket", arn: "arn:aws:s3:::acme-site", ignore_paths: [] }],
        build_project: "site-build",
        content_types: ["product"],
      }),
    ) as unknown as Record<string, unknown>),
  },
  "provider-events": {
    event_id: "e1",
    client_id: "acme-corp",
    stack_id: null,
    environment: "prod",
    provider_name: "sanity",
    provider_role: "cms",
    event_type: "content.published",
    content_id: "p1",
    content_type: "product",
    integration: null,
    timestamp: ISO,
    payload_json: "{}",
  },
  "resource-events": {
    event_id: "r1",
    client_id: "acme-corp",
    stack_id: "cms-ecom-prod",
    environment: null,
    resource_name: "site_bucket",
    resource_arn: null,
    status: "deleted",
    source: "probe",
    timestamp: ISO,
    details_json: "{}",
  },
  commands: {
    command_id: "c1",
    client_id: "acme-corp",
    stack_id: "cms-ecom-prod",
    command: "approve",
    drift_id: "drift-1",
    issued_by: "ops@acme",
    issued_at: ISO,
    reason: null,
    params_json: "{}",
  },
  "heal-results": {
    result_id: "hr1",
    command_key: "k1",
    client_id: "acme-corp",
    stack_id: "cms-ecom-prod",
    drift_id: "drift-1",
    action: "site.rebuild",
    attempt: 1,
    status: "succeeded",
    error_message: null,
    started_at: ISO,
    completed_at: null,
    details_json: "{}",
  },
};

/** A leaf replaced by another value of its kind (Avro validity is checked by the caller). */
function leafLike(current: unknown, path: Array<string | number>): fc.Arbitrary<unknown> {
  const field = String(path.filter((p) => typeof p === "string").at(-1) ?? "");
  if (typeof current === "boolean") return fc.boolean();
  if (typeof current === "number")
    return fc.oneof(
      fc.integer({ min: -5, max: 5000 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.maxSafeInteger(),
    );
  if (Array.isArray(current)) return fc.array(interestingString(), { maxLength: 3 });
  return field.endsWith("_json") ? jsonText() : fc.option(interestingString(), { freq: 6 });
}

/** `base` with one to three leaves replaced, still a valid value of `role`'s schema. */
function nearlyValid(role: TopicRole): fc.Arbitrary<Record<string, unknown>> {
  const base = VALID[role]!;
  const type = schemas.get(topicSpec(role).schema!)!;
  const paths = pathsOf(base);
  const change = fc
    .nat(paths.length - 1)
    .chain((i) => leafLike(getAt(base, paths[i]!), paths[i]!).map((v) => [paths[i]!, v] as const));
  return fc
    .array(change, { minLength: 1, maxLength: 3 })
    .map((cs) => cs.reduce<unknown>((doc, [path, v]) => withAt(doc, path, v), base) as Record<string, unknown>)
    .filter((v) => type.isValid(v));
}

const getAt = (root: unknown, path: Array<string | number>): unknown =>
  path.reduce<unknown>((node, k) => (node as Record<string | number, unknown> | null)?.[k], root);

/** A value of `role`'s schema whose key mostly agrees with it, as a producer would write it. */
function recordOf(role: TopicRole): fc.Arbitrary<{ key: string; value: Record<string, unknown> | null }> {
  const type = schemas.get(topicSpec(role).schema!)!;
  const base = avro(JSON.parse(JSON.stringify(type.schema())) as AvroSchema) as fc.Arbitrary<Record<string, unknown>>;
  const value = fc
    .tuple(base, fc.constantFrom(...CLIENTS))
    .map(([v, client_id]): Record<string, unknown> & { client_id: string } => ({ ...v, client_id }));
  const keyed = value.map((v) => ({
    key: role === "desired-state" ? `${v.client_id}/${String(v.stack_id)}` : v.client_id,
    // Through the wire and back: exactly what the decoder hands toInput.
    value: type.fromBuffer(type.toBuffer(v)) as Record<string, unknown>,
  }));
  const near = nearlyValid(role).map((v) => ({
    key: role === "desired-state" ? `${String(v.client_id)}/${String(v.stack_id)}` : String(v.client_id),
    value: type.fromBuffer(type.toBuffer(v)) as Record<string, unknown>,
  }));
  return fc.oneof(
    { weight: 8, arbitrary: near },
    { weight: 4, arbitrary: keyed },
    { weight: 1, arbitrary: fc.record({ key: fc.string({ maxLength: 20 }), value: base }) },
    { weight: 1, arbitrary: fc.record({ key: fc.string({ maxLength: 20 }), value: fc.constant(null) }) },
  );
}

/** Decodes or refuses the DLQ way; rethrows anything else. */
function decodeOrDlq(role: TopicRole, key: string, value: Record<string, unknown> | null, ts: number) {
  try {
    return toInput(role, key, value as never, ts);
  } catch (err) {
    if (!isBlackwellError(err) || err.retriable) throw err;
    expect(err.message).not.toBe("");
    return null;
  }
}

/** Small or huge, never out of range: extremes the validation lets through. */
const int32 = (min: number) => fc.oneof(fc.integer({ min, max: 100 }), fc.integer({ min, max: 2 ** 31 - 1 }));

describe("fuzz: record decoders", () => {
  for (const role of RECONCILER_INPUTS) {
    it(`${role}: a valid Avro value decodes or goes to the DLQ with a reason`, () => {
      fc.assert(
        fc.property(recordOf(role), fc.integer({ min: 0, max: 2 * T0 }), ({ key, value }, ts) => {
          const input = decodeOrDlq(role, key, value, ts);
          if (input?.kind === "DesiredStateApplied") throughCore(input.desired);
        }),
        runs(role === "desired-state" ? 150 : 200),
      );
    });
  }

  // Mostly-valid desired states reach the core far more often than random ones: mutate one that decodes.
  it("desired-state: a valid record with random policy numbers and strings decodes and passes the core", () => {
    const good = desiredToAvro(desiredStack()) as unknown as Record<string, unknown>;
    const type = schemas.get("DesiredState")!;
    const tweak = fc.record({
      staleness: fc.record({
        provider_silence_seconds: fc.oneof(fc.integer({ min: 1, max: 10 ** 6 }), fc.maxSafeInteger()),
        resource_ttl_seconds: fc.oneof(fc.integer({ min: 1, max: 10 ** 6 }), fc.maxSafeInteger()),
        content_grace_seconds: fc.oneof(fc.integer({ min: 1, max: 10 ** 6 }), fc.maxSafeInteger()),
        webhook_failure_threshold: int32(1),
      }),
      max_attempts: fc.integer({ min: 1, max: 100 }),
      backoff_base_seconds: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(2 ** 31 - 1)),
      backoff_cap_seconds: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(2 ** 31 - 1)),
      circuit_breaker: fc.record({ max_heals: int32(1), window_seconds: int32(1) }),
      flap_detection: fc.record({ max_flips: int32(2), window_seconds: int32(1) }),
      content_quiet_period_seconds: int32(0),
      enabled: fc.boolean(),
      resources: fc.array(
        fc.record({ name: interestingString(), arn: fc.constant("arn:aws:s3:::x"), ignore_paths: fc.constant([]) }),
        { maxLength: 3 },
      ),
      content_types: fc.array(interestingString(), { maxLength: 2 }),
      build_project: fc.option(interestingString()),
      applied_at: fc.oneof(fc.constant(new Date(T0).toISOString()), interestingString()),
    });
    fc.assert(
      fc.property(tweak, fc.integer({ min: 0, max: 2 * T0 }), (t, ts) => {
        const ah = (good.policy as { auto_heal: Record<string, unknown> }).auto_heal;
        const v: Record<string, unknown> = {
          ...good,
          staleness: t.staleness,
          resources: t.resources,
          content_types: t.content_types,
          build_project: t.build_project,
          applied_at: t.applied_at,
          policy: {
            ...(good.policy as object),
            auto_heal: {
              ...ah,
              enabled: t.enabled,
              max_attempts: t.max_attempts,
              backoff_base_seconds: t.backoff_base_seconds,
              backoff_cap_seconds: t.backoff_cap_seconds,
              circuit_breaker: t.circuit_breaker,
              flap_detection: t.flap_detection,
              content_quiet_period_seconds: t.content_quiet_period_seconds,
              allowed_drift_types: ["provider_missing", "resource_unhealthy", "site_stale"],
            },
          },
        };
        const value = type.fromBuffer(type.toBuffer(v)) as Record<string, unknown>;
        const input = decodeOrDlq("desired-state", `${String(v.client_id)}/${String(v.stack_id)}`, value, ts);
        if (input?.kind === "DesiredStateApplied") throughCore(input.desired);
      }),
      runs(150),
    );
  });

  // The stalled partition of issue 14 item 5, from the other side: any sequence of records that decode, after
  // a valid desired state, must pass the core one pass per record.
  it("a sequence of decoded records of every role passes the core after a valid desired state", () => {
    const desiredValue = VALID["desired-state"]!;
    const desired = toInput("desired-state", "acme-corp/cms-ecom-prod", desiredValue as never, T0);
    if (desired.kind !== "DesiredStateApplied") throw new Error("the valid desired state must decode");
    const roles = RECONCILER_INPUTS.filter((r) => r !== "desired-state");
    const one = fc.constantFrom(...roles).chain((role) => nearlyValid(role).map((v) => [role, v] as const));
    fc.assert(
      fc.property(fc.array(one, { minLength: 1, maxLength: 10 }), (records) => {
        const inputs = records.flatMap(([role, v], i) => {
          const input = decodeOrDlq(role, String(v.client_id), v, T0 + (i + 1) * 60_000);
          return input ? [input] : [];
        });
        throughCore(desired.desired, inputs);
      }),
      runs(150),
    );
  });

  // Counterexample of the property above: `approve` of drift "constructor" found Object.prototype.constructor
  // as an open drift, and the pass emitted a transition with no detected_at, which threw while encoding.
  it("regression: an approve of drift id 'constructor' and names of Object.prototype pass the core", () => {
    const desired = toInput("desired-state", "acme-corp/cms-ecom-prod", VALID["desired-state"] as never, T0);
    if (desired.kind !== "DesiredStateApplied") throw new Error("the valid desired state must decode");
    const approve = { ...(VALID.commands as object), drift_id: "constructor" };
    const inputs = [
      toInput("commands", "acme-corp", approve as never, T0 + 60_000),
      ...["constructor", "toString", "__proto__"].map((name, i) =>
        toInput(
          "provider-events",
          "acme-corp",
          {
            ...(VALID["provider-events"] as object),
            provider_name: name,
            content_type: name,
            integration: name,
          } as never,
          T0 + (i + 2) * 60_000,
        ),
      ),
    ];
    expect(() => throughCore(desired.desired, inputs)).not.toThrow();
  });

  // Found with the regression above: a resource named "__proto__" was assigned into the stack's observed view
  // as its prototype, not as an entry, so its deletion opened no drift.
  it("regression: a resource named '__proto__' is judged like any other", () => {
    for (const name of ["__proto__", "site_bucket"]) {
      const out = run([
        applied(t(0), { resources: [{ name, arn: "arn:aws:s3:::x", ignore_paths: [] }] }),
        resourceEvent(t(1), name, "healthy"),
        resourceEvent(t(2), name, "deleted"),
      ]);
      expect(summary(out.transitions)).toEqual([["opened", "resource", name, "deleted"]]);
    }
  });

  it("a record whose key has an empty client_id goes to the DLQ with the reason", () => {
    const value = { ...VALID["resource-events"], client_id: "" };
    expect(() => toInput("resource-events", "", value as never, T0)).toThrow(/empty client_id/);
    expect(() => toInput("desired-state", "/web", null, T0)).toThrow(/empty client_id/);
  });
});
