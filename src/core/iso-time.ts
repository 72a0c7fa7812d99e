/**
 * ISO 8601 times as the records carry them (`2026-12-02T14:22:47.123Z`), written and read without a `Date`.
 *
 * Every StateRecord the reconciler writes has eight or more times in it, and every provider and resource event has
 * one to read: `new Date(ms).toISOString()` took 3% of the reconciler's CPU draining the benchmark's backlog (about
 * 2 µs a call on our machines; this takes a quarter of that). The text is exactly `Date`'s: anything outside the
 * common form (a year before 0 or after 9999, a fraction of a millisecond, an offset other than Z, a 24:00) goes
 * through `Date` as before. test/unit/core/iso-time.test.ts checks both against `Date` on random input.
 */

const MS_PER_DAY = 86_400_000;
/** 10000-01-01T00:00:00.000Z: from here `Date` writes a six-digit year. */
const YEAR_10000_MS = 253_402_300_800_000;

/** `new Date(ms).toISOString()`, the same text (and the same RangeError for a time that is not one). */
export function isoTime(ms: number): string {
  if (!(ms >= 0 && ms < YEAR_10000_MS) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  const { year, month, day } = civilFromDays(days);
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const milli = rest - second * 1000;
  return `${pad4(year)}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}.${pad3(milli)}Z`;
}

/**
 * `Date.parse(text)`, the same number (NaN for a text that is no time). `YYYY-MM-DDTHH:MM:SSZ` and
 * `YYYY-MM-DDTHH:MM:SS.sssZ` with valid fields are read here; any other text goes to `Date.parse`.
 */
export function parseIsoTime(text: string): number {
  // Callers check for a string first; anything else is what Date.parse makes of it.
  if (typeof text !== "string") return Date.parse(text);
  const n = text.length;
  if ((n !== 20 && n !== 24) || text.charCodeAt(n - 1) !== 90 /* Z */) return Date.parse(text);
  if (!at(text, 4, 45) || !at(text, 7, 45) || !at(text, 10, 84) || !at(text, 13, 58) || !at(text, 16, 58))
    return Date.parse(text);
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  let milli = 0;
  if (n === 24) {
    if (!at(text, 19, 46)) return Date.parse(text);
    milli = digits(text, 20, 3);
  }
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59 ||
    milli < 0
  )
    return Date.parse(text);
  return daysFromCivil(year, month, day) * MS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli;
}

function at(text: string, i: number, code: number): boolean {
  return text.charCodeAt(i) === code;
}

/** The decimal number of `length` digits at `from`, or -1 if one of them is not a digit. */
function digits(text: string, from: number, length: number): number {
  let n = 0;
  for (let i = from; i < from + length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeap(year) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Days since 1970-01-01 <-> proleptic Gregorian dates, in 400-year eras of 146 097 days, years starting in March
// (so the leap day is the last day of a year).

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`;
}

function pad4(n: number): string {
  return n < 10 ? `000${n}` : n < 100 ? `00${n}` : n < 1000 ? `0${n}` : `${n}`;
}
