/**
 * Long CPU work cut into stretches so that I/O gets through between them: fetches, consumer heartbeats, transaction
 * commits, health checks. A backlog's passes only chain promises while they decode and fold, and held the loop for
 * seconds without pauses (GET /healthz took up to 2.6 s while the benchmark's backlog drained); at 100 000 stacks a
 * pass's commit encodes and stores about 6 000 changelog rows, 200 to 350 ms and 110 to 200 ms in one stretch each.
 *
 * The stretches of every task in a process share the event loop: each pause lets exactly one waiting stretch go on
 * per turn of the loop. With a per-task `setImmediate` pause, the six tasks of a draining reconciler all resumed in the
 * same check phase, one after the other, so the loop was held for six stretches at a time (120 to 180 ms with 20 ms
 * stretches, by a watchdog timer), which is what a live record arriving then waited for.
 */

/** Longest stretch of work before it lets I/O through. */
export const STRETCH_MS = 20;

/** One waiting stretch resumed per turn of the event loop, in the order they paused. One per process. */
export class LoopTurns {
  private readonly waiting: Array<() => void> = [];
  private scheduled = false;

  /** Resolves on a later turn of the event loop, after the stretches that paused before it. */
  next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.release);
      }
    });
  }

  private readonly release = (): void => {
    const resume = this.waiting.shift();
    // Scheduled from the check phase, the next release runs on the next turn, after that turn's timers and I/O.
    if (this.waiting.length > 0) setImmediate(this.release);
    else this.scheduled = false;
    resume?.();
  };
}

/** The stretches of one piece of work: `due()` once it held the loop for `STRETCH_MS`, then `pause()`. */
export class TimeSlice {
  private since = performance.now();

  constructor(private readonly turns: LoopTurns) {}

  /** Whether this stretch has held the event loop long enough. */
  due(): boolean {
    return performance.now() - this.since >= STRETCH_MS;
  }

  /** Lets timers, I/O and the other stretches run, then starts a new stretch. */
  async pause(): Promise<void> {
    await this.turns.next();
    this.since = performance.now();
  }
}
