/**
 * A dead-letter record: the original key and bytes untouched, with headers
 * saying where it came from and why it was refused, so it can be inspected
 * and re-driven after a fix. It keeps the partition of its source record, so
 * it lands in the same transaction's partition whatever its key.
 */
import type { BlackwellError } from "../../errors.js";
import type { InRecord, OutRecord } from "./port.js";

export function dlqRecord(dlqTopic: string, source: InRecord, err: BlackwellError): OutRecord {
  return {
    topic: dlqTopic,
    partition: source.partition,
    key: source.key,
    value: source.value,
    headers: {
      "blackwell.source.topic": source.topic,
      "blackwell.source.partition": String(source.partition),
      "blackwell.source.offset": source.offset,
      "blackwell.source.timestamp": String(source.timestamp),
      "blackwell.error.code": err.code,
      "blackwell.error.message": err.message.slice(0, 1000),
    },
  };
}
