/**
 * Canonical JSON: object keys sorted, so equal values have equal text and
 * equal hashes whatever order a YAML file or a provider wrote them in.
 *
 * Keys are sorted by UTF-16 code units, all of them, as RFC 8785 does: `{"10":1,"9":2}`. Written directly rather than
 * as `JSON.stringify` of a key-sorted copy (every judgment that emits a StateRecord hashes its observed view this way,
 * and the sorted copies were a tenth of the reconciler's garbage). The text is that of `JSON.stringify(sortedCopy)`
 * except for integer-like keys, which a JavaScript object puts first in numeric order whatever the insertion order
 * (test/unit/core/canonical-json.test.ts).
 */
export function canonicalJson(value: unknown): string {
  return write(value) as string;
}

/**
 * The text of objects that cannot change, written once: the integration configurations a fleet's clients share are
 * deep-frozen (src/adapters/kafka/interner.ts) and were written again for every observed hash and fingerprint that
 * holds them. Only objects frozen all the way down qualify; a frozen object with a mutable part is written each time.
 */
const immutableText = new WeakMap<object, string>();
const notImmutable = new WeakSet<object>();

function frozenThroughout(value: object): boolean {
  if (!Object.isFrozen(value)) return false;
  for (const child of Object.values(value))
    if (typeof child === "object" && child !== null && !frozenThroughout(child)) return false;
  return true;
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Object.isFrozen(value)) return writeFrozen(value);
      return writeObject(value);
    }
    case "bigint":
      // As JSON.stringify: a bigint has no JSON form.
      return JSON.stringify(value);
    default:
      // undefined, functions and symbols: left out of objects, null in arrays, nothing at the top.
      return undefined;
  }
}

function writeFrozen(value: object): string {
  const known = immutableText.get(value);
  if (known !== undefined) return known;
  const text = writeObject(value);
  if (!notImmutable.has(value)) {
    if (frozenThroughout(value)) immutableText.set(value, text);
    else notImmutable.add(value);
  }
  return text;
}

function writeObject(value: object): string {
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      out += write(value[i]) ?? "null";
    }
    return `${out}]`;
  }
  const keys = Object.keys(value).sort();
  let out = "{";
  let first = true;
  for (const key of keys) {
    const text = write((value as Record<string, unknown>)[key]);
    if (text === undefined) continue;
    out += first ? `${JSON.stringify(key)}:${text}` : `,${JSON.stringify(key)}:${text}`;
    first = false;
  }
  return `${out}}`;
}
