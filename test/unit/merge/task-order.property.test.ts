/**
 * The promise of event sourcing, on the pure parts a task is made of (the
 * merge, the journal and the fold with its deadlines): for random timestamped
 * inputs of several clients across the input topics,
 *  - when nothing is late, every way of cutting the inputs into fetches and
 *    transactions gives the same outputs, in the same order;
 *  - whatever arrived late, following the journal of a run reproduces that
 *    run's outputs exactly, however the replay's fetches are cut.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ClientState } from "../../../src/core/model/client-state.js";
import type { InputRecord } from "../../../src/core/model/inputs.js";
import { JournalBuilder, type JournalEntry } from "../../../src/runtime/merge/journal.js";
import { JournalOrder } from "../../../src/runtime/merge/journal-order.js";
import type { Buffered, MergeOrder } from "../../../src/runtime/merge/merge-order.js";
import { PartitionGroup } from "../../../src/runtime/merge/partition-group.js";
import { TaskPass, type ClientLookup } from "../../../src/runtime/task-pass.js";
import { MERGE_ORDER } from "../../../src/runtime/reconciler-runner.js";
import { applied, command, providerEvent, resourceEvent, t } from "../../support/core-spec.js";

const INPUTS = MERGE_ORDER.slice(0, 4); // desired-state, commands, provider-events, resource-events
type Input = (typeof INPUTS)[number];
const CLIENTS = ["c1", "c2", "c3"] as const;

/** A client's state and deadline as the task store keeps them between transactions. */
class MemoryStore implements ClientLookup {
  readonly rows = new Map<string, { state: ClientState; deadline: number | null }>();
  get(client_id: string) {
    return this.rows.get(client_id)?.state;
  }
  dueBetween(after: number, upTo: number) {
    return [...this.rows]
      .filter(([, r]) => r.deadline !== null && r.deadline > after && r.deadline <= upTo)
      .map(([client_id, r]) => ({ client_id, deadline: r.deadline! }))
      .sort((a, b) => a.deadline - b.deadline || (a.client_id < b.client_id ? -1 : 1));
  }
  nextDeadlineAfter(after: number) {
    const ds = [...this.rows.values()].map((r) => r.deadline).filter((d): d is number => d !== null && d > after);
    return ds.length === 0 ? null : Math.min(...ds);
  }
  commit(pass: TaskPass) {
    for (const [c, state] of pass.clients) this.rows.set(c, { state, deadline: pass.deadlines.get(c) ?? null });
  }
}

/** One input record of the scenario: which input, its record time, and what it decodes to. */
interface Rec {
  input: Input;
  timestamp: number;
  value: InputRecord;
}

const withClient = <T extends InputRecord>(r: T, client_id: string): T =>
  r.kind === "DesiredStateApplied" ? { ...r, desired: { ...r.desired, client_id } } : ({ ...r, client_id } as T);

