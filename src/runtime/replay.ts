/**
 * `blackwell replay`: rebuilds state from the beginning of the input topics
 * with a fresh consumer group and an empty store, writing to throw-away output
 * topics (never the live ones), then compares what users see, in order: per
 * partition of drift-events, heal-commands and audit, the whole ordered
 * sequence of records the reconciler wrote, and the latest stack-state of
 * every stack. The replay follows the live task journal, so it takes every
 * record where live took it (late ones included) and every tick at the stream
 * time live moved to; `reorder` ignores the journal and merges the inputs by
 * timestamp, showing what perfect arrival would have produced.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { bootstrapTopics } from "../adapters/kafka/bootstrap.js";
import type { InRecord } from "../adapters/kafka/port.js";
import { RECONCILER_INPUTS, type SchemaName, type TopicNames, type TopicRole } from "../adapters/kafka/topics.js";
import { BlackwellError } from "../errors.js";
import type { AppContext } from "./app-context.js";
import { inputEnds } from "./input-ends.js";
import { journalFromAvro, type JournalEntry } from "./merge/journal.js";
import { ReconcilerRunner } from "./reconciler-runner.js";
import { WRITER_HEADER } from "../adapters/kafka/records.js";
import type { InputRecord } from "../core/model/inputs.js";

export interface SequenceReport {
  topic: TopicRole;
  live: number;
  replayed: number;
  equal: boolean;
  /** The first place the sequences part, with up to two records either side. */
  firstDivergence: { partition: number; index: number; live: string[]; replayed: string[] } | null;
}

export interface ReplayReport {
  replayId: string;
  inputRecords: number;
  ms: number;
  /** `journal`: followed the live journal (with a timestamp merge where it has no entries); `reorder`: merge only. */
  mode: "journal" | "reorder";
  journal: { entries: number; tasks: number; lateRecords: number; applicationId: string | null };
  stacks: {
    live: number;
    replayed: number;
    equal: number;
    differences: Array<{ key: string; live: unknown; replayed: unknown }>;
  };
  sequences: SequenceReport[];
  /**
   * The live state compared is one consistent cut (no live transaction committed while it was taken); the replay
   * stops where live had got to. False on a live system too busy for one: live may then go on past the replay.
   */
  exactCut: boolean;
  equal: boolean;
}

export interface ReplayOptions {
  keep?: boolean;
  timeoutMs?: number;
  /** Merge by timestamp instead of following the journal. */
  reorder?: boolean;
  /** The live reconciler's application id (whose journal to follow). Default: the only one in the journal. */
  applicationId?: string;
  log?: (m: string) => void;
}

const COMPARED: ReadonlyArray<{ role: TopicRole; schema: SchemaName }> = [
  { role: "drift-events", schema: "DriftEvent" },
  { role: "drift-predictions", schema: "DriftPrediction" },
  { role: "heal-commands", schema: "HealCommand" },
  { role: "audit", schema: "AuditEntry" },
];

/** The reconciler's records of `topic` in partition order, as canonical JSON (records other writers put there left out). */
async function sequences(
  ctx: AppContext,
  topic: string,
  schema: SchemaName,
  upTo?: Map<number, bigint>,
): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  await ctx.kafka.readToEnd({
    topic,
    groupPrefix: "blackwell-replay",
    onBatch: async (batch) => {
      const list = out.get(batch.partition) ?? [];
      out.set(batch.partition, list);
      for (const m of batch.records) {
        if (!below(m, upTo) || !writtenByReconciler(m) || m.value === null) continue;
        list.push(JSON.stringify(await ctx.serde.decode(schema, m.value)));
      }
    },
  });
  return out;
}

/** The record lies before the cut (no cut: every record). */
function below(m: InRecord, upTo?: Map<number, bigint>): boolean {
  const end = upTo?.get(m.partition);
  return upTo === undefined || (end !== undefined && BigInt(m.offset) < end);
}

function writtenByReconciler(m: InRecord): boolean {
  const writer = m.headers[WRITER_HEADER];
  return writer === undefined || writer.toString("utf8") === "reconciler";
}

