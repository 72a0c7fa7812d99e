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
 * Rows restore holds per partition before it writes them: a changelog not compacted yet has each key many times (the
 * benchmark's 100 000 stacks: 495 000 records for 167 000 keys) and writing every version was most of a restore's
 * CPU. Only the last version of a key is written. Bodies are copied out of the fetch buffers they arrived in.
 */
const FLUSH_ROWS = 50_000;

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
  const { partitions } = await kafka.readToEnd({
    topic,
    groupPrefix,
    from: new Map(targets.map((t) => [t.partition, BigInt(t.store.meta().changelogNext)])),
    onBatch: async (batch) => {
      const rows = pending.get(batch.partition)!;
      for (const m of batch.records) {
        if (m.key === null) continue;
        records++;
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
            rows.desired(key, { ...row, body: Buffer.from(record.body) });
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
          rows.client({ client_id: key, body: Buffer.from(record.body), deadline: record.deadline });
          rows.streamTime = Math.max(rows.streamTime, record.stream_time);
        }
      }
      rows.next = (BigInt(batch.lastOffset) + 1n).toString();
      if (rows.size >= FLUSH_ROWS) rows.flush();
    },
  });
  for (const rows of pending.values()) rows.flush();
  return { records, partitions, ms: Date.now() - started };
}

/** A partition's restored rows not written yet, the last version of each key, and where the changelog was read to. */
class PendingRows {
  private readonly clients = new Map<string, ClientRow>();
  private readonly stacks = new Map<string, DesiredRow>();
  /** Next changelog offset to read (undefined: nothing read since the last flush). */
  next: string | undefined;
  streamTime: number;

  constructor(private readonly store: TaskStore) {
    this.streamTime = store.meta().streamTime;
  }

  get size(): number {
    return this.clients.size + this.stacks.size;
  }

  client(row: ClientRow): void {
    this.clients.set(row.client_id, row);
  }

  desired(key: string, row: DesiredRow): void {
    this.stacks.set(key, row);
  }

  /** Writes the rows and the position in one store transaction. */
  flush(): void {
    if (this.next === undefined) return;
    this.store.commitRaw([...this.clients.values()], this.next, this.streamTime, [...this.stacks.values()]);
    this.clients.clear();
    this.stacks.clear();
    this.next = undefined;
  }
}
