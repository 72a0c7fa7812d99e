import type { KafkaMessage } from "kafkajs";
import type { InRecord } from "./port.js";

/** A KafkaJS message as the port's record: headers as bytes, timestamp as a number. */
export function inRecord(topic: string, partition: number, m: KafkaMessage): InRecord {
  const headers: Record<string, Buffer | undefined> = {};
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    headers[name] = first === undefined ? undefined : typeof first === "string" ? Buffer.from(first) : first;
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ?? null,
    value: m.value ?? null,
    timestamp: Number(m.timestamp),
    headers,
  };
}