/** Random inputs of a few clients: desired states with or without a resource, provider and resource reports, commands. */
const recordArb: fc.Arbitrary<Rec> = fc
  .tuple(fc.constantFrom(...CLIENTS), fc.integer({ min: 0, max: 1200 }), fc.integer({ min: 0, max: 5 }), fc.boolean())
  .map(([client, second, kind, flag]) => {
    const at = t(second);
    const make = (): [Input, InputRecord] => {
      switch (kind) {
        case 0:
          return [
            "desired-state",
            applied(at, {
              state_version: `v${second}`,
              resources: flag ? [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:db", ignore_paths: [] }] : [],
              staleness: {
                provider_silence_seconds: 120,
                resource_ttl_seconds: 90,
                content_grace_seconds: 60,
                webhook_failure_threshold: 2,
              },
            }),
          ];
        case 1:
          return ["provider-events", providerEvent(at, flag ? "sanity" : "contentful", "provider.connected")];
        case 2:
          return [
            "provider-events",
            providerEvent(at, "sanity", flag ? "provider.heartbeat" : "provider.disconnected"),
          ];
        case 3:
          return ["resource-events", resourceEvent(at, "db", flag ? "healthy" : "unhealthy")];
        case 4:
          return ["commands", command(at, flag ? "reconcile" : "pause")];
        default:
          return ["commands", command(at, "resume")];
      }
    };
    const [input, value] = make();
    return { input, timestamp: at, value: withClient(value, client) };
  });

/** Per input, records in offset order; `sorted` makes each input's timestamps non-decreasing (nothing late by itself). */
const scenarioArb = (sorted: boolean) =>
  fc.array(recordArb, { minLength: 1, maxLength: 40 }).map((recs) => {
    const byInput = new Map<Input, Buffered<Rec>[]>(INPUTS.map((i) => [i, []]));
    const list = sorted ? [...recs].sort((a, b) => a.timestamp - b.timestamp) : recs;
    for (const r of list) {
      const q = byInput.get(r.input)!;
      q.push({ input: r.input, offset: BigInt(q.length), timestamp: r.timestamp, payload: r });
    }
    return byInput;
  });

/** Fetches in any order: (input, how many records); and transaction sizes. */
const cutsArb = fc.record({
  fetches: fc.array(fc.tuple(fc.integer({ min: 0, max: INPUTS.length - 1 }), fc.integer({ min: 1, max: 5 })), {
    maxLength: 60,
  }),
  passSize: fc.integer({ min: 1, max: 12 }),
});

/** Per output topic, the records in the order written (order across topics is not observable). */
interface Outputs {
  transitions: string[];
  healCommands: string[];
  audits: string[];
  stackStates: string[];
}

interface Run {
  outputs: Outputs;
  journal: JournalEntry[];
  late: number;
}

/**
 * Drives a task as the reconciler does: fetched records are added to the order, and after each fetch passes run
 * until the order waits or runs dry; each pass commits its clients to the store and writes a journal entry.
 */
function runTask(
  scenario: Map<Input, Buffered<Rec>[]>,
  cuts: { fetches: Array<[number, number]>; passSize: number },
  order: MergeOrder<Rec>,
): Run {
  const store = new MemoryStore();
  const fetched = new Map<Input, number>(INPUTS.map((i) => [i, 0]));
  const committed = new Map<Input, bigint>(INPUTS.map((i) => [i, 0n]));
  const view = {
    hasMore: (i: string) => fetched.get(i as Input)! < scenario.get(i as Input)!.length,
    fetched: (i: string) => BigInt(fetched.get(i as Input)!),
  };
  const run: Run = {
    outputs: { transitions: [], healCommands: [], audits: [], stackStates: [] },
    journal: [],
    late: 0,
  };
  let streamTime = Number.NEGATIVE_INFINITY;
  const drain = () => {
    for (;;) {
      order.checkpoint();
      const pass = new TaskPass(store, streamTime);
      const journal = new JournalBuilder(
        "app",
        0,
        INPUTS,
        INPUTS.map((i) => committed.get(i)!),
      );
      let taken = 0;
      let tick: number | null = null;
      let stop = false;
      while (taken < cuts.passSize) {
        const step = order.next(0, view);
        if (step.kind === "wait" || step.kind === "idle") {
          stop = true;
          break;
        }
        if (step.kind === "tick") {
          pass.advance(step.time, "schedule");
          tick = step.time;
          continue;
        }
        taken++;
        journal.take(step.record.input, step.record.offset);
        const { payload, input, offset, timestamp } = step.record;
        const late = pass.take(timestamp);
        pass.applyRecord(payload.value, { role: input, partition: 0, offset: String(offset), timestamp }, late);
      }
      if (taken > 0 || tick !== null) {
        store.commit(pass);
        streamTime = pass.now;
        for (const [i, next] of journal.positions()) committed.set(i as Input, next);
        run.journal.push(journal.build(pass.now, pass.late, tick));
        run.late += pass.late;
        for (const topic of ["transitions", "healCommands", "audits", "stackStates"] as const)
          run.outputs[topic].push(...pass.outputs[topic].map((o) => JSON.stringify(o)));
      }
      if (stop) return;
    }
  };
  const fetch = (input: Input, count: number) => {
    const from = fetched.get(input)!;
    const chunk = scenario.get(input)!.slice(from, from + count);
    fetched.set(input, from + chunk.length);
    order.add(input, chunk);
  };
  for (const [i, count] of cuts.fetches) {
    fetch(INPUTS[i]!, count);
    drain();
  }
  for (const input of INPUTS) fetch(input, scenario.get(input)!.length);
  drain();
  return run;
}

/** Waits for every input with unfetched data: perfect arrival. */
const patientMerge = () => new PartitionGroup<Rec>({ inputs: INPUTS, maxIdleMs: Number.POSITIVE_INFINITY });
/** Never waits: whatever was fetched goes first, the rest may come late. */
const eagerMerge = () => new PartitionGroup<Rec>({ inputs: INPUTS, maxIdleMs: 0 });

describe("a task's outputs are a function of its input log", () => {
  it("when nothing is late, every cut into fetches and transactions gives the same outputs in the same order", () => {
    fc.assert(
      fc.property(scenarioArb(true), cutsArb, cutsArb, (scenario, a, b) => {
        const first = runTask(scenario, a, patientMerge());
        const second = runTask(scenario, b, patientMerge());
        expect(first.late).toBe(0);
        expect(second.outputs).toEqual(first.outputs);
        // And it is the plain timestamp merge a replay with no journal (--reorder) takes.
        const reorder = runTask(scenario, b, new JournalOrder<Rec>(INPUTS, []));
        expect(reorder.outputs).toEqual(first.outputs);
      }),
      { numRuns: 150 },
    );
  });

  it("following the journal reproduces a run exactly, late records and all, however the replay is fetched", () => {
    fc.assert(
      fc.property(scenarioArb(false), cutsArb, cutsArb, (scenario, live, replay) => {
        const recorded = runTask(scenario, live, eagerMerge());
        const replayed = runTask(scenario, replay, new JournalOrder<Rec>(INPUTS, recorded.journal));
        expect(replayed.outputs).toEqual(recorded.outputs);
        expect(replayed.late).toBe(recorded.late);
      }),
      { numRuns: 150 },
    );
  });

  it("a replay with no journal differs from an arrival-ordered run only where records came late", () => {
    // Desired state declared at t=0 but fetched after an event at t=10: live judges the event without it.
    const scenario = new Map<Input, Buffered<Rec>[]>(INPUTS.map((i) => [i, []]));
    const desired = applied(t(0), {
      resources: [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:db", ignore_paths: [] }],
    });
    scenario.get("desired-state")!.push({
      input: "desired-state",
      offset: 0n,
      timestamp: t(0),
      payload: { input: "desired-state", timestamp: t(0), value: desired },
    });
    const report = resourceEvent(t(10), "db", "unhealthy");
    scenario.get("resource-events")!.push({
      input: "resource-events",
      offset: 0n,
      timestamp: t(10),
      payload: { input: "resource-events", timestamp: t(10), value: report },
    });
    const eventsFirst = { fetches: [[3, 1] as [number, number]], passSize: 10 };
    const live = runTask(scenario, eventsFirst, eagerMerge());
    expect(live.late).toBe(1);
    const replayed = runTask(scenario, { fetches: [], passSize: 10 }, new JournalOrder<Rec>(INPUTS, live.journal));
    expect(replayed.outputs).toEqual(live.outputs);
    const perfect = runTask(scenario, { fetches: [], passSize: 10 }, new JournalOrder<Rec>(INPUTS, []));
    expect(perfect.late).toBe(0);
    expect(perfect.outputs).not.toEqual(live.outputs);
    expect(live.outputs.audits.some((o) => o.includes('"late_record"'))).toBe(true);
  });
});

const rec = (input: Input, offset: number, value: InputRecord): Buffered<Rec> => ({
  input,
  offset: BigInt(offset),
  timestamp: value.at,
  payload: { input, timestamp: value.at, value },
});

describe("deadlines on stream time", () => {
  it("catches up a long gap in bounded work: a few schedule points at their time, then one at the end", () => {
    const scenario = new Map<Input, Buffered<Rec>[]>(INPUTS.map((i) => [i, []]));
    const staleness = {
      provider_silence_seconds: 7 * 86_400,
      resource_ttl_seconds: 7 * 86_400,
      content_grace_seconds: 60,
      webhook_failure_threshold: 2,
    };
    scenario.get("desired-state")!.push(rec("desired-state", 0, applied(t(0), { staleness })));
    scenario
      .get("provider-events")!
      .push(rec("provider-events", 0, providerEvent(t(1), "sanity", "provider.connected")));
    // Twelve hours later (144 points of the default 5-minute schedule).
    scenario
      .get("provider-events")!
      .push(rec("provider-events", 1, providerEvent(t(43_200), "sanity", "provider.heartbeat")));
    const run = runTask(scenario, { fetches: [], passSize: 10 }, patientMerge());
    expect(run.outputs.stackStates.length).toBeLessThan(10);
    const times = run.outputs.stackStates.map(
      (j) => (JSON.parse(j) as { state: { last_verified: number } }).state.last_verified,
    );
    expect(times[times.length - 1]).toBe(t(43_200));
  });

  it("judges a deadline at the deadline, before the record that moves stream time past it", () => {
    const scenario = new Map<Input, Buffered<Rec>[]>(INPUTS.map((i) => [i, []]));
    const staleness = {
      provider_silence_seconds: 3600,
      resource_ttl_seconds: 90,
      content_grace_seconds: 60,
      webhook_failure_threshold: 2,
    };
    const db = [{ name: "db", arn: "arn:aws:rds:eu-west-1:1:db:db", ignore_paths: [] }];
    scenario.get("desired-state")!.push(rec("desired-state", 0, applied(t(0), { resources: db, staleness })));
    scenario.get("resource-events")!.push(rec("resource-events", 0, resourceEvent(t(1), "db", "healthy")));
    scenario
      .get("provider-events")!
      .push(rec("provider-events", 0, providerEvent(t(300), "sanity", "provider.connected")));
    for (const passSize of [1, 10]) {
      const run = runTask(scenario, { fetches: [], passSize }, patientMerge());
      const opened = run.outputs.transitions.map((j) => JSON.parse(j) as { transition: string; at: number });
      // The report at t=1 is stale from t=91 on: judged then, not when the event at t=300 arrives.
      expect(opened.filter((x) => x.transition === "opened").map((x) => x.at)).toEqual([t(91)]);
    }
  });
});
