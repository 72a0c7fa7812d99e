/**
 * The buffered records of a task's inputs, one queue per input in offset order, and the merge order between
 * their heads. Shared by the live merge (`PartitionGroup`) and the replay's order (`JournalOrder`).
 */
import { Fifo } from "./fifo.js";
import type { Buffered } from "./merge-order.js";

export class InputQueues<T> {
  private readonly queues = new Map<string, Fifo<Buffered<T>>>();
  private readonly rank = new Map<string, number>();

  /** `inputs` in tie-break order (desired-state first). */
  constructor(inputs: readonly string[]) {
    inputs.forEach((input, i) => {
      this.queues.set(input, new Fifo());
      this.rank.set(input, i);
    });
  }

  /** Buffered records, of one input or of all. */
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
  }

  /** Each input with its queue, in tie-break order. */
  entries(): IterableIterator<[string, Fifo<Buffered<T>>]> {
    return this.queues.entries();
  }

  queue(input: string): Fifo<Buffered<T>> {
    const q = this.queues.get(input);
    if (!q) throw new Error(`unknown input ${input}`);
    return q;
  }

  /** The merge order: timestamp, then the fixed input rank, then offset. */
  before(a: Buffered<T>, b: Buffered<T>): boolean {
    if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp;
    const ra = this.rank.get(a.input)!;
    const rb = this.rank.get(b.input)!;
    if (ra !== rb) return ra < rb;
    return a.offset < b.offset;
  }

  /** Puts records taken (in the order taken) back at the heads of their queues. */
  putBack(taken: readonly Buffered<T>[]): void {
    const groups = new Map<string, Buffered<T>[]>();
    for (const r of taken) {
      const list = groups.get(r.input);
      if (list) list.push(r);
      else groups.set(r.input, [r]);
    }
    for (const [input, records] of groups) this.queue(input).unshiftAll(records);
  }
}
