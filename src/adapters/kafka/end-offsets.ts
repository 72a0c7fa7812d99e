/**
 * The high watermark of every partition of a topic: where a reader that wants
 * everything written so far must get to. KafkaJS's admin answers the last
 * stable offset by default, which stops short of (or, for a partition holding
 * a single transaction, entirely before) a transaction that is committed but
 * whose markers are still being written. A read_committed consumer reaches the
 * high watermark once every transaction below it is decided.
 */
import type { Admin, Kafka } from "kafkajs";
import type { PartitionEnd } from "./port.js";

/** Offsets from `admin` (a `readUncommitted` one), or null when its cached metadata does not cover every partition. */
async function tryEnds(admin: Admin, topic: string): Promise<PartitionEnd[] | null> {
  const [offsets, metadata] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchTopicMetadata({ topics: [topic] }),
  ]);
  const count = metadata.topics[0]?.partitions.length ?? 0;
  // KafkaJS lists offsets only for the partitions in its cached metadata; a partial list would read as "empty".
  return offsets.length === count
    ? offsets.map((o) => ({ partition: o.partition, high: BigInt(o.high), low: BigInt(o.low) }))
    : null;
}

/**
 * With `shared` (a connected readUncommitted admin kept by the caller), asks it first: the API's replica polls
 * every second. A partial answer falls back to fresh clients, which get fresh metadata.
 */
export async function highWatermarks(
  kafka: Kafka,
  topic: string,
  attempts = 10,
  shared?: Admin,
): Promise<PartitionEnd[]> {
  if (shared) {
    const ends = await tryEnds(shared, topic).catch(() => null);
    if (ends) return ends;
  }
  for (let attempt = 1; ; attempt++) {
    const admin = kafka.admin({ readUncommitted: true });
    await admin.connect();
    try {
      const ends = await tryEnds(admin, topic);
      if (ends) return ends;
      if (attempt >= attempts)
        throw new Error(`end offsets of ${topic} do not cover all of its partitions after ${attempts} attempts`);
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 300)); // a fresh client gets fresh metadata
  }
}
