/**
 * The window of a compliance report from what a user typed: `from` and `to`
 * as ISO 8601 times or as durations ago (`30d`, `12h`), `to` defaulting to
 * now and `from` to 30 days before `to`; `transient` a duration (default 2m).
 */
import { parseDuration } from "../duration.js";
import type { ReportWindow } from "./compliance-report.js";
import { isoTime, parseIsoTime } from "../iso-time.js";

export const DEFAULT_REPORT_SPAN_MS = 30 * 86_400_000;
export const DEFAULT_TRANSIENT_MS = 120_000;
/** A window longer than this is a typo, not a report (and would read every record ever kept). */
export const MAX_REPORT_SPAN_MS = 400 * 86_400_000;

export interface WindowArgs {
  from?: string | undefined;
  to?: string | undefined;
  transient?: string | undefined;
}

/** The window, or the reason it is not one (for a usage error or a 400). */
export function reportWindow(args: WindowArgs, now: number): ReportWindow | { error: string } {
  const to = args.to === undefined ? now : timeOf("to", args.to, now);
  if (typeof to === "string") return { error: to };
  const from = args.from === undefined ? to - DEFAULT_REPORT_SPAN_MS : timeOf("from", args.from, now);
  if (typeof from === "string") return { error: from };
  if (from >= to) return { error: `from (${isoTime(from)}) must be before to (${isoTime(to)})` };
  if (from >= now) return { error: `from (${isoTime(from)}) is not in the past` };
  if (to - from > MAX_REPORT_SPAN_MS) return { error: `the window may span at most 400 days` };
  let transient_ms = DEFAULT_TRANSIENT_MS;
  if (args.transient !== undefined) {
    const parsed = parseDuration(args.transient);
    if (parsed === null)
      return { error: `transient must be a duration like 2m or 90s, got ${JSON.stringify(args.transient)}` };
    transient_ms = parsed;
  }
  // Time after now has not happened: a stack's current state does not count for it.
  return { from, to: Math.min(to, now), transient_ms };
}

/** Epoch ms of an ISO 8601 time or of a duration before `now`; a message when it is neither. */
function timeOf(name: string, text: string, now: number): number | string {
  const ago = parseDuration(text);
  if (ago !== null) return now - ago;
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (day) {
    const at = parseIsoTime(text);
    // Date.parse rolls an impossible day over (2026-02-30 is March 2): refuse it instead.
    const [, y, m, d] = day.map(Number) as [number, number, number, number];
    const calendar = new Date(Date.UTC(y, m - 1, d));
    const real = calendar.getUTCFullYear() === y && calendar.getUTCMonth() === m - 1 && calendar.getUTCDate() === d;
    if (!Number.isNaN(at) && real) return at;
  }
  return `${name} must be an ISO 8601 time (2026-11-01 or 2026-11-01T00:00:00Z) or a duration ago (30d, 12h), got ${JSON.stringify(text)}`;
}
