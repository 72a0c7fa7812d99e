import type { KafkaAdmin } from "../adapters/kafka/port.js";

/** High watermark of every partition of `topics`, keyed `topic:partition`. */
export async function inputEnds(admin: KafkaAdmin, topics: string[]): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of topics) {
    for (const o of await admin.endOffsets(topic)) ends.set(`${topic}:${o.partition}`, o.high);
  }
  return ends;
}
