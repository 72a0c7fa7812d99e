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

  it("sorts integer-like keys by their text too (RFC 8785 order), where a JavaScript object puts them first", () => {
    expect(canonicalJson({ b: 1, "10": 2, "9": 3, "": 4 })).toBe('{"":4,"10":2,"9":3,"b":1}');
  });

  it("is the text of JSON.stringify over a key-sorted copy, for any JSON-like value without integer-like keys", () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.constantFrom(null, undefined, true, false, Number.NaN, Number.POSITIVE_INFINITY, -0),
        fc.double(),
        fc.integer(),
        fc.string({ unit: "binary" }),
        fc.array(tie("node"), { maxLength: 5 }),
        fc.dictionary(
          fc.string({ unit: "binary", maxLength: 6 }).filter((k) => !/^(0|[1-9][0-9]*)$/.test(k)),
          tie("node"),
          { maxKeys: 6 },
        ),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => canonicalJson(v) === reference(v)),
      { numRuns: 2000 },
    );
  });

  it("gives the same text for deep-frozen (shared) values, written once or many times", () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        fc.constantFrom(null, true, -0),
        fc.integer(),
        fc.string(),
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 4 }), tie("node"), { maxKeys: 4 }),
      ),
    })).node;
    const deepFreeze = <T>(v: T): T => {
      if (v !== null && typeof v === "object") {
        for (const child of Object.values(v)) deepFreeze(child);
        Object.freeze(v);
      }
      return v;
    };
    fc.assert(
      fc.property(value, (v) => {
        // Against the text of the same value unfrozen (written afresh every time).
        const shared = deepFreeze(structuredClone(v));
        const once = canonicalJson(shared);
        return (
          once === canonicalJson(v) &&
          canonicalJson(shared) === once &&
          canonicalJson({ x: shared, y: [shared] }) === canonicalJson({ x: v, y: [v] })
        );
      }),
      { numRuns: 500 },
    );
  });

  it("writes a frozen object with a mutable part again each time, so a change of that part shows", () => {
    const inner = { port: 1 };
    const outer = Object.freeze({ url: "https://hooks.example", inner });
    expect(canonicalJson(outer)).toBe('{"inner":{"port":1},"url":"https://hooks.example"}');
    inner.port = 2;
    expect(canonicalJson(outer)).toBe('{"inner":{"port":2},"url":"https://hooks.example"}');
  });
});
