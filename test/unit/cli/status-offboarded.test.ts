/** `blackwell status <client>` of an offboarded client said "not applied yet", as if it had never been set up. */
import { describe, expect, it } from "vitest";
import { offboardedLine, offboardingOf } from "../../../src/cli/commands/state-commands.js";

const entry = (action: string, timestamp: string, extra: { success?: boolean; reason?: string | null } = {}) => ({
  client_id: "acme-corp",
  stack_id: null,
  drift_id: null,
  action,
  timestamp,
  triggered_by: "ops@acme",
  success: extra.success ?? true,
  reason: extra.reason ?? null,
  changes_made_json: "{}",
});

describe("status of a client without stacks", () => {
  const applied = entry("desired_state_applied", "2026-11-01T00:00:00.000Z");
  const offboarded = entry("client_offboarded", "2026-11-20T00:00:00.000Z", { reason: "contract ended" });

  it("says when, by whom and why the client was offboarded", () => {
    const found = offboardingOf([applied, offboarded]);
    expect(found).toEqual(offboarded);
    expect(offboardedLine("acme-corp", found!)).toBe(
      "client acme-corp was offboarded at 2026-11-20T00:00:00.000Z by ops@acme (reason: contract ended): it has no stacks",
    );
    expect(offboardedLine("acme-corp", { ...offboarded, reason: null })).toBe(
      "client acme-corp was offboarded at 2026-11-20T00:00:00.000Z by ops@acme: it has no stacks",
    );
  });

  it("does not call a client offboarded when it was never, the offboarding was refused, or it was brought back", () => {
    expect(offboardingOf([applied])).toBeNull();
    expect(offboardingOf([applied, { ...offboarded, success: false }])).toBeNull();
    expect(offboardingOf([applied, offboarded, entry("desired_state_applied", "2026-11-25T00:00:00.000Z")])).toBeNull();
  });
});
