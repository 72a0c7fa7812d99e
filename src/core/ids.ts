/** Deterministic ids derived from content, so duplicates are recognisable downstream and replay reproduces them. */
import { sha256Hex } from "./sha256.js";

const SEP = "\u0000";

export function driftId(client_id: string, stack_id: string, type: string, component: string): string {
  return `drift-${sha256Hex([client_id, stack_id, type, component].join(SEP)).slice(0, 24)}`;
}

export function derivedId(prefix: string, ...parts: Array<string | number | null>): string {
  return `${prefix}-${sha256Hex(parts.map((p) => String(p)).join(SEP)).slice(0, 24)}`;
}
