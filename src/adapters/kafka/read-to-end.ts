/**
 * Reads a topic read_committed from given offsets (or the beginning) up to the
 * end (high watermark) it had when the read started, then stops: everything
 * written before the start is read, once its transaction is decided. Uses a
 * throw-away consumer group (KafkaJS has no manual assignment) and deletes it
 * afterwards.
 */
import { randomUUID } from "node:crypto";
import type { Admin, Kafka } from "kafkajs";
import { highWatermarks } from "./end-offsets.js";
import { inRecord } from "./in-record.js";
import type { ReadToEndOptions } from "./port.js";

export async function readToEnd(
  kafka: Kafka,
  admin: Admin,
  options: ReadToEndOptions,
): Promise<{ partitions: number }> {
  const { topic } = options;
  const offsets = await highWatermarks(kafka, topic);
  const from = options.from ?? new Map(offsets.map((o) => [o.partition, 0n]));
  const pending = new Map<number, { from: bigint; end: bigint }>();
  for (const o of offsets) {
    const start = from.get(o.partition);
    if (start !== undefined && start < o.high) pending.set(o.partition, { from: start, end: o.high });
  }
  const count = pending.size;
  if (count === 0) return { partitions: 0 };

  const groupId = `${options.groupPrefix}-read-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const settle = (partition: number, lastOffset: string) => {
    const p = pending.get(partition);
    if (p && BigInt(lastOffset) + 1n >= p.end) pending.delete(partition);
    if (pending.size === 0) finish();
  };
  // Fires for every batch, including those holding only transaction markers, which never reach eachBatch.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic) settle(payload.partition, payload.lastOffset);
  });
  // KafkaJS restarts a consumer after a retriable crash (a fresh broker's "coordinator is loading" at start-up, seen
  // crashing every role of a new compose stack once); only a crash it gives up on fails the read.
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) fail(payload.error);
  });
  const timeoutMs = options.timeoutMs ?? 300_000;
  const timer = setTimeout(
    () => fail(new Error(`reading ${topic} to its end did not finish within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const p = pending.get(batch.partition);
        if (!p) return;
        const records = batch.messages
          .filter((m) => BigInt(m.offset) >= p.from)
          .map((m) => inRecord(topic, batch.partition, m));
        try {
          await options.onBatch({
            topic,
            partition: batch.partition,
            records,
            lastOffset: batch.lastOffset(),
            highWatermark: batch.highWatermark,
          });
          // A restarted consumer reads from the beginning again: what was handed over is not handed over twice.
          p.from = BigInt(batch.lastOffset()) + 1n;
        } catch (err) {
          fail(err);
        }
      },
    });
    // Only an optimisation (messages below `from` are filtered anyway): a consumer restarting after a crash refuses it.
    try {
      const skipped = offsets.map((o) => o.partition).filter((p) => !pending.has(p));
      if (skipped.length > 0) consumer.pause([{ topic, partitions: skipped }]);
      for (const [partition, p] of pending)
        if (p.from > 0n) consumer.seek({ topic, partition, offset: p.from.toString() });
    } catch {
      /* fall back to filtering */
    }
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
  }
  return { partitions: count };
}
