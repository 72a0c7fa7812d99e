/**
 * `reject --false-positive` was recorded in the audit (and counted by the report) but `blackwell history` and the
 * answer `reject` printed showed a plain `heal_rejected`: the operator could not tell from the CLI that it was taken.
 */
import { describe, expect, it } from "vitest";
import { answerLine } from "../../../src/cli/commands/operator-commands.js";
import { auditEntry } from "../../../src/cli/commands/state-commands.js";

const rejection = (changes: Record<string, unknown>) => ({
  client_id: "acme-corp",
  stack_id: "prod",
  drift_id: "drift-0123456789abcdef01234567",
  action: "heal_rejected",
  timestamp: "2026-12-01T10:00:00.000Z",
  triggered_by: "alice",
  success: true,
  reason: "the bucket was moved on purpose",
  changes_made_json: JSON.stringify({ command_id: "c-1", ...changes }),
});

describe("a rejection as a false positive", () => {
  it("says so in the line reject prints", () => {
    expect(answerLine("reject", "drift-0123456789abcdef01234567", rejection({ false_positive: true }))).toBe(
      "reject drift-0123456789abcdef01234567: done, as a false positive (heal_rejected by alice at 2026-12-01T10:00:00.000Z)",
    );
    expect(answerLine("reject", "drift-0123456789abcdef01234567", rejection({}))).toBe(
      "reject drift-0123456789abcdef01234567: done (heal_rejected by alice at 2026-12-01T10:00:00.000Z)",
    );
  });

  it("says so in its blackwell history row", () => {
    expect(auditEntry(rejection({ false_positive: true })).what).toBe("heal_rejected (false positive)");
    expect(auditEntry(rejection({})).what).toBe("heal_rejected");
  });

  it("is not read into an audit whose changes are not JSON", () => {
    expect(auditEntry({ ...rejection({}), changes_made_json: "{" }).what).toBe("heal_rejected");
  });
});
