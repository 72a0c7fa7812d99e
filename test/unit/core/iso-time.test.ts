/**
 * The times in every record users read (StateRecord, drift events, audits) are written by `isoTime`, and every
 * provider and resource event's time is read by `parseIsoTime`: both must say exactly what `Date` says, for any input.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isoTime, parseIsoTime } from "../../../src/core/iso-time.js";

const dateIso = (ms: number): string => {
  try {
    return new Date(ms).toISOString();
  } catch (err) {
    return `throws ${(err as Error).name}`;
  }
};
const ours = (ms: number): string => {
  try {
    return isoTime(ms);
  } catch (err) {
    return `throws ${(err as Error).name}`;
  }
};

/** The largest time value a Date holds (±100 000 000 days). */
const MAX_TIME = 8.64e15;

describe("isoTime", () => {
  it("writes what Date writes at the edges of the common form", () => {
    for (const ms of [0, 1, 999, 86_399_999, 951_782_400_000, 253_402_300_799_999, 253_402_300_800_000, -1]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    expect(isoTime(1_796_221_598_477)).toBe("2026-12-02T14:26:38.477Z");
    expect(isoTime(951_782_400_000)).toBe("2000-02-29T00:00:00.000Z");
  });

  it("is Date's text (or Date's error) for any number", () => {
    const anyTime = fc.oneof(
      fc.integer({ min: 0, max: 253_402_300_799_999 }),
      fc.integer({ min: -MAX_TIME, max: MAX_TIME }),
      fc.double({ min: -MAX_TIME * 1.1, max: MAX_TIME * 1.1 }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 0.5, -0.5, MAX_TIME, MAX_TIME + 1),
    );
    fc.assert(
      fc.property(anyTime, (ms) => ours(ms) === dateIso(ms)),
      { numRuns: 20_000 },
    );
  });
});

describe("parseIsoTime", () => {
  it("reads what Date.parse reads, and refuses what it refuses", () => {
    for (const text of [
      "2026-12-02T14:22:47.123Z",
      "2026-12-02T14:22:47Z",
      "2024-02-29T00:00:00.000Z",
      "2023-02-29T00:00:00.000Z",
      "2026-13-01T00:00:00Z",
      "2026-12-02T24:00:00Z",
      "2026-12-02T14:22:60Z",
      "2026-12-02T14:22:47.12Z",
      "2026-12-02T14:22:47+02:00",
      "2026-12-02",
      "not a time",
      "",
    ]) {
      expect(Object.is(parseIsoTime(text), Date.parse(text)), text).toBe(true);
    }
  });

  it("is Date.parse for any time written in the records' form, and for texts close to it", () => {
    const written = fc.integer({ min: -62_198_755_200_000, max: 253_402_300_799_999 }).map((ms) => isoTime(ms));
    const withoutMillis = written.map((t) => (t.length === 24 ? `${t.slice(0, 19)}Z` : t));
    // One character changed anywhere: a digit out of range, a separator gone, a letter in a number.
    const mutated = fc
      .tuple(written, fc.nat(), fc.constantFrom("0", "3", "9", "-", ":", "T", "Z", ".", " ", "a", "+"))
      .map(([t, i, c]) => {
        const at = i % t.length;
        return t.slice(0, at) + c + t.slice(at + 1);
      });
    const fields = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 61 }),
        fc.option(fc.integer({ min: 0, max: 999 })),
      )
      .map(([y, mo, d, h, mi, s, ms]) => {
        const p = (n: number, w: number) => String(n).padStart(w, "0");
        return `${p(y, 4)}-${p(mo, 2)}-${p(d, 2)}T${p(h, 2)}:${p(mi, 2)}:${p(s, 2)}${ms === null ? "" : `.${p(ms, 3)}`}Z`;
      });
    fc.assert(
      fc.property(fc.oneof(written, withoutMillis, mutated, fields, fc.string()), (text) =>
        Object.is(parseIsoTime(text), Date.parse(text)),
      ),
      { numRuns: 20_000 },
    );
  });
});