async function latestStates(ctx: AppContext, topic: string, upTo?: Map<number, bigint>): Promise<Map<string, string>> {
  const latest = new Map<string, string | null>();
  await ctx.kafka.readToEnd({
    topic,
    groupPrefix: "blackwell-replay",
    onBatch: async (batch) => {
      for (const m of batch.records) {
        if (!below(m, upTo)) continue;
        const key = m.key?.toString("utf8") ?? "";
        latest.set(key, m.value === null ? null : JSON.stringify(await ctx.serde.decode("StateRecord", m.value)));
      }
    },
  });
  const present = new Map<string, string>();
  for (const [k, v] of latest) if (v !== null) present.set(k, v);
  return present;
}

/** The live journal per task, for one application id. */
async function readJournal(
  ctx: AppContext,
  wanted: string | undefined,
  upTo: Map<number, bigint>,
): Promise<{ byTask: Map<number, JournalEntry[]>; applicationId: string | null }> {
  const all: JournalEntry[] = [];
  await ctx.kafka.readToEnd({
    topic: ctx.names["task-journal"],
    groupPrefix: "blackwell-replay",
    onBatch: async (batch) => {
      for (const m of batch.records) {
        if (m.value === null || !below(m, upTo)) continue;
        all.push(journalFromAvro(await ctx.serde.decode("TaskJournal", m.value)));
      }
    },
  });
  const ids = [...new Set(all.map((e) => e.applicationId))];
  let applicationId = wanted ?? null;
  if (applicationId === null && ids.length > 1) {
    throw new BlackwellError(
      "BLACKWELL_ERR_USAGE",
      `the task journal holds several reconcilers (${ids.join(", ")}): name one with BLACKWELL_APPLICATION_ID`,
    );
  }
  if (applicationId !== null && ids.length > 0 && !ids.includes(applicationId)) {
    throw new BlackwellError(
      "BLACKWELL_ERR_USAGE",
      `the task journal has no reconciler ${applicationId} (it has ${ids.join(", ")}): check BLACKWELL_APPLICATION_ID`,
    );
  }
  applicationId ??= ids[0] ?? null;
  const byTask = new Map<number, JournalEntry[]>();
  for (const e of all) {
    if (e.applicationId !== applicationId) continue;
    const list = byTask.get(e.task) ?? [];
    list.push(e);
    byTask.set(e.task, list);
  }
  return { byTask, applicationId };
}

function compareSequences(
  role: TopicRole,
  live: Map<number, string[]>,
  replayed: Map<number, string[]>,
  exact: boolean,
): SequenceReport {
  const count = (m: Map<number, string[]>) => [...m.values()].reduce((n, l) => n + l.length, 0);
  let firstDivergence: SequenceReport["firstDivergence"] = null;
  const partitions = [...new Set([...live.keys(), ...replayed.keys()])].sort((a, b) => a - b);
  for (const p of partitions) {
    const a = live.get(p) ?? [];
    const b = replayed.get(p) ?? [];
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    const prefixOnly = i === b.length && i < a.length && !exact;
    if ((i < a.length || i < b.length) && !prefixOnly) {
      firstDivergence = {
        partition: p,
        index: i,
        live: a.slice(Math.max(0, i - 2), i + 3),
        replayed: b.slice(Math.max(0, i - 2), i + 3),
      };
      break;
    }
  }
  return {
    topic: role,
    live: count(live),
    replayed: count(replayed),
    equal: firstDivergence === null,
    firstDivergence,
  };
}

/** End offsets of `topic` per partition. */
async function endsOf(ctx: AppContext, topic: string): Promise<Map<number, bigint>> {
  return new Map((await ctx.admin.endOffsets(topic)).map((e) => [e.partition, e.high]));
}

const sameEnds = (a: Map<number, bigint>, b: Map<number, bigint>) =>
  a.size === b.size && [...a].every(([p, o]) => b.get(p) === o);

interface Cut {
  journal: Map<number, bigint>;
  outputs: Map<TopicRole, Map<number, bigint>>;
  /** Live's committed input positions, `topic:partition`. */
  committed: Map<string, bigint> | null;
  /** No live transaction committed while the cut was taken: live outputs and journal match exactly. */
  exact: boolean;
}

