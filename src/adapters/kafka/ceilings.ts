/**
 * The benchmark's ceilings: what the client library itself reaches on the same
 * topics, without the reconciler. They use KafkaJS directly (not the port), so
 * the figures stay the library's, whatever the port adds.
 */
import type { Consumer } from "kafkajs";
import type { KafkaConfig } from "../../config/config.js";
import { chunkBySize, MAX_REQUEST_BYTES } from "./chunk.js";
import { createKafka } from "./kafka-client.js";
import { clientPartitioner } from "./partitioner.js";

export interface CeilingOptions {
  config: KafkaConfig;
  groupId: string;
  topics: string[];
  partitions: number;
  /** Records to read before the clock stops. */
  total: number;
}

/** Ceiling 1: a plain consumer that reads and decodes the inputs, nothing else. Returns records per second. */
export async function ceilingDecode(
  o: CeilingOptions,
  decode: (topic: string, value: Buffer | null) => Promise<unknown>,
): Promise<number> {
  const kafka = createKafka(o.config);
  const consumer = kafka.consumer({ groupId: o.groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: o.topics, fromBeginning: true });
  let n = 0;
  const started = Date.now();
  let finished = 0;
  await consumer.run({
    partitionsConsumedConcurrently: o.partitions,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) await decode(batch.topic, m.value);
      n += batch.messages.length;
      if (n >= o.total && !finished) finished = Date.now();
    },
  });
  await waitOrCrash(consumer, () => finished > 0);
  await consumer.disconnect();
  return o.total / ((finished - started) / 1000);
}

/**
 * Ceiling 2: consume -> produce -> sendOffsets in one transaction per batch, one transactional producer per
 * partition, no folding: the exactly-once loop the reconciler runs, minus the reconciler.
 */
export async function ceilingTransactional(o: CeilingOptions & { out: string }): Promise<number> {
  const kafka = createKafka(o.config);
  const producers = new Map<number, ReturnType<typeof kafka.producer>>();
  for (let p = 0; p < o.partitions; p++) {
    const producer = kafka.producer({
      transactionalId: `${o.groupId}-${p}`,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: clientPartitioner,
      retry: { initialRetryTime: 20, retries: 10 },
    });
    await producer.connect();
    producers.set(p, producer);
  }
  const consumer = kafka.consumer({ groupId: o.groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: o.topics, fromBeginning: true });
  let n = 0;
  let finished = 0;
  const started = Date.now();
  // One transaction at a time per producer: batches of different topics share a partition's producer.
  const locks = new Map<number, Promise<unknown>>();
  const exclusive = <T>(p: number, work: () => Promise<T>): Promise<T> => {
    const run = (locks.get(p) ?? Promise.resolve()).then(work, work);
    locks.set(
      p,
      run.catch(() => {}),
    );
    return run;
  };
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: o.partitions,
    eachBatch: ({ batch, resolveOffset }) =>
      exclusive(batch.partition, async () => {
        const tx = await producers.get(batch.partition)!.transaction();
        const forward = batch.messages.map((m) => ({ key: m.key, value: m.value, partition: batch.partition }));
        for (const chunk of chunkBySize([{ topic: o.out, messages: forward }], MAX_REQUEST_BYTES))
          await tx.sendBatch({ topicMessages: chunk });
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await tx.sendOffsets({
          consumerGroupId: o.groupId,
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
        });
        await tx.commit();
        resolveOffset(batch.lastOffset());
        n += batch.messages.length;
        if (n >= o.total && !finished) finished = Date.now();
      }),
  });
  await waitOrCrash(consumer, () => finished > 0);
  await consumer.disconnect();
  for (const p of producers.values()) await p.disconnect();
  return o.total / ((finished - started) / 1000);
}

/** Waits for `done`, failing fast if the consumer crashed for good (a benchmark must not hang). */
async function waitOrCrash(consumer: Consumer, done: () => boolean): Promise<void> {
  let crash: Error | null = null;
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) crash = payload.error;
  });
  while (!done()) {
    if (crash) throw crash;
    await new Promise((r) => setTimeout(r, 20));
  }
}
