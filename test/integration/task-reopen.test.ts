/**
 * A task whose commit had an unknown outcome (the answer to EndTxn lost) is reopened in place: a new producer settles
 * the transaction, the store catches up from the changelog, the task starts from the group's offsets (committed in its
 * transactions), and the consumer fetches again from there. A pass that committed must not be written twice, one that
 * did not must not be lost, and a task whose input ends with a transaction marker must not wait for it. On the real
 * broker; the lost answer is made at the port (the records are really committed, or not).
 */
import { afterEach, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import type { KafkaPort } from "../../src/adapters/kafka/port.js";
import type { SchemaName } from "../../src/adapters/kafka/topics.js";
import { BlackwellError } from "../../src/errors.js";
import { inputEnds } from "../../src/runtime/input-ends.js";
import { journalFromAvro, type JournalAvro } from "../../src/runtime/merge/journal.js";
import type { ReconcilerRunner } from "../../src/runtime/reconciler-runner.js";
import { dbFlip, dbStack } from "../support/flipping-db.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

const CLIENTS = Array.from({ length: 9 }, (_, i) => `client-${i}`);

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

interface DriftEvent {
  event_id: string;
  drift_id: string;
  transition: string;
}

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The harness's topics with `CLIENTS` applied, and what the tests do with them. */
async function world(harness: Harness) {
  const { ctx } = harness;
  const inputs = [ctx.names["desired-state"], ctx.names["resource-events"], ctx.names["heal-results"]];
  const base = Date.now() - 3_600_000;
  // heal-results is written in transactions: its last offset is a commit marker, which a fetch brings without a record.
  // (The record itself is no heal result: it goes to the DLQ.)
  const writer = await ctx.kafka.transactionalProducer(`${harness.config.topicPrefix}test-heal-results`);
  await writer.commit([{ topic: ctx.names["heal-results"], key: CLIENTS[0]!, value: Buffer.from("not avro") }]);
  await writer.close();
  for (const client of CLIENTS) {
    await harness.produce("desired-state", "DesiredState", `${client}/web`, [desiredToAvro(dbStack(client, base))]);
  }
  const read = async <T>(role: "drift-events" | "task-journal" | "audit", schema: SchemaName) => {
    const values: T[] = [];
    await ctx.kafka.readToEnd({
      topic: ctx.names[role],
      groupPrefix: "task-reopen-test",
      onBatch: async (batch) => {
        for (const m of batch.records) if (m.value) values.push(await ctx.serde.decode<T>(schema, m.value));
      },
    });
    return values;
  };
  return {
    /** Each flip of a client's database opens or resolves its drift: one transition per flip. */
    produceFlips: async (from: number, to: number) => {
      for (let i = from; i < to; i++)
        for (const client of CLIENTS)
          await harness.produce("resource-events", "ResourceEvent", client, [dbFlip(client, i, base)]);
    },
    drained: async (runner: ReconcilerRunner) => {
      const ends = await inputEnds(ctx.admin, inputs);
      await waitUntil("the reconciler to process every input record", () => runner.drainedTo(ends));
    },
    /** What users read after `flips` flips: every transition once, every record taken once. */
    expectEachOnce: async (flips: number) => {
      // Every transaction of a task starts where the one before it ended: no input record was taken twice, none skipped.
      const journal = (await read<JournalAvro>("task-journal", "TaskJournal")).map(journalFromAvro);
      expect(new Set(journal.map((e) => e.task)).size).toBe(3);
      for (const task of [0, 1, 2]) {
        const entries = journal.filter((e) => e.task === task);
        for (let i = 1; i < entries.length; i++)
          expect(entries[i]!.inputs.map((x) => x.from)).toEqual(entries[i - 1]!.inputs.map((x) => x.to));
      }
      // A record taken again would be older than stream time: audited as late.
      const audits = await read<{ action: string }>("audit", "AuditEntry");
      expect(audits.filter((a) => a.action === "late_record")).toEqual([]);
      const events = await read<DriftEvent>("drift-events", "DriftEvent");
      const perDrift = new Map<string, string[]>();
      for (const e of events) perDrift.set(e.drift_id, [...(perDrift.get(e.drift_id) ?? []), e.transition]);
      expect(perDrift.size).toBe(CLIENTS.length);
      for (const sequence of perDrift.values())
        expect(sequence).toEqual(Array.from({ length: flips }, (_, i) => (i % 2 === 0 ? "opened" : "resolved")));
      expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    },
  };
}

describe("a reconciler task reopened in place", () => {
  it("reopens a task whose commit had an unknown outcome: a pass that committed is not written twice, one that did not is not lost", async () => {
    h = await createHarness(3);
    const harness = h;
    const { ctx } = harness;
    const w = await world(harness);
    // The answer to EndTxn lost: once after the transaction committed, once when it did not.
    let lose: "committed" | "not committed" | null = null;
    const lost: string[] = [];
    const kafka: KafkaPort = Object.create(ctx.kafka) as KafkaPort;
    kafka.transactionalProducer = async (id) => {
      const real = await ctx.kafka.transactionalProducer(id);
      return {
        transactionalId: real.transactionalId,
        close: () => real.close(),
        commit: async (records, input) => {
          const outcome = lose;
          lose = null;
          if (outcome === "not committed") {
            lost.push(outcome);
            throw new BlackwellError("BLACKWELL_ERR_KAFKA_COMMIT_UNKNOWN", "answer lost (test)");
          }
          const result = await real.commit(records, input);
          if (outcome === "committed") {
            lost.push(outcome);
            throw new BlackwellError("BLACKWELL_ERR_KAFKA_COMMIT_UNKNOWN", "answer lost (test)");
          }
          return result;
        },
      };
    };
    const runner = await harness.startReconciler({ kafka });
    await w.produceFlips(0, 6);
    await w.drained(runner);
    lose = "committed";
    await w.produceFlips(6, 11);
    await waitUntil("the answer of a commit that committed lost", () => lost.length === 1);
    await w.drained(runner);
    lose = "not committed";
    await w.produceFlips(11, 16);
    await waitUntil("the answer of a commit that did not commit lost", () => lost.length === 2);
    await w.drained(runner);
    await runner.stop();
    await w.expectEachOnce(16);
  }, 300_000);
});
