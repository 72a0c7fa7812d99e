/**
 * Shared pieces of the property-based fuzz tests (issue 14 item 18): the fixed seed, strings that reach the
 * interesting branches (known enumeration values next to near misses), mutations of the example
 * blackwell.yaml, and a pass of the pure core over a desired state with its outputs encoded as the reconciler
 * task encodes them. A throw anywhere in that pass is what stalls a partition.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import {
  auditToAvro,
  driftEventToAvro,
  healCommandToAvro,
  stateRecordToAvro,
} from "../../../src/adapters/kafka/records.js";
import { loadSchemas } from "../../../src/adapters/kafka/schemas.js";
import type { SchemaName } from "../../../src/adapters/kafka/topics.js";
import type { DeclaredStack } from "../../../src/adapters/yaml/parse-blackwell-yaml.js";
import { emptyClient } from "../../../src/core/model/client-state.js";
import { SEVERITIES, WEEKDAYS, type DesiredStack } from "../../../src/core/model/desired.js";
import {
  OPERATOR_COMMANDS,
  PROVIDER_EVENT_TYPES,
  RESOURCE_STATUSES,
  type InputRecord,
} from "../../../src/core/model/inputs.js";
import { HEAL_ACTIONS, POLICY_DRIFT_KINDS } from "../../../src/core/model/vocabulary.js";
import { command, providerEvent, resourceEvent, run, tick } from "../../support/core-spec.js";

/** Fixed seed: a failure reproduces; bounded runs keep the unit project fast. */
export const SEED = 20261201;
export const runs = (numRuns: number) => ({ seed: SEED, numRuns });

export const schemas = loadSchemas();
export const EXAMPLE = readFileSync("examples/acme-corp/blackwell.yaml", "utf8");

/** Strings that a decoder or validator branches on, and their near misses. */
export const INTERESTING = [
  "",
  " ",
  "acme-corp",
  "cms-ecom-prod",
  "prod",
  "sanity",
  "shopify",
  "codebuild",
  ...PROVIDER_EVENT_TYPES,
  ...RESOURCE_STATUSES,
  ...OPERATOR_COMMANDS,
  ...HEAL_ACTIONS,
  ...POLICY_DRIFT_KINDS,
  ...SEVERITIES,
  ...WEEKDAYS,
  "cms",
  "ecommerce",
  "ssg",
  "linear",
  "exponential",
  "allow",
  "deny",
  "started",
  "succeeded",
  "failed",
  "UTC",
  "Europe/Paris",
  "Not/AZone",
  "00:00",
  "24:00",
  "23:59",
  "25:61",
  "5m",
  "0s",
  "-1m",
  "30d",
  "/signing_secret",
  "/a~2b",
  "foo",
  "arn:aws:s3:::x",
  "2026-01-01T00:00:00.000Z",
  "+275760-09-13T00:00:00.000Z",
  "-271821-04-20T00:00:00.000Z",
  "0",
  "1e400",
  "{}",
  "[]",
  "null",
  '{"a":1}',
  // Names of Object.prototype: the core keys its state by names from input.
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
];

export const interestingString = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...INTERESTING) },
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 2 }) },
    { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  );

/** Any JSON value, mostly small, with the interesting strings among the leaves. */
export const jsonValue = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 2, arbitrary: interestingString() },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        0,
        -1,
        1.5,
        2 ** 31,
        Number.MAX_SAFE_INTEGER,
        1e21,
        -1e21,
        true,
        null,
        [],
        {},
      ) as fc.Arbitrary<unknown>,
    },
  );

type Path = Array<string | number>;

/** Every path of a JSON tree (the root excluded). */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== "object") return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value as Record<string, unknown>);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}

/** A copy of `root` with the node at `path` removed (`undefined`) or replaced. */
export function withAt(root: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  const copy: Record<string | number, unknown> | unknown[] = Array.isArray(root)
    ? [...root]
    : { ...(root as Record<string, unknown>) };
  const next = withAt((copy as Record<string | number, unknown>)[head!], rest, replacement);
  if (next === undefined) {
    if (Array.isArray(copy)) copy.splice(head as number, 1);
    else delete (copy as Record<string | number, unknown>)[head!];
  } else (copy as Record<string | number, unknown>)[head!] = next;
  return copy;
}

export type Mutation = { op: "remove" } | { op: "replace"; value: unknown };

/** A few removals or replacements by random JSON, at random paths of `base`. */
export function mutated(base: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(base);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.constant<Mutation>({ op: "remove" }),
    jsonValue().map((value): Mutation => ({ op: "replace", value })),
  );
  return fc.array(fc.tuple(fc.nat(paths.length - 1), mutation), { minLength: 1, maxLength: 4 }).map((ms) =>
    ms.reduce((doc, [i, m]) => {
      const now = pathsOf(doc);
      const path = now[i % Math.max(now.length, 1)] ?? [];
      return withAt(doc, path, m.op === "remove" ? undefined : m.value);
    }, base),
  );
}

export const EXAMPLE_DOC: unknown = parse(EXAMPLE);
/** The example blackwell.yaml with a few fields removed or replaced by random JSON, as YAML text. */
export const mutatedExample = (): fc.Arbitrary<string> => mutated(EXAMPLE_DOC).map((doc) => stringify(doc));

/** A declared stack as `apply` versions it. */
export function versioned(stack: DeclaredStack, at: number): DesiredStack {
  return {
    ...stack,
    state_version: "v1.0.0",
    previous_versions: [],
    applied_at: new Date(at).toISOString(),
    applied_by: "fuzz",
  };
}

const T0 = Date.parse("2026-01-01T00:00:00Z");

/** Checks `value` against `schema` as the reconciler task's encode would; throws naming the first bad field. */
function encodes(schema: SchemaName, value: unknown): void {
  const type = schemas.get(schema)!;
  let bad = "";
  if (!type.isValid(value, { errorHook: (path) => (bad ||= path.join(".")) }))
    throw new Error(`${schema} output does not match its schema at ${bad}`);
}

/**
 * One pass of the core per step, as a reconciler task runs it: the desired state is applied, then a few
 * observations and an idle tick arrive, and every output is encoded. Throws whatever the task would throw.
 */
export function throughCore(desired: DesiredStack, extra: InputRecord[] = []): void {
  const c = desired.client_id;
  const environment = desired.environment;
  const at = Math.max(T0, Date.parse(desired.applied_at) || T0);
  const steps = [
    { kind: "DesiredStateApplied" as const, at, desired },
    providerEvent(at + 1_000, desired.providers.cms ?? "sanity", "provider.connected", { client_id: c, environment }),
    resourceEvent(at + 2_000, desired.resources[0]?.name ?? "site_bucket", "deleted", { client_id: c, environment }),
    command(at + 3_000, "reconcile", { client_id: c, stack_id: desired.stack_id }),
    ...extra,
    tick(at + 10 * 86_400_000),
  ];
  const out = run(steps, { state: emptyClient(c) });
  out.transitions.forEach((t) => encodes("DriftEvent", driftEventToAvro(t)));
  out.stackStates.forEach((s) => s.state && encodes("StateRecord", stateRecordToAvro(s.state)));
  out.audits.forEach((a) => encodes("AuditEntry", auditToAvro(a)));
  out.healCommands.forEach((h) => encodes("HealCommand", healCommandToAvro(h)));
}
