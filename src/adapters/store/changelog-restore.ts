/**
 * Brings task stores up to date from the changelog before their partitions are
 * processed: reads each changelog partition read_committed from the store's
 * position to the end and applies the rows. Run after the task's producer has
 * fenced its predecessor, so no transaction is left open on those partitions.
 */
import type { KafkaPort } from "../kafka/port.js";
import type { AvroSerde } from "../kafka/serde.js";
import { decodeChangelogRecord } from "./changelog.js";
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

export async function restoreFromChangelog(
  kafka: KafkaPort,
  serde: AvroSerde,
  codec: StateCodec,
  topic: string,
  targets: RestoreTarget[],
  groupPrefix: string,
): Promise<RestoreReport> {
  const started = Date.now();
  const stores = new Map(targets.map((t) => [t.partition, t.store]));
  let records = 0;
  const { partitions } = await kafka.readToEnd({
    topic,
    groupPrefix,
    from: new Map(targets.map((t) => [t.partition, BigInt(t.store.meta().changelogNext)])),
    onBatch: async (batch) => {
      const store = stores.get(batch.partition)!;
      const rows: ClientRow[] = [];
      const desired: DesiredRow[] = [];
      let streamTime = store.meta().streamTime;
      for (const m of batch.records) {
        if (m.key === null) continue;
        const key = m.key.toString("utf8");
        // A client_id has no slash; client_id/stack_id is a stack's desired state.
        const slash = key.indexOf("/");
        if (slash !== -1) {
          const row = { client_id: key.slice(0, slash), stack_id: key.slice(slash + 1) };
          if (m.value === null) desired.push({ ...row, body: null });
          else {
            const record = await decodeChangelogRecord(serde, codec, topic, m.value, true);
            if (record.kind !== "entry")
              throw new Error(`changelog record ${key} at offset ${m.offset} is not a desired state`);
            desired.push({ ...row, body: record.body });
            streamTime = Math.max(streamTime, record.stream_time);
          }
          continue;
        }
        if (m.value === null) {
          rows.push({ client_id: key, body: null, deadline: null });
          continue;
        }
        const record = await decodeChangelogRecord(serde, codec, topic, m.value, false);
        if (record.kind === "legacy") {
          const v = record.value;
          rows.push({ client_id: key, body: JSON.stringify(v.state), deadline: v.deadline });
          streamTime = Math.max(streamTime, v.stream_time);
        } else {
          rows.push({ client_id: key, body: record.body, deadline: record.deadline });
          streamTime = Math.max(streamTime, record.stream_time);
        }
      }
      store.commitRaw(rows, (BigInt(batch.lastOffset) + 1n).toString(), streamTime, desired);
      records += rows.length + desired.length;
    },
  });
  return { records, partitions, ms: Date.now() - started };
}
