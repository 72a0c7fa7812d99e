/**
 * The demo's drift lines cut expected and observed values where they differ: cut at their start, a webhook URL drift
 * printed the same 50 characters twice (found trying a fresh clone).
 */
import { describe, expect, it } from "vitest";
import { clipDifference } from "../../../src/cli/cli-kit.js";

describe("clipDifference", () => {
  it("shows the part where two long values differ, marking what was cut", () => {
    const expected =
      '{"webhook_url":"https://integrations.acme.example/shopify/products","topics":["products/update"]}';
    const observed =
      '{"webhook_url":"https://integrations.acme.example/attacker/collect","topics":["products/update"]}';
    const [e, o] = clipDifference(expected, observed, 40);
    expect(e).not.toBe(o);
    expect(e).toContain("shopify/products");
    expect(o).toContain("attacker/collect");
    expect(e.startsWith("…")).toBe(true);
    expect(e.length).toBeLessThanOrEqual(42);
  });

  it("leaves short values alone and starts at the beginning when they differ early", () => {
    expect(clipDifference('"healthy"', '"deleted"', 40)).toEqual(['"healthy"', '"deleted"']);
    const [e, o] = clipDifference(`a${"x".repeat(60)}`, `b${"x".repeat(60)}`, 20);
    expect(e).toBe(`a${"x".repeat(19)}…`);
    expect(o).toBe(`b${"x".repeat(19)}…`);
  });
});
