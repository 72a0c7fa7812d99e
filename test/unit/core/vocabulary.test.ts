/**
 * The Avro contracts and the core's vocabulary table must name the same drift
 * types, severities and heal actions: a schema edited without the table (or
 * the reverse) fails here, not in production as a DLQ'd record.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SEVERITIES } from "../../../src/core/model/desired.js";
import {
  DRIFT_KIND_TABLE,
  DRIFT_KINDS,
  DRIFT_TYPE_TABLE,
  DRIFT_TYPES,
  HEAL_ACTION_TABLE,
  HEAL_ACTIONS,
  POLICY_DRIFT_KINDS,
  defaultSeverity,
} from "../../../src/core/model/vocabulary.js";

const schemasDir = resolve(import.meta.dirname, "../../../schemas");
const schema = (name: string): unknown => JSON.parse(readFileSync(resolve(schemasDir, `${name}.avsc`), "utf8"));

type AvroNode = {
  name?: string;
  type?: unknown;
  symbols?: string[];
  default?: unknown;
  fields?: AvroNode[];
  items?: unknown;
  doc?: string;
};

/** Every node of a schema, depth first (records, fields, arrays, unions). */
function nodes(node: unknown): AvroNode[] {
  if (Array.isArray(node)) return node.flatMap(nodes);
  if (node === null || typeof node !== "object") return [];
  const n = node as AvroNode;
  return [n, ...nodes(n.type), ...nodes(n.fields ?? []), ...nodes(n.items)];
}

const enumNamed = (schemaName: string, enumName: string) =>
  nodes(schema(schemaName)).filter((n) => n.type === "enum" && n.name === enumName);
const field = (schemaName: string, fieldName: string) =>
  nodes(schema(schemaName)).find((n) => n.name === fieldName && n.type !== undefined);

describe("the vocabulary table and the Avro contracts", () => {
  it.each(["DriftEvent", "StateRecord"])(
    "%s's DriftType enum is the table's drift types plus the reader's fallback 'other'",
    (name) => {
      const [driftType] = enumNamed(name, "DriftType");
      expect(driftType?.symbols).toEqual([...DRIFT_TYPES, "other"]);
      expect(driftType?.default).toBe("other");
    },
  );

  it.each(["DriftEvent", "StateRecord"])("%s's Severity enum is the core's severities, lowest first", (name) => {
    const [severity] = enumNamed(name, "Severity");
    expect(severity?.symbols).toEqual([...SEVERITIES]);
  });

  it("HealCommand.action documents exactly the table's heal actions (it is a string in Avro, checked on decoding)", () => {
    const action = field("HealCommand", "action");
    expect(action?.type).toBe("string");
    expect(
      action?.doc
        ?.split("|")
        .map((s) => s.trim())
        .sort(),
    ).toEqual([...HEAL_ACTIONS].sort());
  });
});

describe("the vocabulary table", () => {
  it("gives each spec drift type its default severity", () => {
    expect(Object.fromEntries(DRIFT_TYPES.map((t) => [t, DRIFT_TYPE_TABLE[t].severity]))).toEqual({
      provider: "critical",
      resource: "high",
      integration: "medium",
      content: "medium",
      promotion: "medium",
    });
  });

  it("maps every detected kind to a known type and heal action (or none), and every type and action is used", () => {
    for (const kind of DRIFT_KINDS) {
      const { type, action } = DRIFT_KIND_TABLE[kind];
      expect(DRIFT_TYPES).toContain(type);
      expect([...HEAL_ACTIONS, null]).toContain(action);
      expect(defaultSeverity(kind)).toBe(DRIFT_TYPE_TABLE[type].severity);
    }
    expect(new Set(DRIFT_KINDS.map((k) => DRIFT_KIND_TABLE[k].type))).toEqual(new Set(DRIFT_TYPES));
    // A promotion drift is healed by promoting (an operator's gated decision); a rollback is a promotion's own action.
    expect(DRIFT_KINDS.filter((k) => DRIFT_KIND_TABLE[k].action === null)).toEqual(["promotion_drift"]);
    expect(new Set([...DRIFT_KINDS.map((k) => DRIFT_KIND_TABLE[k].action), "desired.rollback"])).toEqual(
      new Set([...HEAL_ACTIONS, null]),
    );
  });

  it("lets a policy name every detected kind and the spec's reserved ones", () => {
    expect(POLICY_DRIFT_KINDS).toEqual(
      expect.arrayContaining([...DRIFT_KINDS, "data_deletion", "resource_replacement"]),
    );
    expect(Object.keys(HEAL_ACTION_TABLE)).toEqual([...HEAL_ACTIONS]);
  });
});
