/**
 * Waiting on a condition, never on a fixed sleep: poll until it holds or a generous deadline passes (60 s by default:
 * a fresh-clone run on a loaded machine is slow), and say what was awaited and what was last seen.
 */
const EVERY_MS = 250;

/** Polls `fn` until `ok` accepts its value. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, EVERY_MS));
  }
}

/** Polls `fn` until it returns a value (not null) without throwing; the last error, if any, says why not. */
export async function eventuallyValue<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${String(last)}`);
    await new Promise((r) => setTimeout(r, EVERY_MS));
  }
}
