/**
 * The executors' global circuit breaker: at most `maxHeals` heal actions per
 * window across every client and every executor of the fleet. Each executor
 * counts its own actions as it takes them and its peers' as their results
 * arrive on heal-results (see fleet-actions.ts), one count per command key.
 * When it is open, commands wait (their partitions pause) until the window
 * frees a slot. Two executors deciding in the same instant may both act, so
 * the fleet can exceed the limit by at most one action per other executor.
 * Pure: the caller passes the time.
 */
export class GlobalBreaker {
  /** When each action (by command key) was taken. */
  private readonly acted = new Map<string, number>();
  private openedAt: number | null = null;

  constructor(
    readonly maxHeals: number,
    readonly windowMs: number,
  ) {}

  private prune(now: number): void {
    for (const [key, at] of this.acted) if (at <= now - this.windowMs) this.acted.delete(key);
  }

  /** When it opens or stays open: until when; null when an action may go now. */
  openUntil(now: number): number | null {
    this.prune(now);
    if (this.acted.size < this.maxHeals) {
      this.openedAt = null;
      return null;
    }
    this.openedAt ??= now;
    const times = [...this.acted.values()].sort((a, b) => a - b);
    return times[times.length - this.maxHeals]! + this.windowMs;
  }

  /** Identifies the current opening (so each opening is audited once per client). */
  get opening(): number | null {
    return this.openedAt;
  }

  /** This executor acts on `key` now. */
  record(now: number, key: string): void {
    if (!this.acted.has(key)) this.acted.set(key, now);
  }

  /** An action of the fleet (possibly this executor's own), seen on heal-results; the first sighting of a key counts. */
  observe(at: number, key: string, now: number): void {
    if (at > now - this.windowMs && !this.acted.has(key)) this.acted.set(key, at);
  }

  /** Actions counted in the window ending `now`. */
  count(now: number): number {
    this.prune(now);
    return this.acted.size;
  }
}
