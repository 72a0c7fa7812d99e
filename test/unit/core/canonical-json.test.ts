/**
 * Canonical JSON is the text of hashes users compare (desired_hash, observed_hash) and of the replay comparison: the
 * direct writer must give exactly the text of JSON.stringify over a key-sorted copy, the way it was first defined.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../src/core/canonical-json.js";

/** The original definition, as the reference. */
function reference(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) {
        const inner = (v as Record<string, unknown>)[key];
        if (inner !== undefined) out[key] = sortKeys(inner);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value));
}

describe("canonicalJson", () => {
  it("sorts keys at every depth and leaves out undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: undefined }], c: "x" }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"f":1}]},"b":1}',
    );
    expect(canonicalJson([undefined, () => 1, Number.NaN, -0, 1e21])).toBe("[null,null,null,0,1e+21]");
  });

  it("is the text of JSON.stringify over a key-sorted copy, for any JSON-like value", () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.constantFrom(null, undefined, true, false, Number.NaN, Number.POSITIVE_INFINITY, -0),
        fc.double(),
        fc.integer(),
        fc.string({ unit: "binary" }),
        fc.array(tie("node"), { maxLength: 5 }),
        fc.dictionary(fc.string({ unit: "binary", maxLength: 6 }), tie("node"), { maxKeys: 6 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => canonicalJson(v) === reference(v)),
      { numRuns: 2000 },
    );
  });
});
