import { describe, expect, it } from "vitest";
import { reportWindow } from "../../../src/core/report/report-window.js";

const NOW = Date.parse("2026-12-02T12:00:00Z");

describe("a report's window", () => {
  it("defaults to the 30 days before now and takes ISO times or durations before now", () => {
    expect(reportWindow({}, NOW)).toEqual({ from: NOW - 30 * 86_400_000, to: NOW, transient_ms: 120_000 });
    expect(reportWindow({ from: "12h", transient: "90s" }, NOW)).toEqual({
      from: NOW - 12 * 3_600_000,
      to: NOW,
      transient_ms: 90_000,
    });
    expect(reportWindow({ from: "2026-11-01", to: "2026-11-02T00:00:00Z" }, NOW)).toEqual({
      from: Date.parse("2026-11-01"),
      to: Date.parse("2026-11-02T00:00:00Z"),
      transient_ms: 120_000,
    });
  });

  // Found trying a fresh clone: a --to an hour ahead counted that hour as time the stacks spent in their state.
  it("cuts the window at now: time after now has not happened", () => {
    expect(reportWindow({ from: "1h", to: "2026-12-02T13:00:00Z" }, NOW)).toMatchObject({ to: NOW });
    expect(reportWindow({ from: "2026-12-03" }, NOW)).toEqual({
      error: "from (2026-12-03T00:00:00.000Z) must be before to (2026-12-02T12:00:00.000Z)",
    });
  });

  // Found trying a fresh clone: 2026-02-30 was taken as March 2.
  it("refuses a day that does not exist rather than rolling it over", () => {
    for (const day of ["2026-02-30", "2026-02-31T00:00:00Z", "2026-13-01"])
      expect(reportWindow({ from: day }, NOW)).toEqual({
        error: `from must be an ISO 8601 time (2026-11-01 or 2026-11-01T00:00:00Z) or a duration ago (30d, 12h), got ${JSON.stringify(day)}`,
      });
    expect(reportWindow({ from: "2024-02-29", to: "2024-03-01" }, NOW)).toMatchObject({
      from: Date.parse("2024-02-29"),
    });
  });
});
