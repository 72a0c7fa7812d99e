/**
 * What a task asks of the order its input records are processed in. Live, it
 * is the timestamp merge (`PartitionGroup`); on replay, the order recorded in
 * the task journal (`JournalOrder`), so a replay takes the very order live took.
 */

/** One buffered input record. `payload` is whatever the runtime needs back. */
export interface Buffered<T> {
  input: string;
  offset: bigint;
  timestamp: number;
  payload: T;
  /** Wall time the record was fetched (for the latency breakdown); absent on replay. */
  arrived?: number;
}

/** What the order says to do next. */
export type MergeStep<T> =
  | { kind: "record"; record: Buffered<T>; late: boolean }
  /** Advance stream time to `time` with no record (a wall-clock tick live took, replayed from the journal). */
  | { kind: "tick"; time: number }
  /** An input with unfetched data has nothing buffered: wait for it until `until` (wall clock ms). */
  | { kind: "wait"; input: string; until: number }
  /** Nothing buffered (or only inputs that have nothing more to give). */
  | { kind: "idle" };

/** What the consumer knows about each input partition of the task. */
export interface InputView {
  /** The input has records not fetched yet (its fetch position is below the high watermark). */
  hasMore(input: string): boolean;
  /** The next offset the consumer will fetch (records below it were handed over or do not exist). */
  fetched(input: string): bigint;
}

export interface MergeOrder<T> {
  /** The largest record timestamp taken (or tick), -Infinity before the first. */
  readonly streamTime: number;
  /** Buffered records, of one input or of all. */
  size(input?: string): number;
  /** Appends fetched records of `input`, in offset order. */
  add(input: string, records: readonly Buffered<T>[]): void;
  next(now: number, view: InputView): MergeStep<T>;
  /** Starts a pass; the returned function puts back everything taken since (the pass failed and is retried). */
  checkpoint(): () => void;
  /** Advances stream time (a tick); never backwards. */
  advanceTo(time: number): void;
}
