import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PartitionGroup, type Buffered } from "../../../src/runtime/merge/partition-group.js";

const INPUTS = ["desired-state", "commands", "provider-events", "resource-events"] as const;
type Input = (typeof INPUTS)[number];

const record = (input: Input, offset: number, timestamp: number): Buffered<string> => ({
  input,
  offset: BigInt(offset),
  timestamp,
  payload: `${input}@${offset}`,
});

/** Each input's records: offsets 0.., timestamps non-decreasing within the input (nothing late by itself). */
const timelines = fc.tuple(...INPUTS.map(() => fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 25 }))).map(
  (steps) =>
    Object.fromEntries(
      INPUTS.map((input, i) => {
        let t = 1_000;
        return [input, steps[i]!.map((dt, offset) => record(input, offset, (t += dt)))];
      }),
    ) as Record<Input, Buffered<string>[]>,
);

/** Fetches cut into chunks in any order: each step names an input and how many records it brings. */
const schedules = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 6 })), {
  maxLength: 80,
});

/** Runs the merge over fetches arriving as `schedule` says, draining it whenever it can go on. */
function runMerge(all: Record<Input, Buffered<string>[]>, schedule: Array<[number, number]>, maxIdleMs: number) {
  const group = new PartitionGroup<string>({ inputs: INPUTS, maxIdleMs });
  const fetched = Object.fromEntries(INPUTS.map((i) => [i, 0])) as Record<Input, number>;
  const hasMore = (input: string) => fetched[input as Input] < all[input as Input].length;
  const out: Array<{ payload: string; timestamp: number; late: boolean; streamTime: number }> = [];
  let now = 0;
  const drain = () => {
    for (;;) {
      const step = group.next(now, { hasMore });
      if (step.kind !== "record") return;
      const { payload, timestamp } = step.record;
      out.push({ payload, timestamp, late: step.late, streamTime: group.streamTime });
    }
  };
  const fetch = (input: Input, count: number) => {
    const from = fetched[input];
    const chunk = all[input].slice(from, from + count);
    fetched[input] = from + chunk.length;
    group.add(input, chunk);
  };
  for (const [i, count] of schedule) {
    now += 5;
    fetch(INPUTS[i]!, count);
    drain();
  }
  // The rest arrives, in input order, as the consumer catches up.
  for (const input of INPUTS) fetch(input, all[input].length);
  drain();
  return out;
}

const byTime = (all: Record<Input, Buffered<string>[]>) =>
  INPUTS.flatMap((input) => all[input])
    .sort(
      (a, b) =>
        a.timestamp - b.timestamp ||
        INPUTS.indexOf(a.input as Input) - INPUTS.indexOf(b.input as Input) ||
        Number(a.offset - b.offset),
    )
    .map((r) => r.payload);

describe("the merge of a task's inputs (partition group)", () => {
  it("gives the timestamp order whatever way the inputs are cut into fetches, when it may wait for every input", () => {
    fc.assert(
      fc.property(timelines, schedules, (all, schedule) => {
        const out = runMerge(all, schedule, Number.POSITIVE_INFINITY);
        expect(out.map((o) => o.payload)).toEqual(byTime(all));
        expect(out.some((o) => o.late)).toBe(false);
      }),
      { seed: 20261201, numRuns: 400 },
    );
  });

  it("never moves stream time back, and flags exactly the records older than it as late, when it stops waiting", () => {
    fc.assert(
      fc.property(timelines, schedules, (all, schedule) => {
        const out = runMerge(all, schedule, 0);
        expect(out.map((o) => o.payload).sort()).toEqual(byTime(all).sort()); // nothing lost, nothing twice
        let time = Number.NEGATIVE_INFINITY;
        for (const o of out) {
          expect(o.late).toBe(o.timestamp < time);
          expect(o.streamTime).toBe(Math.max(time, o.timestamp));
          time = o.streamTime;
        }
      }),
      { seed: 20261201, numRuns: 400 },
    );
  });

  it("keeps offset order within an input even when its timestamps go back", () => {
    const group = new PartitionGroup<string>({ inputs: INPUTS, maxIdleMs: 0 });
    group.add("provider-events", [record("provider-events", 0, 50), record("provider-events", 1, 10)]);
    group.add("resource-events", [record("resource-events", 0, 20)]);
    const taken: string[] = [];
    const lates: boolean[] = [];
    for (
      let step = group.next(0, { hasMore: () => false });
      step.kind === "record";
      step = group.next(0, { hasMore: () => false })
    ) {
      taken.push(step.record.payload);
      lates.push(step.late);
    }
    expect(taken).toEqual(["resource-events@0", "provider-events@0", "provider-events@1"]);
    expect(lates).toEqual([false, false, true]);
    expect(group.streamTime).toBe(50);
  });

  it("waits for an empty input with unfetched data up to the idle time, then goes on without it", () => {
    const group = new PartitionGroup<string>({ inputs: INPUTS, maxIdleMs: 100 });
    group.add("resource-events", [record("resource-events", 0, 20)]);
    const desiredHasMore = (input: string) => input === "desired-state";
    expect(group.next(1_000, { hasMore: desiredHasMore })).toEqual({
      kind: "wait",
      input: "desired-state",
      until: 1_100,
    });
    expect(group.next(1_050, { hasMore: desiredHasMore })).toEqual({
      kind: "wait",
      input: "desired-state",
      until: 1_100,
    });
    const step = group.next(1_100, { hasMore: desiredHasMore });
    expect(step.kind === "record" && step.record.payload).toBe("resource-events@0");
    // The idle time is spent: it does not hold the others back again until it has had data and run dry.
    expect(group.next(1_200, { hasMore: desiredHasMore })).toEqual({ kind: "idle" });
  });
});
