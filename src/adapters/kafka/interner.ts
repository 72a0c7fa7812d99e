/**
 * Shares one copy among equal values decoded many times. A decoded client state held in memory then costs its own
 * data, not another copy of what most clients of a fleet have in common: the same policy, the same integration
 * configurations, the same provider names, statuses and stack ids. Measured on the benchmark's states, strings and
 * configurations decoded anew were over half of a decoded state's heap.
 *
 * Shared values must never be mutated (the core never mutates state): configurations are frozen, so a mutation
 * fails loudly instead of changing every client that shares them. Bounded: when full a table starts over, so a stream
 * of distinct values costs no more than its limit of them.
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

/** Strings longer than this are rarely repeated (ids, hashes, messages): not worth a table entry. */
const TEXT_MAX_LENGTH = 128;
const texts = new Map<string, string>();
const TEXT_LIMIT = 16_384;

/** One copy of a short string decoded many times (a provider name, a status, a stack id, a URL). */
export function sharedText(text: string): string {
  if (text.length > TEXT_MAX_LENGTH) return text;
  const found = texts.get(text);
  if (found !== undefined) return found;
  if (texts.size >= TEXT_LIMIT) texts.clear();
  texts.set(text, text);
  return text;
}

/** One empty list and one empty record for every decoded state that holds one (frozen: states are never mutated). */
export const EMPTY_LIST: never[] = Object.freeze([]) as unknown as never[];
export const EMPTY_RECORD: Record<string, never> = Object.freeze({}) as Record<string, never>;

/** The same strings, each shared; an empty list is `EMPTY_LIST`. */
export function sharedTexts(list: readonly string[]): string[] {
  return list.length === 0 ? EMPTY_LIST : list.map(sharedText);
}

/** Configuration texts longer than this are parsed anew every time (and frozen). */
const JSON_MAX_LENGTH = 4096;
const parsed = new Interner<unknown>(4096);

/**
 * A JSON text parsed once and shared, frozen, among everyone who decodes the same text: an integration's configuration
 * is usually the same for every stack of a fleet, and the observed one the same as the declared. Throws on invalid
 * JSON like `JSON.parse`.
 */
export function sharedJson(text: string): unknown {
  // Frozen all the same: a stack's list of integrations is shared, and with it this configuration.
  if (text.length > JSON_MAX_LENGTH) return deepFreeze(JSON.parse(text));
  return parsed.intern(text, () => deepFreeze(JSON.parse(text)));
}

function deepFreeze(value: unknown): unknown {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