/**
 * One consistent cut of live: the journal's ends, the outputs' ends and the live group's committed input positions,
 * taken again until no transaction committed in between (every transaction writes a journal record).
 */
async function takeCut(ctx: AppContext, applicationId: string | null, inputs: string[]): Promise<Cut> {
  const journalTopic = ctx.names["task-journal"];
  const outputRoles: TopicRole[] = ["stack-state", ...COMPARED.map((c) => c.role)];
  let cut: Cut | null = null;
  for (let attempt = 0; attempt < 20; attempt++) {
    const journal = await endsOf(ctx, journalTopic);
    const outputs = new Map<TopicRole, Map<number, bigint>>();
    for (const role of outputRoles) outputs.set(role, await endsOf(ctx, ctx.names[role]));
    let committed: Map<string, bigint> | null = null;
    if (applicationId !== null) {
      committed = new Map();
      for (const topic of inputs)
        for (const [p, o] of await ctx.admin.committedOffsets(applicationId, topic)) committed.set(`${topic}:${p}`, o);
    }
    const exact = sameEnds(journal, await endsOf(ctx, journalTopic));
    cut = { journal, outputs, committed, exact };
    if (exact) return cut;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cut!;
}

/** A replay's own output topics, filled from the live inputs up to a cut. */
export interface Sandbox {
  /** Topic names: the live inputs, the sandbox's own outputs. */
  names: TopicNames;
  inputRecords: number;
  ms: number;
  /** Deletes the sandbox's topics and consumer group. */
  drop: () => Promise<void>;
}

export interface SandboxOptions {
  /** Prefix of the sandbox's topics (under the configured topic prefix). */
  name: string;
  /** Journal entries per task to follow; empty: merge by timestamp. */
  journal: ReadonlyMap<number, readonly JournalEntry[]>;
  /** Live's committed input positions (`topic:partition`) to stop at; null: the ends of the inputs. */
  committed: Map<string, bigint> | null;
  /** Each decoded input passes through this (what-if: a proposed policy). */
  transform?: (input: InputRecord) => InputRecord;
  timeoutMs?: number;
  log?: (m: string) => void;
}

/**
 * Runs a reconciler over the live input topics into throw-away output topics (never the live ones: nothing it
 * decides reaches an executor or a consumer of the live topics), with a fresh consumer group and an empty store, to
 * where live had got.
 */
export async function runSandbox(ctx: AppContext, options: SandboxOptions): Promise<Sandbox> {
  const say = options.log ?? (() => {});
  const prefix = `${ctx.config.topicPrefix}${options.name}.`;
  const started = Date.now();
  const inputs = RECONCILER_INPUTS.map((r) => ctx.names[r]);
  const report = await bootstrapTopics({
    admin: ctx.admin,
    serde: ctx.serde,
    prefix,
    partitions: ctx.config.partitions,
    replicationFactor: ctx.config.replicationFactor,
  });
  const drop = async () => {
    await ctx.admin.deleteTopics(Object.values(report.names)).catch(() => {});
    await ctx.admin.deleteGroups([`${prefix}reconciler`]).catch(() => {});
  };
  // Inputs are the live topics; outputs go to the sandbox's own topics.
  const names: TopicNames = { ...report.names };
  for (const role of RECONCILER_INPUTS) names[role] = ctx.names[role];
  // As far as live had gone (its committed positions), or, with no live reconciler, to the ends of the inputs.
  const ends = await inputEnds(ctx.admin, inputs);
  const stops = options.committed ? new Map(options.committed) : ends;
  for (const tp of ends.keys()) if (!stops.has(tp)) stops.set(tp, 0n);
  const until = new Map<number, Map<string, bigint>>();
  for (const [tp, offset] of stops) {
    const at = tp.lastIndexOf(":");
    const role = RECONCILER_INPUTS.find((r) => ctx.names[r] === tp.slice(0, at))!;
    const p = Number(tp.slice(at + 1));
    if (!until.has(p)) until.set(p, new Map());
    until.get(p)!.set(role, offset);
  }
  const inputRecords = Number([...stops.values()].reduce((a, b) => a + b, 0n));
  const stateDir = mkdtempSync(join(tmpdir(), "blackwell-replay-"));
  say(
    `replaying ${inputRecords} input records into ${prefix}* ` +
      (options.journal.size > 0 ? "following the live task journal" : "merged by timestamp"),
  );
  const runner = new ReconcilerRunner({
    kafka: ctx.kafka,
    admin: ctx.admin,
    serde: ctx.serde,
    names,
    partitions: ctx.config.partitions,
    applicationId: `${prefix}reconciler`,
    stateDir,
    log: ctx.log,
    wallClockTicks: false,
    journal: options.journal,
    until,
    ...(options.transform ? { transform: options.transform } : {}),
  });
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  try {
    await runner.start();
    while (!runner.drainedTo(stops)) {
      if (Date.now() > deadline) throw new Error("replay did not drain the input topics in time");
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await runner.stop();
    rmSync(stateDir, { recursive: true, force: true });
    await drop();
    throw err;
  }
  await runner.stop();
  rmSync(stateDir, { recursive: true, force: true });
  return { names, inputRecords, ms: Date.now() - started, drop };
}

/** Which reconciler's journal (named, or the only one there) and one consistent cut of it. */
export async function liveCut(
  ctx: AppContext,
  applicationId?: string,
): Promise<{ cut: Cut; journal: Awaited<ReturnType<typeof readJournal>> }> {
  const inputs = RECONCILER_INPUTS.map((r) => ctx.names[r]);
  const seen = await readJournal(ctx, applicationId, await endsOf(ctx, ctx.names["task-journal"]));
  const cut = await takeCut(ctx, seen.applicationId, inputs);
  const journal = await readJournal(ctx, seen.applicationId ?? undefined, cut.journal);
  return { cut, journal };
}

export async function replayAndCompare(ctx: AppContext, options: ReplayOptions = {}): Promise<ReplayReport> {
  const say = options.log ?? (() => {});
  const replayId = randomUUID().slice(0, 8);
  const { cut, journal } = await liveCut(ctx, options.applicationId);
  const entries = [...journal.byTask.values()].reduce((n, l) => n + l.length, 0);
  const lateRecords = [...journal.byTask.values()].flat().reduce((n, e) => n + e.late, 0);
  const mode = options.reorder ? "reorder" : "journal";
  const sandbox = await runSandbox(ctx, {
    name: `replay-${replayId}`,
    journal: mode === "journal" ? journal.byTask : new Map(),
    committed: cut.committed,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    log: say,
  });
  const { names, inputRecords, ms } = sandbox;
  say(`replay drained in ${ms} ms; comparing`);

  const [liveStates, replayStates] = await Promise.all([
    latestStates(ctx, ctx.names["stack-state"], cut.outputs.get("stack-state")),
    latestStates(ctx, names["stack-state"]),
  ]);
  const differences: ReplayReport["stacks"]["differences"] = [];
  const keys = new Set([...liveStates.keys(), ...replayStates.keys()]);
  for (const key of keys) {
    const live = liveStates.get(key) ?? null;
    const replayed = replayStates.get(key) ?? null;
    if (live !== replayed && cut.exact)
      differences.push({ key, live: live && JSON.parse(live), replayed: replayed && JSON.parse(replayed) });
  }
  const compared: SequenceReport[] = [];
  for (const { role, schema } of COMPARED) {
    const [live, replayed] = await Promise.all([
      sequences(ctx, ctx.names[role], schema, cut.outputs.get(role)),
      sequences(ctx, names[role], schema),
    ]);
    compared.push(compareSequences(role, live, replayed, cut.exact));
  }
  if (!options.keep) await sandbox.drop();
  return {
    replayId,
    inputRecords,
    ms,
    mode,
    journal: { entries, tasks: journal.byTask.size, lateRecords, applicationId: journal.applicationId },
    stacks: { live: liveStates.size, replayed: replayStates.size, equal: keys.size - differences.length, differences },
    sequences: compared,
    exactCut: cut.exact,
    equal: differences.length === 0 && compared.every((s) => s.equal),
  };
}
