/**
 * The merge of one task's input partitions into one ordered stream, as Kafka
 * Streams' partition group does: always the buffered head with the smallest
 * timestamp (ties: the fixed input order, then offset), offset order within a
 * partition. While an input known to have unfetched data has nothing
 * buffered, the merge waits for it up to `maxIdleMs` before going on without
 * it. Stream time is the largest timestamp taken; it never goes back, and a
 * record older than it is *late* (processed where it arrived, flagged).
 *
 * Pure: no clock, no I/O. Time (`now`) and what the consumer knows about each
 * input (`hasMore`) are arguments, so the decisions can be tested and replayed.
 */
import type { Buffered, InputView, MergeOrder, MergeStep } from "./merge-order.js";
import { InputQueues } from "./input-queues.js";

export type { Buffered, MergeStep } from "./merge-order.js";

/** Default of `BLACKWELL_MAX_TASK_IDLE`: how long an empty input with unfetched data holds the others back. */
export const DEFAULT_MAX_TASK_IDLE_MS = 1_000;

export interface PartitionGroupOptions {
  /** The inputs in tie-break order (desired-state first). */
  inputs: readonly string[];
  /** How long an empty input with unfetched data holds the others back. 0: never wait. */
  maxIdleMs: number;
  /** Stream time to start from (a restored task's). Default: none yet. */
  streamTime?: number;
}

export class PartitionGroup<T> implements MergeOrder<T> {
  private readonly queues: InputQueues<T>;
  /** Since when (wall clock) each input has been empty while known to have more. */
  private readonly emptySince = new Map<string, number>();
  private time: number;
  private readonly maxIdleMs: number;
  /** Records taken since the last checkpoint, in the order taken (to put back if the pass fails). */
  private taken: Buffered<T>[] = [];

  constructor(options: PartitionGroupOptions) {
    this.queues = new InputQueues(options.inputs);
    this.maxIdleMs = options.maxIdleMs;
    this.time = options.streamTime ?? Number.NEGATIVE_INFINITY;
  }

  /** Stream time: the largest record timestamp taken so far (-Infinity before the first). */
  get streamTime(): number {
    return this.time;
  }

  /** Buffered records per input. */
  size(input?: string): number {
    return this.queues.size(input);
  }

  /** Appends fetched records of `input` (in offset order, after what is buffered). */
  add(input: string, records: readonly Buffered<T>[]): void {
    this.queues.add(input, records);
    if (this.queues.size(input) > 0) this.emptySince.delete(input);
  }

  /**
   * The next step at wall-clock `now`. `hasMore(input)`: the consumer knows the input has records not yet fetched
   * (its fetch position is below the high watermark).
   */
  next(now: number, view: Pick<InputView, "hasMore">): MergeStep<T> {
    const hasMore = (input: string) => view.hasMore(input);
    let best: Buffered<T> | null = null;
    let waitFor: { input: string; until: number } | null = null;
    for (const [input, queue] of this.queues.entries()) {
      const head = queue.peek();
      if (!head) {
        if (!hasMore(input) || this.maxIdleMs <= 0) {
          this.emptySince.delete(input);
          continue;
        }
        const since = this.emptySince.get(input) ?? now;
        this.emptySince.set(input, since);
        const until = since + this.maxIdleMs;
        if (until > now && (waitFor === null || until < waitFor.until)) waitFor = { input, until };
        continue;
      }
      if (best === null || this.queues.before(head, best)) best = head;
    }
    if (waitFor !== null && best !== null) return { kind: "wait", ...waitFor };
    if (best === null) return waitFor !== null ? { kind: "wait", ...waitFor } : { kind: "idle" };
    this.queues.queue(best.input).shift();
    this.taken.push(best);
    const late = best.timestamp < this.time;
    if (!late) this.time = best.timestamp;
    return { kind: "record", record: best, late };
  }

  checkpoint(): () => void {
    this.taken = [];
    const time = this.time;
    return () => {
      this.queues.putBack(this.taken);
      for (const r of this.taken) this.emptySince.delete(r.input);
      this.taken = [];
      this.time = time;
    };
  }

  /** Advances stream time (a wall-clock tick on an idle task); never backwards. */
  advanceTo(time: number): void {
    if (time > this.time) this.time = time;
  }
}
