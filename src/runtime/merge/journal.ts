/**
 * The task journal: per committed transaction of a task, which input records
 * it consumed and in what order (runs of one input through an offset), or the
 * stream time a wall-clock tick moved to. Live merge decisions depend on
 * arrival (what was fetched, what came late, when a tick fired); replay follows
 * the journal, so it takes the order live took. Pure.
 */

export interface JournalInput {
  /** Topic role (`provider-events`), so a journal survives a change of topic prefix. */
  input: string;
  /** The task's position in the input before the transaction (next offset to process). */
  from: bigint;
  /** Its position after. */
  to: bigint;
}

/** Records of `inputs[input]` in offset order up to and including `through`. */
export interface JournalRun {
  input: number;
  through: bigint;
}

export interface JournalEntry {
  applicationId: string;
  task: number;
  /** Every input of the task, moved or not. */
  inputs: JournalInput[];
  order: JournalRun[];
  /** Set on a tick: the stream time it moved to (no records then). */
  tick: number | null;
  /** Stream time after the transaction. */
  streamTime: number;
  /** Records of this transaction that were older than stream time when taken. */
  late: number;
}

export class JournalBuilder {
  private readonly index = new Map<string, number>();
  private readonly to: bigint[];
  private readonly order: JournalRun[] = [];

  constructor(
    private readonly applicationId: string,
    private readonly task: number,
    private readonly inputs: readonly string[],
    private readonly from: readonly bigint[],
  ) {
    inputs.forEach((input, i) => this.index.set(input, i));
    this.to = [...from];
  }

  /** Notes one record taken, in processing order. */
  take(input: string, offset: bigint): void {
    const i = this.index.get(input);
    if (i === undefined) throw new Error(`unknown input ${input}`);
    this.to[i] = offset + 1n;
    const last = this.order[this.order.length - 1];
    if (last && last.input === i) last.through = offset;
    else this.order.push({ input: i, through: offset });
  }

  get records(): boolean {
    return this.order.length > 0;
  }

  /** Where the task stands in each input after what was taken. */
  positions(): Map<string, bigint> {
    return new Map(this.inputs.map((input, i) => [input, this.to[i]!]));
  }

  build(streamTime: number, late: number, tick: number | null = null): JournalEntry {
    return {
      applicationId: this.applicationId,
      task: this.task,
      inputs: this.inputs.map((input, i) => ({ input, from: this.from[i]!, to: this.to[i]! })),
      order: this.order.map((r) => ({ ...r })),
      tick,
      streamTime,
      late,
    };
  }
}

/** The TaskJournal Avro record of an entry (offsets as numbers: avsc's long). */
export function journalToAvro(e: JournalEntry): Record<string, unknown> {
  return {
    application_id: e.applicationId,
    task: e.task,
    inputs: e.inputs.map((i) => ({ topic_role: i.input, from_offset: Number(i.from), to_offset: Number(i.to) })),
    order: e.order.map((r) => ({ input: r.input, through_offset: Number(r.through) })),
    tick_ms: e.tick,
    stream_time_ms: e.streamTime,
    late_records: e.late,
  };
}

export interface JournalAvro {
  application_id: string;
  task: number;
  inputs: Array<{ topic_role: string; from_offset: number; to_offset: number }>;
  order: Array<{ input: number; through_offset: number }>;
  tick_ms: number | null;
  stream_time_ms: number;
  late_records: number;
}

export function journalFromAvro(v: JournalAvro): JournalEntry {
  return {
    applicationId: v.application_id,
    task: v.task,
    inputs: v.inputs.map((i) => ({ input: i.topic_role, from: BigInt(i.from_offset), to: BigInt(i.to_offset) })),
    order: v.order.map((r) => ({ input: r.input, through: BigInt(r.through_offset) })),
    tick: v.tick_ms,
    streamTime: v.stream_time_ms,
    late: v.late_records,
  };
}
