/**
 * `blackwell replay`: rebuilds state from the beginning of the input topics
 * with a fresh consumer group and an empty store, writing to throw-away output
 * topics (never the live ones), then compares the rebuilt stack-state and the
 * drift transitions with the live ones.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { bootstrapTopics } from "../adapters/kafka/bootstrap.js";
import { RECONCILER_INPUTS, type TopicNames } from "../adapters/kafka/topics.js";
import type { AppContext } from "./app-context.js";
import { inputEnds } from "./input-ends.js";
import { ReconcilerRunner } from "./reconciler-runner.js";

export interface ReplayReport {
  replayId: string;
  inputRecords: number;
  ms: number;
  stacks: {
    live: number;
    replayed: number;
    equal: number;
    differences: Array<{ key: string; live: unknown; replayed: unknown }>;
  };
  transitions: { live: number; replayed: number; equal: boolean; firstDifference: string | null };
  /** Per phase and task partition: input records processed and transitions written (what to look at when replay differs). */
  phases: { desired: PhaseCounts; events: PhaseCounts };
  equal: boolean;
}

export type PhaseCounts = Record<number, { records: number; transitions: number }>;

interface StateRecordValue {
  status: string;
  state_version: string;
  observed_state_version: string;
  desired_hash: string;
  previous_versions: string[];
  drift_details: Array<{
    drift_id: string;
    type: string;
    component: string;
    expected_json: string;
    observed_json: string;
    severity: string;
    acknowledged: boolean;
  }>;
}

interface DriftEventValue {
  drift_id: string;
  transition: string;
  expected_json: string;
  observed_json: string;
  severity: string;
  stack_id: string;
}

/** What must match between live and replay; times and generated ids are excluded. */
function comparable(s: StateRecordValue | null): unknown {
  if (s === null) return null;
  return {
    status: s.status,
    state_version: s.state_version,
    observed_state_version: s.observed_state_version,
    desired_hash: s.desired_hash,
    previous_versions: s.previous_versions,
    drift_details: s.drift_details.map((d) => [
      d.drift_id,
      d.type,
      d.component,
      d.expected_json,
      d.observed_json,
      d.severity,
      d.acknowledged,
    ]),
  };
}

async function latestStates(ctx: AppContext, topic: string): Promise<Map<string, unknown>> {
  const latest = new Map<string, unknown>();
  await ctx.kafka.readToEnd({
    topic,
    groupPrefix: "blackwell-replay",
    onBatch: async (batch) => {
      for (const m of batch.records) {
        const key = m.key?.toString("utf8") ?? "";
        latest.set(
          key,
          comparable(m.value === null ? null : await ctx.serde.decode<StateRecordValue>("StateRecord", m.value)),
        );
      }
    },
  });
  for (const [k, v] of latest) if (v === null) latest.delete(k);
  return latest;
}

/** Per drift, its sequence of transitions (order across drifts is not defined across partitions). */
async function transitionsByDrift(ctx: AppContext, topic: string): Promise<Map<string, string[]>> {
  const byDrift = new Map<string, string[]>();
  await ctx.kafka.readToEnd({
    topic,
    groupPrefix: "blackwell-replay",
    onBatch: async (batch) => {
      for (const m of batch.records) {
        if (m.value === null) continue;
        const v = await ctx.serde.decode<DriftEventValue>("DriftEvent", m.value);
        const list = byDrift.get(v.drift_id) ?? [];
        list.push(`${v.transition} ${v.severity} ${v.expected_json} -> ${v.observed_json}`);
        byDrift.set(v.drift_id, list);
      }
    },
  });
  return byDrift;
}

