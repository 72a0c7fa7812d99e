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
import { byInput, type Buffered, type InputView, type MergeOrder, type MergeStep } from "./merge-order.js";
import { Fifo } from "./fifo.js";

export type { Buffered, MergeStep } from "./merge-order.js";

/** Default of `BLACKWELL_MAX_TASK_IDLE`: how long an empty input with unfetched data holds the others back. */
export const DEFAULT_MAX_TASK_IDLE_MS = 1_000;

/** The merge order: timestamp, then the fixed input rank, then offset. */
export function mergesBefore(
  a: { input: string; offset: bigint; timestamp: number },
  b: { input: string; offset: bigint; timestamp: number },
  rank: ReadonlyMap<string, number>,
): boolean {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp;
  const ra = rank.get(a.input)!;
  const rb = rank.get(b.input)!;
  if (ra !== rb) return ra < rb;
  return a.offset < b.offset;
}

export interface PartitionGroupOptions {
  /** The inputs in tie-break order (desired-state first). */
  inputs: readonly string[];
  /** How long an empty input with unfetched data holds the others back. 0: never wait. */
  maxIdleMs: number;
  /** Stream time to start from (a restored task's). Default: none yet. */
  streamTime?: number;
}

export class PartitionGroup<T> implements MergeOrder<T> {
  private readonly queues = new Map<string, Fifo<Buffered<T>>>();
  private readonly rank = new Map<string, number>();
  /** Since when (wall clock) each input has been empty while known to have more. */
  private readonly emptySince = new Map<string, number>();
  private time: number;
  private readonly maxIdleMs: number;
  /** Records taken since the last checkpoint, in the order taken (to put back if the pass fails). */
  private taken: Buffered<T>[] = [];

  constructor(options: PartitionGroupOptions) {
    options.inputs.forEach((input, i) => {
      this.queues.set(input, new Fifo());
      this.rank.set(input, i);
    });
    this.maxIdleMs = options.maxIdleMs;
    this.time = options.streamTime ?? Number.NEGATIVE_INFINITY;
  }

  /** Stream time: the largest record timestamp taken so far (-Infinity before the first). */
  get streamTime(): number {
    return this.time;
  }

  /** Buffered records per input. */
  size(input?: string): number {
    if (input !== undefined) return this.queue(input).length;
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Appends fetched records of `input` (in offset order, after what is buffered). */
  add(input: string, records: readonly Buffered<T>[]): void {
    const queue = this.queue(input);
    for (const r of records) {
      const last = queue.last();
      if (last && r.offset <= last.offset) throw new Error(`${input}: offset ${r.offset} after ${last.offset}`);
      queue.push(r);
    }
    if (queue.length > 0) this.emptySince.delete(input);
  }

  /**
   * The next step at wall-clock `now`. `hasMore(input)`: the consumer knows the input has records not yet fetched
   * (its fetch position is below the high watermark).
   */
  next(now: number, view: Pick<InputView, "hasMore">): MergeStep<T> {
    const hasMore = (input: string) => view.hasMore(input);
    let best: Buffered<T> | null = null;
    let waitFor: { input: string; until: number } | null = null;
    for (const [input, queue] of this.queues) {
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
      if (best === null || this.before(head, best)) best = head;
    }
    if (waitFor !== null && best !== null) return { kind: "wait", ...waitFor };
    if (best === null) return waitFor !== null ? { kind: "wait", ...waitFor } : { kind: "idle" };
    this.queue(best.input).shift();
    this.taken.push(best);
    const late = best.timestamp < this.time;
    if (!late) this.time = best.timestamp;
    return { kind: "record", record: best, late };
  }

  checkpoint(): () => void {
    this.taken = [];
    const time = this.time;
    return () => {
      for (const [input, records] of byInput(this.taken)) {
        this.queue(input).unshiftAll(records);
        this.emptySince.delete(input);
      }
      this.taken = [];
      this.time = time;
    };
  }

  /** Forgets everything buffered (the partitions are fetched again from their committed offsets). */
  clear(): void {
    for (const q of this.queues.values()) q.clear();
    this.emptySince.clear();
  }

  /** Advances stream time (a wall-clock tick on an idle task); never backwards. */
  advanceTo(time: number): void {
    if (time > this.time) this.time = time;
  }

  private before(a: Buffered<T>, b: Buffered<T>): boolean {
    return mergesBefore(a, b, this.rank);
  }

  private queue(input: string): Fifo<Buffered<T>> {
    const q = this.queues.get(input);
    if (!q) throw new Error(`unknown input ${input}`);
    return q;
  }
}
