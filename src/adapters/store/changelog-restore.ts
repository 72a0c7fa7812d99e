/**
 * Brings task stores up to date from the changelog before their partitions are
 * processed: reads each changelog partition read_committed from the store's
 * position to the end and applies the rows. Run after the task's producer has
 * fenced its predecessor, so no transaction is left open on those partitions.
 */
import type { KafkaPort } from "../kafka/port.js";
import type { AvroSerde } from "../kafka/serde.js";
import { decodeChangelogRecord, ownChangelogEntry } from "./changelog.js";
import type { StateCodec } from "./state-codec.js";
import type { ClientRow, DesiredRow, TaskStore } from "./task-store.js";

export interface RestoreTarget {
  partition: number;
  store: TaskStore;
}

export interface RestoreReport {
  records: number;
  partitions: number;
  ms: number;
}

/**
 * A changelog not compacted yet holds each key many times (the benchmark's 100 000 stacks: 495 000 records for 167 000
 * keys), and writing every version to SQLite was most of a restore's CPU: restore holds the rows it read per partition,
 * the last version of each key, and writes them with the position they reach in one store transaction when any of
 * these is reached (so progress is saved as it goes, and a restore cut short resumes from there).
 */
const FLUSH = {
  /** Keys held. */
  rows: 50_000,
  /** Bytes of the bodies held. */
  bytes: 16 * 1024 * 1024,
  /** Records read since the last write. */
  records: 200_000,
  /** Time since the last write. */
  ms: 5_000,
};

export async function restoreFromChangelog(
  kafka: KafkaPort,
  serde: AvroSerde,
  codec: StateCodec,
  topic: string,
  targets: RestoreTarget[],
  groupPrefix: string,
): Promise<RestoreReport> {
  const started = Date.now();
  const pending = new Map(targets.map((t) => [t.partition, new PendingRows(t.store)]));
  let records = 0;
  // Once a batch failed, nothing more is written: the rows held may be from the middle of that batch, and a later
  // write would store a position past records never applied. The next restore starts from the last write.
  let failed = false;
  const { partitions } = await kafka.readToEnd({
    topic,
    groupPrefix,
    from: new Map(targets.map((t) => [t.partition, BigInt(t.store.meta().changelogNext)])),
    onBatch: async (batch) => {
      if (failed) throw new Error("restore stopped after an earlier batch failed");
      try {
        const rows = pending.get(batch.partition)!;
        for (const m of batch.records) {
          if (m.key === null) continue;
          records++;
          rows.read++;
          const key = m.key.toString("utf8");
          // A client_id has no slash; client_id/stack_id is a stack's desired state.
          const slash = key.indexOf("/");
          if (slash !== -1) {
            const row = { client_id: key.slice(0, slash), stack_id: key.slice(slash + 1) };
            if (m.value === null) rows.desired(key, { ...row, body: null });
            else {
              const record =
                ownChangelogEntry(serde, codec, topic, m.value) ??
                (await decodeChangelogRecord(serde, codec, topic, m.value, true));
              if (record.kind !== "entry")
                throw new Error(`changelog record ${key} at offset ${m.offset} is not a desired state`);
              rows.desired(key, { ...row, body: ownCopy(record.body) });
              rows.streamTime = Math.max(rows.streamTime, record.stream_time);
            }
            continue;
          }
          if (m.value === null) {
            rows.client({ client_id: key, body: null, deadline: null });
            continue;
          }
          const record =
            ownChangelogEntry(serde, codec, topic, m.value) ??
            (await decodeChangelogRecord(serde, codec, topic, m.value, false));
          if (record.kind === "legacy") {
            const v = record.value;
            rows.client({ client_id: key, body: JSON.stringify(v.state), deadline: v.deadline });
            rows.streamTime = Math.max(rows.streamTime, v.stream_time);
          } else {
            rows.client({ client_id: key, body: ownCopy(record.body), deadline: record.deadline });
            rows.streamTime = Math.max(rows.streamTime, record.stream_time);
          }
        }
        const next = BigInt(batch.lastOffset) + 1n;
        rows.next = next.toString();
        if (rows.full() || next >= BigInt(batch.highWatermark)) rows.flush();
      } catch (err) {
        failed = true;
        throw err;
      }
    },
  });
  for (const rows of pending.values()) rows.flush();
  return { records, partitions, ms: Date.now() - started };
}

/**
 * A copy of `body` in memory of its own: a body cut from a fetch response would keep the whole response alive, and one
 * cut from Node's shared pool would keep the pool alive (with every older version copied into it) while it is held.
 */
function ownCopy(body: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(body.length);
  body.copy(copy);
  return copy;
}

/** A partition's restored rows not written yet, the last version of each key, and where the changelog was read to. */
class PendingRows {
  private readonly clients = new Map<string, ClientRow>();
  private readonly stacks = new Map<string, DesiredRow>();
  private bytes = 0;
  private lastFlush = Date.now();
  /** Records read since the last write. */
  read = 0;
  /** Next changelog offset to read (undefined: nothing read since the last write). */
  next: string | undefined;
  streamTime: number;

  constructor(private readonly store: TaskStore) {
    this.streamTime = store.meta().streamTime;
  }

  client(row: ClientRow): void {
    this.bytes += (row.body?.length ?? 0) - (this.clients.get(row.client_id)?.body?.length ?? 0);
    this.clients.set(row.client_id, row);
  }

  desired(key: string, row: DesiredRow): void {
    this.bytes += (row.body?.length ?? 0) - (this.stacks.get(key)?.body?.length ?? 0);
    this.stacks.set(key, row);
  }

  /** Whether the rows held should be written now (see FLUSH). */
  full(): boolean {
    return (
      this.clients.size + this.stacks.size >= FLUSH.rows ||
      this.bytes >= FLUSH.bytes ||
      this.read >= FLUSH.records ||
      Date.now() - this.lastFlush >= FLUSH.ms
    );
  }

  /** Writes the rows and the position in one store transaction. */
  flush(): void {
    if (this.next === undefined) return;
    this.store.commitRaw([...this.clients.values()], this.next, this.streamTime, [...this.stacks.values()]);
    this.clients.clear();
    this.stacks.clear();
    this.bytes = 0;
    this.read = 0;
    this.lastFlush = Date.now();
    this.next = undefined;
  }
}
