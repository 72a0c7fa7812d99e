/**
 * Temporary: a connected KafkaJS producer as the port's RecordProducer, for
 * the callers of buildApi until they get the port's own producer (the port
 * migration replaces this file). acks=all; records keep their order per topic.
 */
import type { Producer } from "kafkajs";
import type { RecordProducer } from "./port.js";

/** `timeoutMs`: how long the broker may take to acknowledge. Default: KafkaJS's 30 s. */
export function recordProducerOf(producer: Producer, timeoutMs?: number): RecordProducer {
  return {
    send: async (records) => {
      const topics = [...new Set(records.map((r) => r.topic))];
      const topicMessages = topics.map((topic) => ({
        topic,
        messages: records.filter((r) => r.topic === topic).map((r) => ({
          key: r.key, value: r.value, headers: r.headers,
          ...(r.partition !== undefined ? { partition: r.partition } : {}),
          ...(r.timestamp !== undefined ? { timestamp: String(r.timestamp) } : {}),
        })),
      }));
      await producer.sendBatch({ acks: -1, ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}), topicMessages });
    },
    disconnect: () => producer.disconnect(),
  };
}
