/**
 * The high watermark of every partition of a topic: where a reader that wants
 * everything written so far must get to. KafkaJS's admin answers the last
 * stable offset by default, which stops short of (or, for a partition holding
 * a single transaction, entirely before) a transaction that is committed but
 * whose markers are still being written. A read_committed consumer reaches the
 * high watermark once every transaction below it is decided.
 */
import type { Kafka } from "kafkajs";

export interface PartitionEnd {
  partition: number;
  high: bigint;
}

export async function highWatermarks(kafka: Kafka, topic: string, attempts = 10): Promise<PartitionEnd[]> {
  for (let attempt = 1; ; attempt++) {
    const admin = kafka.admin({ readUncommitted: true });
    await admin.connect();
    try {
      const [offsets, metadata] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchTopicMetadata({ topics: [topic] })]);
      const count = metadata.topics[0]?.partitions.length ?? 0;
      // KafkaJS lists offsets only for the partitions in its cached metadata; a partial list would read as "empty".
      if (offsets.length === count) return offsets.map((o) => ({ partition: o.partition, high: BigInt(o.high) }));
      if (attempt >= attempts) throw new Error(`end offsets of ${topic} cover ${offsets.length} of its ${count} partitions`);
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 300)); // a fresh client gets fresh metadata
  }
}
