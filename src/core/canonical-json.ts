/**
 * Canonical JSON: object keys sorted, so equal values have equal text and
 * equal hashes whatever order a YAML file or a provider wrote them in.
 *
 * Written directly rather than as `JSON.stringify` of a key-sorted copy: every judgment that emits a StateRecord
 * hashes its observed view this way, and the sorted copies were a tenth of the reconciler's garbage. The text is the
 * same as `JSON.stringify(sortedCopy)`'s (test/unit/core/canonical-json.test.ts checks it against that).
 */
export function canonicalJson(value: unknown): string {
  return write(value) as string;
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
    case "bigint":
      // As JSON.stringify: a bigint has no JSON form.
      return JSON.stringify(value);
    default:
      // undefined, functions and symbols: left out of objects, null in arrays, nothing at the top.
      return undefined;
  }
}
