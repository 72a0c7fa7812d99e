/**
 * A record's own entry, never one inherited from Object.prototype. The core keys its state by names that
 * come from input (drift ids, provider, resource, integration and content-type names): a plain `map[name]`
 * read of "constructor" or "toString" found a function, and a pass threw while encoding its outputs, which
 * stalls the partition (found by fuzzing, issue 14 item 18).
 */
export function own<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}
