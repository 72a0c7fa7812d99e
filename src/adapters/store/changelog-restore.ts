/**
 * Brings task stores up to date from the changelog before their partitions are
 * processed: reads each changelog partition read_committed from the store's
 * position to the end and applies the rows. Run after the task's producer has
 * fenced its predecessor, so no transaction is left open on those partitions.
 */
import type { KafkaPort } from "../kafka/port.js";
import { decodeChangelog } from "./changelog.js";
import type { TaskStore } from "./task-store.js";

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
    onBatch: (batch) => {
      const store = stores.get(batch.partition)!;
      const rows: Array<{ client_id: string; json: string | null; deadline: number | null }> = [];
      let streamTime = store.meta().streamTime;
      for (const m of batch.records) {
        if (m.key === null) continue;
        const client_id = m.key.toString("utf8");
        if (m.value === null) {
          rows.push({ client_id, json: null, deadline: null });
          continue;
        }
        const value = decodeChangelog(m.value);
        rows.push({ client_id, json: JSON.stringify(value.state), deadline: value.deadline });
        streamTime = Math.max(streamTime, value.stream_time);
      }
      store.commitRaw(rows, (BigInt(batch.lastOffset) + 1n).toString(), streamTime);
      records += rows.length;
    },
  });
  return { records, partitions, ms: Date.now() - started };
}
