/** Deterministic ids derived from content, so duplicates are recognisable downstream and replay reproduces them. */
import { sha256Hex } from "./sha256.js";

const SEP = "\u0000";

/** Drift ids are asked for on every pass; remembering the recent ones saves most of the hashing. */
const recentDriftIds = new Map<string, string>();
const RECENT_LIMIT = 50_000;

export function driftId(client_id: string, stack_id: string, type: string, component: string): string {
  const input = [client_id, stack_id, type, component].join(SEP);
  let id = recentDriftIds.get(input);
  if (id === undefined) {
    id = `drift-${sha256Hex(input).slice(0, 24)}`;
    if (recentDriftIds.size >= RECENT_LIMIT) recentDriftIds.clear();
    recentDriftIds.set(input, id);
  }
  return id;
}

export function derivedId(prefix: string, ...parts: Array<string | number | null>): string {
  return `${prefix}-${sha256Hex(parts.map((p) => String(p)).join(SEP)).slice(0, 24)}`;
}
