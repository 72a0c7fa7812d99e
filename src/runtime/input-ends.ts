import type { Kafka } from "kafkajs";
import { highWatermarks } from "../adapters/kafka/end-offsets.js";

/** High watermark of every partition of `topics`, keyed `topic:partition`. */
export async function inputEnds(kafka: Kafka, topics: string[]): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of topics) {
    for (const o of await highWatermarks(kafka, topic)) ends.set(`${topic}:${o.partition}`, o.high);
  }
  return ends;
}
