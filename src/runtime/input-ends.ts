import type { Admin } from "kafkajs";

/** High watermark of every partition of `topics`, keyed `topic:partition`. */
export async function inputEnds(admin: Admin, topics: string[]): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of topics) {
    for (const o of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${o.partition}`, BigInt(o.high));
  }
  return ends;
}
