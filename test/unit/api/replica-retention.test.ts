import { afterEach, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, stackRow, startUnitApi, type UnitApi } from "./api-fixture.js";

const DAY = 86_400_000;
const NOW = Date.parse("2026-12-01T00:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

function fill(api: UnitApi, agesInDays: number[]) {
  api.stack("acme-corp", stackRow("prod"));
  agesInDays.forEach((age, i) => {
    const at = iso(NOW - age * DAY);
    api.driftEvent({
      event_id: `evt-${i}`,
      client_id: "acme-corp",
      stack_id: "prod",
      drift_id: "drift-0123456789abcdef01234567",
      transition: "opened",
      detected_at: at,
      timestamp: at,
    });
    api.audit({
      audit_id: `aud-${i}`,
      client_id: "acme-corp",
      stack_id: "prod",
      action: "heal_command_issued",
      timestamp: at,
    });
  });
}

describe("the API's replica keeps what the topics keep", () => {
  let api: UnitApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it("drops drift events past the drift-events retention and audit entries past the audit retention (defaults 30 and 365 days)", async () => {
    api = await startUnitApi();
    fill(api, [1, 29, 31, 200, 400]);
    expect(api.replica.prune(NOW)).toEqual({ drift_events: 3, audit: 1, dead_letters: 0, predictions: 0 });
    const window = `from=${iso(NOW - 390 * DAY)}&to=${iso(NOW + 1)}`;
    const token = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const history = await api.app.inject({ url: "/v1/clients/acme-corp/history?limit=100", headers: token });
    expect(history.json().events.filter((e: { kind: string }) => e.kind === "drift")).toHaveLength(2);
    expect(history.json().events.filter((e: { kind: string }) => e.kind === "audit")).toHaveLength(4);
    // Pruning again removes nothing more.
    expect(api.replica.prune(NOW)).toEqual({ drift_events: 0, audit: 0, dead_letters: 0, predictions: 0 });
    // The report reads what is left: the two recent openings.
    const report = await api.app.inject({ url: `/v1/report?${window}`, headers: token });
    expect(report.json().fleet.drifts_opened).toBe(2);
  });

  it("follows the configured retention (BLACKWELL_RETENTION)", async () => {
    api = await startUnitApi({ retention: { "drift-events": 7 * DAY, audit: 730 * DAY } });
    fill(api, [1, 8, 400]);
    expect(api.replica.prune(NOW)).toEqual({ drift_events: 2, audit: 0, dead_letters: 0, predictions: 0 });
  });
});
