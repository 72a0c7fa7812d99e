/**
 * Reads what a topic holds now (read_committed), for one client's partition or
 * every partition, decoded with the topic's schema: the CLI's view of state
 * and history, straight from Kafka.
 */
import type { InRecord } from "../adapters/kafka/port.js";
import { partitionForClient } from "../adapters/kafka/partitioner.js";
import { topicSpec, type TopicRole } from "../adapters/kafka/topics.js";
import type { AppContext } from "./app-context.js";

export interface ReadRecord<T> {
  key: string;
  value: T | null;
  partition: number;
  offset: string;
  record: InRecord;
}

export async function readRecords<T>(
  ctx: AppContext,
  role: TopicRole,
  client: string | null,
  options: { decode?: boolean } = {},
): Promise<Array<ReadRecord<T>>> {
  const topic = ctx.names[role];
  const spec = topicSpec(role);
  const from = client === null ? undefined : new Map([[partitionForClient(client, ctx.config.partitions), 0n]]);
  const out: Array<ReadRecord<T>> = [];
  await ctx.kafka.readToEnd({
    topic,
    groupPrefix: "blackwell-cli",
    ...(from ? { from } : {}),
    onBatch: async (batch) => {
      for (const m of batch.records) {
        const key = m.key?.toString("utf8") ?? "";
        if (client !== null && key !== client && !key.startsWith(`${client}/`)) continue;
        const decode = options.decode !== false && spec.schema !== undefined && m.value !== null;
        out.push({
          key,
          value: decode ? await ctx.serde.decode<T>(spec.schema!, m.value!) : null,
          partition: batch.partition,
          offset: m.offset,
          record: m,
        });
      }
    },
  });
  return out;
}

/** The latest value per key (compacted topics), tombstones removed. */
export function latestByKey<T>(records: Array<ReadRecord<T>>): Map<string, T> {
  const latest = new Map<string, T | null>();
  for (const r of records) latest.set(r.key, r.value);
  for (const [k, v] of latest) if (v === null) latest.delete(k);
  return latest as Map<string, T>;
}
