/**
 * patches/kafkajs+2.2.4.patch: a transaction's own requests survive a busy or moved coordinator. The coordinator is
 * looked up once and again only after a request to it failed; AddOffsetsToTxn and EndTxn are retried on
 * CONCURRENT_TRANSACTIONS (the previous commit's markers still being written) and on a coordinator that is loading,
 * unavailable or moved, as AddPartitionsToTxn already was; anything else (a fenced producer) fails at once.
 * (The real broker is in test/integration/back-to-back-transactions.test.ts; a coordinator move needs this stand-in.)
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const createEosManager = require("kafkajs/src/producer/eosManager/index.js");
const { createErrorFromCode } = require("kafkajs/src/protocol/error.js");
const { createLogger, LEVELS } = require("kafkajs/src/loggers/index.js");

const NOT_COORDINATOR_FOR_GROUP = 16;
const CONCURRENT_TRANSACTIONS = 51;
const INVALID_PRODUCER_EPOCH = 47;
const TRANSACTION = 1;

/** A broker whose requests answer the given error codes first, then succeed; `calls` counts them per request. */
function broker(name: string, failures: Record<string, number[]> = {}) {
  const calls: Record<string, number> = {};
  const answer = (request: string, result: unknown = {}) => {
    calls[request] = (calls[request] ?? 0) + 1;
    const code = failures[request]?.shift();
    return code === undefined ? Promise.resolve(result) : Promise.reject(createErrorFromCode(code));
  };
  return {
    name,
    calls,
    isConnected: () => true,
    initProducerId: () => answer("initProducerId", { producerId: 7, producerEpoch: 0 }),
    addOffsetsToTxn: () => answer("addOffsetsToTxn"),
    txnOffsetCommit: () => answer("txnOffsetCommit"),
    endTxn: () => answer("endTxn"),
  };
}

/** A transactional EOS manager whose coordinator lookups return `coordinators` in turn (the last one stays). */
async function transaction(coordinators: Array<ReturnType<typeof broker>>, groupCoordinator = broker("group")) {
  const lookups: string[] = [];
  // InitProducerId looks the coordinator up on its own (and answers at the first one).
  coordinators.unshift(broker("init"));
  const cluster = {
    refreshMetadataIfNecessary: async () => {},
    findGroupCoordinator: async ({ coordinatorType }: { coordinatorType: number }) => {
      if (coordinatorType !== TRANSACTION) return groupCoordinator;
      const next = coordinators.length > 1 ? coordinators.shift()! : coordinators[0]!;
      lookups.push(next.name);
      return next;
    },
  };
  const eos = createEosManager({
    logger: createLogger({ level: LEVELS.NOTHING, logCreator: () => () => {} }),
    cluster,
    retry: { initialRetryTime: 1, maxRetryTime: 5, retries: 5, factor: 0, multiplier: 1.5 },
    transactional: true,
    transactionalId: "task-0",
  });
  await eos.initProducerId();
  lookups.length = 0;
  eos.beginTransaction();
  return { eos, lookups };
}

const OFFSETS = {
  consumerGroupId: "reconciler",
  topics: [{ topic: "in", partitions: [{ partition: 0, offset: "5" }] }],
};

describe("a KafkaJS transaction whose coordinator is busy or moves", () => {
  it("adds its offsets and commits at the coordinator that took over, looking it up only when it moved", async () => {
    const old = broker("old", { addOffsetsToTxn: [NOT_COORDINATOR_FOR_GROUP] });
    const current = broker("current", { endTxn: [CONCURRENT_TRANSACTIONS] });
    const { eos, lookups } = await transaction([old, current]);
    await eos.sendOffsets(OFFSETS);
    await eos.commit();
    expect(old.calls).toEqual({ addOffsetsToTxn: 1 });
    expect(current.calls).toEqual({ addOffsetsToTxn: 1, endTxn: 2 });
    // Looked up for the first request and after the move; the busy answer to EndTxn came from the right one.
    expect(lookups).toEqual(["old", "current"]);
  });

  it("retries AddOffsetsToTxn while the previous commit's markers are written", async () => {
    const coordinator = broker("coordinator", { addOffsetsToTxn: [CONCURRENT_TRANSACTIONS, CONCURRENT_TRANSACTIONS] });
    const { eos, lookups } = await transaction([coordinator]);
    await eos.sendOffsets(OFFSETS);
    await eos.commit();
    expect(coordinator.calls).toMatchObject({ addOffsetsToTxn: 3, endTxn: 1 });
    expect(lookups).toEqual(["coordinator"]);
  });

  it("fails a commit of a fenced producer at once, with the broker's error", async () => {
    const coordinator = broker("coordinator", { endTxn: [INVALID_PRODUCER_EPOCH] });
    const { eos } = await transaction([coordinator]);
    await eos.sendOffsets(OFFSETS);
    await expect(eos.commit()).rejects.toMatchObject({ type: "INVALID_PRODUCER_EPOCH" });
    expect(coordinator.calls.endTxn).toBe(1);
  });
});
