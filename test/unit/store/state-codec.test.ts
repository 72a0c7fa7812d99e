import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { desiredToAvro, toInput } from "../../../src/adapters/kafka/records.js";
import { loadSchemas } from "../../../src/adapters/kafka/schemas.js";
import { stateCodecOf } from "../../../src/adapters/store/state-codec.js";
import { TaskStore } from "../../../src/adapters/store/task-store.js";
import type { ClientState } from "../../../src/core/model/client-state.js";
import type { InputRecord } from "../../../src/core/model/inputs.js";
import { TaskPass, type ClientLookup } from "../../../src/runtime/task-pass.js";
import { desiredFor, generateEvents, stacksOf } from "../../../bench/workload.js";

const types = loadSchemas();
const codec = stateCodecOf({ type: (name) => types.get(name)! });

/** Client states folded from the benchmark's workload: providers, resources, integrations, content, open drifts. */
function workloadStates(clients: number): ClientState[] {
  const states = new Map<string, ClientState>();
  const lookup: ClientLookup = { get: (c) => states.get(c), dueBetween: () => [], nextDeadlineAfter: () => null };
  const base = Date.parse("2026-11-30T00:00:00Z");
  const apply = (pass: TaskPass, role: string, input: InputRecord, ts: number, offset: number) => {
    pass.take(ts);
    pass.applyRecord(input, { role, partition: 0, offset: String(offset), timestamp: ts }, false);
  };
  let pass = new TaskPass(lookup, 0);
  for (const s of stacksOf({ clients, seed: 7 })) {
    const value = desiredToAvro(desiredFor(s, base - 1000)) as unknown as Parameters<typeof toInput>[2];
    apply(
      pass,
      "desired-state",
      toInput("desired-state", `${s.client_id}/${s.stack_id}`, value, base - 1000),
      base - 1000,
      0,
    );
  }
  for (const [c, st] of pass.clients) states.set(c, st);
  pass = new TaskPass(lookup, base - 1000);
  let n = 0;
  for (const e of generateEvents(
    { events: 40 * clients, clients, seed: 7, baseTime: base },
    { opened: 0, resolved: 0 },
  )) {
    const ts = Date.parse(String(e.value.timestamp));
    const input = toInput(e.topic, e.key, e.value as Parameters<typeof toInput>[2], ts);
    apply(pass, e.topic, input, ts, n++);
  }
  for (const [c, st] of pass.clients) states.set(c, st);
  return [...states.values()];
}

/** Every optional part of a state set: healing in progress, escalated, flapping, breaker open, undefined observed. */
function healingState(from: ClientState): ClientState {
  const [stack_id, stack] = Object.entries(from.stacks)[0]!;
  return {
    ...from,
    stacks: {
      ...from.stacks,
      [stack_id]: {
        ...stack,
        drifts: {
          d1: {
            drift_id: "d1",
            type: "resource",
            kind: "resource_unhealthy",
            component: "db",
            expected: { status: "healthy" },
            observed: undefined,
            severity: "critical",
            detected_at: 1_700_000_000_000,
            acknowledged: true,
            ack_emitted: true,
            transitions: 4,
            heal: {
              attempts: 2,
              last_issued_at: 1_700_000_100_000,
              approved_by: "ops@example.com",
              rejected: false,
              last_result: "failed",
              last_decision: "heal:2",
              flapping: "flapping: opened 3 times",
              escalated_from: "high",
            },
          },
        },
        heal_log: [1_700_000_050_000, 1_700_000_100_000],
        breaker_opened_at: 1_700_000_100_000,
        flaps: { d1: [1_700_000_000_000, 1_700_000_020_000] },
        emitted: { fingerprint: "abc", at: 1_700_000_100_000 },
        deadline: 1_700_000_200_000,
      },
    },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function store(): TaskStore {
  const dir = mkdtempSync(join(tmpdir(), "blackwell-codec-"));
  dirs.push(dir);
  return new TaskStore(join(dir, "task.db"), codec);
}

/** Rows of `state` as a commit writes them: runtime row plus one desired row per stack. */
function rowsOf(state: ClientState, streamTime: number) {
  const desired = Object.entries(state.stacks).map(([stack_id, s]) => ({
    client_id: state.client_id,
    stack_id,
    body: codec.encodeDesired(s.desired, streamTime),
  }));
  return {
    rows: [{ client_id: state.client_id, body: codec.encodeRuntime(state, null, streamTime), deadline: null }],
    desired,
  };
}

describe("client state in the store and changelog (ChangelogEntry Avro)", () => {
  it("comes back equal to what was written, for every state the workload folds and for healing in progress", () => {
    const states = workloadStates(60);
    expect(states.some((s) => Object.values(s.stacks).some((st) => Object.keys(st.drifts).length > 0))).toBe(true);
    states.push(healingState(states[0]!));
    const s = store();
    for (const state of states) {
      const { rows, desired } = rowsOf(state, 1);
      s.commitRaw(rows, undefined, 1, desired);
      // What the old JSON store gave back is the reference: undefined fields absent, nothing else lost.
      expect(s.get(state.client_id)).toEqual(JSON.parse(JSON.stringify(state)));
    }
    const healed = s.get(states.at(-1)!.client_id)!;
    const drift = Object.values(healed.stacks).flatMap((st) => Object.values(st.drifts))[0]!;
    expect(drift.heal?.escalated_from).toBe("high");
    expect("observed" in drift).toBe(false);
  });

  it("is far smaller than the JSON of the whole client, and its runtime row smaller still", () => {
    const states = workloadStates(40);
    let json = 0;
    let runtime = 0;
    let all = 0;
    for (const state of states) {
      json += JSON.stringify(state).length;
      const { rows, desired } = rowsOf(state, 1);
      runtime += rows[0]!.body.length;
      all += rows[0]!.body.length + desired.reduce((n, d) => n + d.body.length, 0);
    }
    expect(all).toBeLessThan(json * 0.6);
    expect(runtime).toBeLessThan(json * 0.25);
  });

  it("reads a client row written as JSON before the split, and knows its desired states are not stored as rows", () => {
    const [state] = workloadStates(5);
    const s = store();
    s.commitRaw([{ client_id: state!.client_id, body: JSON.stringify(state), deadline: null }], undefined, 1);
    const legacy = s.get(state!.client_id)!;
    expect(legacy).toEqual(JSON.parse(JSON.stringify(state)));
    for (const stack of Object.values(legacy.stacks)) expect(s.persistedBytes(stack.desired)).toBeUndefined();
    // Once committed in the new form, its desired states are known to be stored: the next commit skips them.
    const { rows, desired } = rowsOf(legacy, 2);
    s.commitRaw(rows, undefined, 2, desired);
    const split = s.get(state!.client_id)!;
    for (const stack of Object.values(split.stacks)) expect(s.persistedBytes(stack.desired)).toBeGreaterThan(0);
  });

  it("refuses a runtime row whose stack has no desired row, naming both", () => {
    const [state] = workloadStates(3);
    const s = store();
    const { rows } = rowsOf(state!, 1);
    s.commitRaw(rows, undefined, 1);
    expect(() => s.get(state!.client_id)).toThrow(
      new RegExp(`client ${state!.client_id} names stack \\S+ but has no desired state`),
    );
  });
});
