/**
 * The executors' global circuit breaker: at most `maxHeals` actions per
 * window across every client this executor serves. When it is open, commands
 * wait (their partitions pause) until the window frees a slot. Pure: the
 * caller passes the time. Each executor instance keeps its own count, so the
 * fleet-wide limit is `maxHeals` times the number of executor instances.
 */
export class GlobalBreaker {
  private readonly acted: number[] = [];
  private openedAt: number | null = null;

  constructor(readonly maxHeals: number, readonly windowMs: number) {}

  private prune(now: number): void {
    while (this.acted.length > 0 && this.acted[0]! <= now - this.windowMs) this.acted.shift();
  }

  /** When it opens or stays open: until when; null when an action may go now. */
  openUntil(now: number): number | null {
    this.prune(now);
    if (this.acted.length < this.maxHeals) {
      this.openedAt = null;
      return null;
    }
    this.openedAt ??= now;
    return this.acted[this.acted.length - this.maxHeals]! + this.windowMs;
  }

  /** Identifies the current opening (so each opening is audited once per client). */
  get opening(): number | null {
    return this.openedAt;
  }

  record(now: number): void {
    this.acted.push(now);
  }
}
