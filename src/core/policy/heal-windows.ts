/**
 * Heal windows: deny windows block heals, and where allow windows exist for a
 * drift kind, heals run only inside one of them; deny wins. Pure: local time
 * comes from Intl (time-zone rules are data, not I/O).
 */
import { WEEKDAYS, type HealWindow, type Weekday } from "../model/desired.js";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** True for a time zone name Intl knows (validation at the edges). */
export function isTimeZone(timezone: string): boolean {
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

/** Weekday and minute of the day of `at` in `timezone`. */
function localTime(at: number, timezone: string): { day: Weekday; minute: number } {
  const parts = formatter(timezone).formatToParts(new Date(at));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const day = get("weekday").toLowerCase().slice(0, 3) as Weekday;
  return { day, minute: Number(get("hour")) * 60 + Number(get("minute")) };
}

export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  return h * 60 + m;
}

function inside(w: HealWindow, at: number): boolean {
  const { day, minute } = localTime(at, w.timezone);
  const start = minutesOf(w.start);
  const end = minutesOf(w.end);
  if (start <= end) return w.days.includes(day) && minute >= start && minute < end;
  // Over midnight (22:00-06:00): the evening part belongs to `day`, the morning part to the day before.
  const before = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;
  return (w.days.includes(day) && minute >= start) || (w.days.includes(before) && minute < end);
}

const applies = (w: HealWindow, kind: string) => w.drift_types.length === 0 || w.drift_types.includes(kind);

/** Why a heal of `kind` may not run at `at`, or null when it may. */
export function windowBlock(windows: readonly HealWindow[], kind: string, at: number): string | null {
  const mine = windows.filter((w) => applies(w, kind));
  const deny = mine.find((w) => w.action === "deny" && inside(w, at));
  if (deny) return `inside the deny window ${deny.days.join(",")} ${deny.start}-${deny.end} ${deny.timezone}`;
  const allows = mine.filter((w) => w.action === "allow");
  if (allows.length > 0 && !allows.some((w) => inside(w, at)))
    return `outside every allow window (${allows.map((w) => `${w.days.join(",")} ${w.start}-${w.end} ${w.timezone}`).join("; ")})`;
  return null;
}

const MINUTE = 60_000;

/** The first minute at or after `from` when a heal of `kind` may run (searching 8 days ahead), or null if never. */
export function nextOpening(windows: readonly HealWindow[], kind: string, from: number): number | null {
  let t = Math.ceil(from / MINUTE) * MINUTE;
  // Coarse 15-minute steps, then back up to the exact minute.
  const limit = from + 8 * 24 * 60 * MINUTE;
  while (t <= limit) {
    if (windowBlock(windows, kind, t) === null) {
      let exact = t;
      while (exact - MINUTE >= from && windowBlock(windows, kind, exact - MINUTE) === null) exact -= MINUTE;
      return Math.max(exact, from);
    }
    t += 15 * MINUTE;
  }
  return null;
}
