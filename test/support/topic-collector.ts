/**
 * Reads a topic read_committed in the background and keeps decoded values, so
 * a test can wait for what a user would see on it.
 */
import { randomUUID } from "node:crypto";
import type { KafkaPort } from "../../src/adapters/kafka/port.js";
import type { AvroSerde } from "../../src/adapters/kafka/serde.js";
import type { SchemaName } from "../../src/adapters/kafka/topics.js";

export interface Collected<T> {
  key: string;
  value: T | null;
  partition: number;
  offset: string;
  headers: Record<string, string>;
}

export interface Collector<T> {
  items: Collected<T>[];
  values: () => T[];
  waitFor: (
    predicate: (items: Collected<T>[]) => boolean,
    timeoutMs?: number,
    what?: string,
  ) => Promise<Collected<T>[]>;
  stop: () => Promise<void>;
}

export async function collectTopic<T>(
  kafka: KafkaPort,
  topic: string,
  decode: SchemaName | "raw",
  serde?: AvroSerde,
): Promise<Collector<T>> {
  const items: Collected<T>[] = [];
  const consumer = kafka.consumer({ groupId: `test-collector-${randomUUID()}`, topics: [topic], maxWaitMs: 100 });
  await consumer.start({
    eachBatch: async (batch) => {
      for (const message of batch.records) {
        const value =
          message.value === null
            ? null
            : decode === "raw"
              ? (message.value as unknown as T)
              : await serde!.decode<T>(decode, message.value);
        const headers = Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, String(v)]));
        items.push({
          key: message.key?.toString() ?? "",
          value,
          partition: message.partition,
          offset: message.offset,
          headers,
        });
      }
    },
  });
  return {
    items,
    values: () => items.map((i) => i.value).filter((v): v is T => v !== null),
    waitFor: async (predicate, timeoutMs = 30_000, what = "condition") => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(items)) {
        if (Date.now() > deadline)
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} on ${topic} (${items.length} records seen)`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
      return items;
    },
    stop: () => consumer.stop(),
  };
}
