/**
 * Fuzzing parseBlackwellYaml (issue 14 item 18): arbitrary text and mutations of the example composition
 * either parse or are refused with BLACKWELL_ERR_INVALID_DESIRED_STATE listing problems; never another
 * exception. Every stack it accepts goes through one pass of the core, which must not throw (a throw there
 * is a stalled partition).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseBlackwellYaml, type ParsedFile } from "../../../src/adapters/yaml/parse-blackwell-yaml.js";
import { isBlackwellError } from "../../../src/errors.js";
import { EXAMPLE, mutatedExample, runs, throughCore, versioned } from "./fuzz-support.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");

/** The parsed file, or null when refused the one allowed way; anything else throws. */
function parseOrRefuse(text: string): ParsedFile | null {
  try {
    return parseBlackwellYaml(text, "fuzz.yaml");
  } catch (err) {
    if (!isBlackwellError(err, "BLACKWELL_ERR_INVALID_DESIRED_STATE")) throw err;
    const problems = (err as { problems?: unknown[] }).problems;
    if (!Array.isArray(problems) || problems.length === 0) throw new Error(`refused without problems: ${err.message}`);
    return null;
  }
}

const accept = (text: string) => {
  const parsed = parseOrRefuse(text);
  parsed?.stacks.forEach((s) => throughCore(versioned(s, T0)));
  return parsed;
};

describe("fuzz: parseBlackwellYaml", () => {
  it("the example itself parses and passes the core", () => {
    expect(accept(EXAMPLE)?.stacks).toHaveLength(2);
  });

  it("arbitrary text parses or is refused with its problems", () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(..."{}[]:-,&*!|>'\"#%@`? \n\tab1"), maxLength: 120 }),
      // The example cut or with a span of it repeated: truncated and unbalanced structure.
      fc
        .tuple(fc.nat(EXAMPLE.length), fc.nat(EXAMPLE.length), fc.nat(3))
        .map(([a, b, n]) => EXAMPLE.slice(0, Math.min(a, b)) + EXAMPLE.slice(Math.min(a, b), Math.max(a, b)).repeat(n)),
    );
    fc.assert(
      fc.property(text, (t) => void accept(t)),
      runs(200),
    );
  });

  it("mutations of the example (fields removed, values replaced by random JSON) parse or are refused", () => {
    let accepted = 0;
    fc.assert(
      fc.property(mutatedExample(), (t) => void (accept(t) && accepted++)),
      runs(200),
    );
    // Enough mutants pass validation that the core is exercised with them, not only the refusals.
    expect(accepted).toBeGreaterThan(20);
  });
});
