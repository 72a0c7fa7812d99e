/**
 * Shares one object among equal values decoded many times (most stacks of a fleet carry the same policy): a decoded
 * client state held in memory then costs its own data, not another copy of the fleet's policy. Values are keyed by
 * their JSON and must never be mutated (the core never mutates state). Bounded: when full it starts over, so a
 * stream of distinct values costs no more than `limit` of them.
 */
export class Interner<T> {
  private readonly values = new Map<string, T>();

  constructor(private readonly limit = 1024) {}

  intern(key: string, make: () => T): T {
    const found = this.values.get(key);
    if (found !== undefined) return found;
    if (this.values.size >= this.limit) this.values.clear();
    const value = make();
    this.values.set(key, value);
    return value;
  }
}
