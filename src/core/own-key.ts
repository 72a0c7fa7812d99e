/**
 * A record's own entry, never one inherited from Object.prototype. The core keys its state by names that
 * come from input (drift ids, provider, resource, integration and content-type names): a plain `map[name]`
 * read of "constructor" or "toString" found a function, and a pass threw while encoding its outputs, which
 * stalls the partition (found by fuzzing, issue 14 item 18).
 */
export function own<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/**
 * An empty map without a prototype, for maps filled by assignment (`map[name] = value`): on a plain object,
 * assigning to "__proto__" replaces its prototype instead of adding an entry, so a resource of that name
 * was never judged.
 */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
