/**
 * Deep, order-insensitive comparison of configurations, with RFC 6901 JSON
 * pointers whose values are ignored (fields a provider is expected to change).
 */
import { canonicalJson } from "../canonical-json.js";

/** Unescapes one JSON pointer into path segments; `""` is the whole document. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`JSON pointer ${JSON.stringify(pointer)} must start with "/"`);
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function without(value: unknown, path: string[]): unknown {
  if (path.length === 0) return undefined;
  if (value === null || typeof value !== "object") return value;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(value)) {
    // "*" ignores the field in every element; a number addresses one element.
    if (head === "*") return value.map((v) => without(v, rest));
    const index = Number(head);
    if (!Number.isInteger(index) || index < 0 || index >= value.length) return value;
    const copy = [...value];
    if (rest.length === 0) copy.splice(index, 1);
    else copy[index] = without(copy[index], rest);
    return copy;
  }
  if (!(head in (value as object))) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (rest.length === 0) delete copy[head];
  else copy[head] = without(copy[head], rest);
  return copy;
}

/** Arrays become sorted by their canonical text, so element order never matters. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(normalize).sort((a, b) => {
      const x = canonicalJson(a),
        y = canonicalJson(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalize(v);
    return out;
  }
  return value;
}

export function stripIgnored(value: unknown, ignore: readonly string[]): unknown {
  let out = value;
  for (const pointer of ignore) out = without(out, parsePointer(pointer));
  return out;
}

/**
 * Results per (expected, observed) object pair and ignore list: a pass asks again for every event of the client, and
 * the decoded configurations are shared among the stacks (and clients) that declare or report the same one, each
 * stack with its own ignore list.
 */
const matches = new WeakMap<object, WeakMap<object, Map<string, boolean>>>();

export function configsMatch(expected: unknown, observed: unknown, ignore: readonly string[] = []): boolean {
  const cacheable =
    typeof expected === "object" && expected !== null && typeof observed === "object" && observed !== null;
  const ignoring = ignore.length === 0 ? "" : JSON.stringify(ignore);
  const known = cacheable ? matches.get(expected)?.get(observed)?.get(ignoring) : undefined;
  if (known !== undefined) return known;
  const result =
    canonicalJson(normalize(stripIgnored(expected, ignore))) ===
    canonicalJson(normalize(stripIgnored(observed, ignore)));
  if (cacheable) {
    let byObserved = matches.get(expected);
    if (!byObserved) matches.set(expected, (byObserved = new WeakMap()));
    let byIgnore = byObserved.get(observed);
    if (!byIgnore) byObserved.set(observed, (byIgnore = new Map()));
    byIgnore.set(ignoring, result);
  }
  return result;
}
