/** `blackwell drift` showed no confidence, though every drift carries one (the console and the API show it). */
import { describe, expect, it } from "vitest";
import { driftTable } from "../../../src/cli/commands/state-commands.js";

const drift = (drift_id: string, confidence: number | null) => ({
  client_id: "acme-corp",
  stack_id: "prod",
  drift_id,
  type: "resource",
  component: "site_bucket",
  severity: "high",
  detected_at: "2026-12-01T10:00:00.000Z",
  acknowledged: false,
  expected_json: '"healthy"',
  observed_json: '"deleted"',
  confidence,
});

describe("blackwell drift's table", () => {
  it("shows each drift's confidence as a percentage, and a dash for one recorded before confidence existed", () => {
    const lines = driftTable([
      drift("drift-0123456789abcdef01234567", 0.85),
      drift("drift-89abcdef0123456789abcdef", null),
    ]).split("\n");
    const header = lines[0]!.split(/\s{2,}/);
    const column = header.indexOf("CONFIDENCE");
    expect(column).toBeGreaterThan(-1);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[column])).toEqual(["85%", "-"]);
  });

  it("says when nothing is open", () => {
    expect(driftTable([])).toBe("no open drift");
  });
});
