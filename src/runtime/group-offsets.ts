/**
 * The reconciler group's committed offsets, following its tasks' input positions outside their transactions. A task
 * starts from the positions in its changelog (written in each of its transactions); the group's offsets are what lag
 * monitors and Kafka's tools read. One commit in flight at a time, carrying the latest position of every partition
 * noted since the one before, at most every `intervalMs`: a commit that fails (a rebalance) is retried with the next.
 */
import type { InputOffset } from "../adapters/kafka/port.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";

/** Default least time between two commits of the group's offsets. */
export const GROUP_OFFSETS_INTERVAL_MS = 100;

export class GroupOffsets {
  /** Latest position per `topic:partition` not committed yet. */
  private readonly pending = new Map<string, InputOffset>();
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastAt = 0;
  private closed = false;

  constructor(
    private readonly commit: (offsets: InputOffset[]) => Promise<void>,
    private readonly log: Logger,
    private readonly intervalMs = GROUP_OFFSETS_INTERVAL_MS,
  ) {}

  /** Notes positions to commit (a later note of the same partition replaces an earlier one). */
  note(offsets: readonly InputOffset[]): void {
    for (const o of offsets) this.pending.set(`${o.topic}:${o.partition}`, o);
    this.schedule();
  }

  /** Commits what is pending now (after the commit in flight); resolves when done, failed or not. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.inFlight) await this.inFlight;
    if (this.pending.size === 0) return;
    const offsets = [...this.pending.values()];
    this.pending.clear();
    this.lastAt = Date.now();
    this.inFlight = this.commit(offsets)
      .catch((err: unknown) => {
        // Put back what no later note replaced: the next commit carries it.
        for (const o of offsets) {
          const key = `${o.topic}:${o.partition}`;
          if (!this.pending.has(key)) this.pending.set(key, o);
        }
        this.log.debug({ err: errorMessage(err), partitions: offsets.length }, "committing group offsets failed");
      })
      .finally(() => {
        this.inFlight = null;
        if (this.pending.size > 0) this.schedule();
      });
    await this.inFlight;
  }

  /** Stops committing; what is pending is dropped (the changelog has it). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.closed || this.timer || this.inFlight) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.flush();
      },
      Math.max(0, this.lastAt + this.intervalMs - Date.now()),
    );
    this.timer.unref();
  }
}
