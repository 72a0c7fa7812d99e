/**
 * The order a replay takes: the task's journal where it exists, so every
 * record is processed where live processed it (late ones included) and every
 * tick at the stream time live moved to. Records from before the journal's
 * first transaction are merged by timestamp up to the positions that
 * transaction started from; records after its last are merged by timestamp too.
 * With no journal (`replay --reorder`) the whole input is that merge: what
 * perfect arrival would have produced. Replay waits for every input it needs:
 * all the data is there, only fetches are slower.
 *
 * Pure: the consumer's knowledge of each input comes in through `InputView`.
 */
import type { JournalEntry } from "./journal.js";
import type { Buffered, InputView, MergeOrder, MergeStep } from "./merge-order.js";
import { InputQueues } from "./input-queues.js";
import type { Fifo } from "./fifo.js";

/** How long a replay waits before asking again for an input that is still being fetched. */
const REPLAY_POLL_MS = 1000;

interface Cursor {
  phase: "before" | "journal" | "after";
  entry: number;
  run: number;
  tickDone: boolean;
}

export class JournalOrder<T> implements MergeOrder<T> {
  private readonly queues: InputQueues<T>;
  /** Positions the first journal entry started from: the pre-journal merge stops there. */
  private readonly caps: Map<string, bigint> | null;
  private cursor: Cursor;
  private time: number;
  private taken: Buffered<T>[] = [];

  /**
   * `until`: per input, where the replay stops (live's committed positions when the replay started); records from
   * there on are left alone. Absent: everything.
   */
  constructor(
    inputs: readonly string[],
    private readonly entries: readonly JournalEntry[],
    streamTime = Number.NEGATIVE_INFINITY,
    private readonly until: ReadonlyMap<string, bigint> | null = null,
  ) {
    this.queues = new InputQueues(inputs);
    const first = entries[0];
    this.caps = first ? new Map(first.inputs.map((i) => [i.input, i.from])) : null;
    this.cursor = { phase: first ? "before" : "after", entry: 0, run: 0, tickDone: false };
    this.time = streamTime;
  }

  get streamTime(): number {
    return this.time;
  }

  size(input?: string): number {
    return this.queues.size(input);
  }

  add(input: string, records: readonly Buffered<T>[]): void {
    this.queues.add(input, records);
  }

  next(now: number, view: InputView): MergeStep<T> {
    for (;;) {
      const c = this.cursor;
      if (c.phase === "before") {
        const step = this.merge(now, view, this.caps);
        if (step) return step;
        this.cursor = { ...c, phase: "journal" };
        continue;
      }
      if (c.phase === "after") return this.merge(now, view, this.until) ?? { kind: "idle" };
      const entry = this.entries[c.entry];
      if (!entry) {
        this.cursor = { ...c, phase: "after" };
        continue;
      }
      if (entry.tick !== null && !c.tickDone) {
        this.cursor = { ...c, tickDone: true };
        this.advanceTo(entry.tick);
        return { kind: "tick", time: entry.tick };
      }
      const run = entry.order[c.run];
      if (!run) {
        this.cursor = { phase: "journal", entry: c.entry + 1, run: 0, tickDone: false };
        continue;
      }
      const input = entry.inputs[run.input]!.input;
      const queue = this.queues.queue(input);
      const head = queue.peek();
      if (head && head.offset <= run.through) return this.take(queue);
      // Past the run: the rest of it is gone (compacted away) or was never there.
      if (head || view.fetched(input) > run.through) {
        this.cursor = { ...c, run: c.run + 1 };
        continue;
      }
      return { kind: "wait", input, until: now + REPLAY_POLL_MS };
    }
  }

  checkpoint(): () => void {
    this.taken = [];
    const cursor = { ...this.cursor };
    const time = this.time;
    return () => {
      this.queues.putBack(this.taken);
      this.taken = [];
      this.cursor = cursor;
      this.time = time;
    };
  }

  advanceTo(time: number): void {
    if (time > this.time) this.time = time;
  }

  /**
   * The timestamp merge, below `caps` when given. Waits for any input that may still bring a record it needs;
   * null when every input is done (up to its cap).
   */
  private merge(now: number, view: InputView, caps: ReadonlyMap<string, bigint> | null): MergeStep<T> | null {
    let best: Buffered<T> | null = null;
    for (const [input, queue] of this.queues.entries()) {
      const cap = caps?.get(input);
      const head = queue.peek();
      if (head) {
        if (cap !== undefined && head.offset >= cap) continue;
        if (best === null || this.queues.before(head, best)) best = head;
        continue;
      }
      const pending = cap !== undefined ? view.fetched(input) < cap && view.hasMore(input) : view.hasMore(input);
      if (pending) return { kind: "wait", input, until: now + REPLAY_POLL_MS };
    }
    return best ? this.take(this.queues.queue(best.input)) : null;
  }

  private take(queue: Fifo<Buffered<T>>): MergeStep<T> {
    const record = queue.shift()!;
    this.taken.push(record);
    const late = record.timestamp < this.time;
    if (!late) this.time = record.timestamp;
    return { kind: "record", record, late };
  }
}