export async function replayAndCompare(
  ctx: AppContext,
  options: { keep?: boolean; timeoutMs?: number; log?: (m: string) => void } = {},
): Promise<ReplayReport> {
  const say = options.log ?? (() => {});
  const replayId = randomUUID().slice(0, 8);
  const prefix = `${ctx.config.topicPrefix}replay-${replayId}.`;
  const started = Date.now();
  const report = await bootstrapTopics({
    admin: ctx.admin,
    serde: ctx.serde,
    prefix,
    partitions: ctx.config.partitions,
    replicationFactor: ctx.config.replicationFactor,
  });
  // Inputs are the live topics; outputs go to the replay's own topics.
  const names: TopicNames = { ...report.names };
  for (const role of RECONCILER_INPUTS) names[role] = ctx.names[role];
  const inputs = RECONCILER_INPUTS.map((r) => ctx.names[r]);
  const ends = await inputEnds(ctx.admin, inputs);
  const inputRecords = Number([...ends.values()].reduce((a, b) => a + b, 0n));
  const stateDir = mkdtempSync(join(tmpdir(), "blackwell-replay-"));
  const phases: ReplayReport["phases"] = { desired: {}, events: {} };
  const runnerFor = (phase: PhaseCounts, inputs?: readonly (typeof RECONCILER_INPUTS)[number][]) =>
    new ReconcilerRunner({
      kafka: ctx.kafka,
      admin: ctx.admin,
      serde: ctx.serde,
      names,
      partitions: ctx.config.partitions,
      applicationId: `${prefix}reconciler`,
      stateDir,
      log: ctx.log,
      wallClockTicks: false,
      ...(inputs ? { inputs } : {}),
      onCommitted: ({ partition, records, outputs }) => {
        const counts = (phase[partition] ??= { records: 0, transitions: 0 });
        counts.records += records;
        counts.transitions += outputs.transitions.length;
      },
    });
  const drain = async (runner: ReconcilerRunner, upTo: Map<string, bigint>, deadline: number) => {
    while (!runner.drainedTo(upTo)) {
      if (Date.now() > deadline) throw new Error("replay did not drain the input topics in time");
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  say(`replaying ${inputRecords} input records into ${prefix}*`);
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  const isDesired = (tp: string) => tp.startsWith(`${ctx.names["desired-state"]}:`);
  try {
    // Phase 1, the whole desired-state backlog alone, so no event is ever judged before the composition
    // declared for it, however fetches interleave topics; phase 2 resumes the same group with every input.
    const desiredOnly = runnerFor(phases.desired, ["desired-state"]);
    try {
      await desiredOnly.start();
      await drain(desiredOnly, new Map([...ends].filter(([tp]) => isDesired(tp))), deadline);
    } finally {
      await desiredOnly.stop();
    }
    const runner = runnerFor(phases.events);
    try {
      await runner.start();
      // The desired-state backlog is done (its offsets are committed); the events remain.
      await drain(runner, new Map([...ends].filter(([tp]) => !isDesired(tp))), deadline);
    } finally {
      await runner.stop();
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
  const ms = Date.now() - started;
  say(`replay drained in ${ms} ms; comparing`);

  const [liveStates, replayStates, liveDrift, replayDrift] = await Promise.all([
    latestStates(ctx, ctx.names["stack-state"]),
    latestStates(ctx, names["stack-state"]),
    transitionsByDrift(ctx, ctx.names["drift-events"]),
    transitionsByDrift(ctx, names["drift-events"]),
  ]);
  const differences: ReplayReport["stacks"]["differences"] = [];
  const keys = new Set([...liveStates.keys(), ...replayStates.keys()]);
  for (const key of keys) {
    const live = liveStates.get(key) ?? null,
      replayed = replayStates.get(key) ?? null;
    if (JSON.stringify(live) !== JSON.stringify(replayed)) differences.push({ key, live, replayed });
  }
  let firstDifference: string | null = null;
  for (const id of new Set([...liveDrift.keys(), ...replayDrift.keys()])) {
    const a = JSON.stringify(liveDrift.get(id) ?? []),
      b = JSON.stringify(replayDrift.get(id) ?? []);
    if (a !== b) {
      firstDifference = `${id}: live ${a} vs replay ${b}`;
      break;
    }
  }
  const count = (m: Map<string, string[]>) => [...m.values()].reduce((n, l) => n + l.length, 0);
  if (!options.keep) {
    await ctx.admin.deleteTopics(Object.values(report.names)).catch(() => {});
    await ctx.admin.deleteGroups([`${prefix}reconciler`]).catch(() => {});
  }
  return {
    replayId,
    inputRecords,
    ms,
    stacks: { live: liveStates.size, replayed: replayStates.size, equal: keys.size - differences.length, differences },
    transitions: {
      live: count(liveDrift),
      replayed: count(replayDrift),
      equal: firstDifference === null,
      firstDifference,
    },
    phases,
    equal: differences.length === 0 && firstDifference === null,
  };
}
