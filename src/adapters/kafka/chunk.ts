import type { Message, TopicMessages } from "kafkajs";

/**
 * Upper bound of one produce request. KafkaJS sends a partition's messages as
 * one record batch and does not split it; the broker refuses batches above
 * message.max.bytes (1 MiB by default), so a big pass is sent in several
 * requests inside the same transaction.
 */
export const MAX_REQUEST_BYTES = 768 * 1024;

function messageBytes(m: Message): number {
  const size = (v: Message["value"] | Message["key"]) =>
    v === null || v === undefined ? 0 : typeof v === "string" ? Buffer.byteLength(v) : v.length;
  return size(m.key) + size(m.value) + 64;
}

/** Splits topic messages into requests of at most `limit` bytes (a single larger message goes alone). */
export function chunkBySize(topicMessages: TopicMessages[], limit: number): TopicMessages[][] {
  const chunks: TopicMessages[][] = [];
  let current = new Map<string, Message[]>();
  let bytes = 0;
  const flush = () => {
    if (current.size > 0) chunks.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    bytes = 0;
  };
  for (const { topic, messages } of topicMessages) {
    for (const m of messages) {
      const size = messageBytes(m);
      if (bytes + size > limit && bytes > 0) flush();
      const list = current.get(topic) ?? [];
      list.push(m);
      current.set(topic, list);
      bytes += size;
    }
  }
  flush();
  return chunks;
}
