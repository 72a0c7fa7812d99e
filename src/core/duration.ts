/** Parses `30s`, `5m`, `2h`, `1d` (or a bare number of seconds) into milliseconds; null if malformed. */
export function parseDuration(text: string): number | null {
  // Policies repeat a handful of durations, and decide asks for them on every judgment.
  const known = parsed.get(text);
  if (known !== undefined) return known;
  const ms = parse(text);
  if (parsed.size >= PARSED_LIMIT) parsed.clear();
  parsed.set(text, ms);
  return ms;
}

const parsed = new Map<string, number | null>();
const PARSED_LIMIT = 1_000;

function parse(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) return null;
  const value = Number(match[1]);
  const unit = match[2] ?? "s";
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as "ms" | "s" | "m" | "h" | "d"];
  return Math.round(value * factor);
}
