/**
 * A dead-letter record: the original key and bytes untouched, with headers
 * saying where it came from and why it was refused, so it can be inspected
 * and re-driven after a fix.
 */
import type { KafkaMessage, Message } from "kafkajs";
import type { BlackwellError } from "../../errors.js";

export function dlqMessage(source: { topic: string; partition: number; message: KafkaMessage }, err: BlackwellError): Message {
  const { topic, partition, message } = source;
  return {
    key: message.key ?? null,
    value: message.value ?? null,
    headers: {
      "blackwell.source.topic": topic,
      "blackwell.source.partition": String(partition),
      "blackwell.source.offset": message.offset,
      "blackwell.source.timestamp": message.timestamp,
      "blackwell.error.code": err.code,
      "blackwell.error.message": err.message.slice(0, 1000),
    },
  };
}
