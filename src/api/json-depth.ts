/**
 * Nesting depth of JSON text, measured before it is parsed: JSON.parse copes
 * with 40,000 nested objects, but whatever walks the result next (the YAML
 * reader of a policy, JSON.stringify of a webhook payload, Avro) recurses and
 * overflows the stack, which answered 500. A body nested deeper than the
 * limit is the caller's error (400).
 */
import { BlackwellError } from "../errors.js";

/** Deepest nesting of objects and arrays a JSON body may have. Real policies nest 5 levels, provider payloads ~20. */
export const MAX_JSON_DEPTH = 100;

/** True when `text` nests objects/arrays deeper than `limit` (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return false;
}

/** JSON.parse after the depth check; throws BLACKWELL_ERR_BAD_REQUEST for a body nested too deep. */
export function parseJsonBody(text: string, limit = MAX_JSON_DEPTH): unknown {
  if (nestsDeeperThan(text, limit))
    throw new BlackwellError("BLACKWELL_ERR_BAD_REQUEST", `the JSON body nests deeper than ${limit} levels`);
  return JSON.parse(text);
}
