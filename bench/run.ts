/**
 * `npm run bench` / `make bench`: the project's benchmark. Measures, in one
 * run and against the same topics, the raw KafkaJS ceilings and the
 * reconciler: throughput from a backlog (exactly-once on), detection latency
 * at a fixed offered rate (and where it goes, from the reconciler's own
 * phase histogram), changelog restore, peak RSS and SQLite size. `--repeat N`
 * measures N rounds in one invocation, each on fresh topics and with the
 * contenders in alternating order, and reports min / median / max.
 * Prints a table and writes bench/results/<timestamp>.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, totalmem, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as hdr from "hdr-histogram-js";
import pino from "pino";
import {
  ceilingDecode as libraryDecode,
  ceilingTransactional as libraryTransactional,
} from "../src/adapters/kafka/ceilings.js";
import type { OutRecord } from "../src/adapters/kafka/port.js";
import { desiredToAvro } from "../src/adapters/kafka/records.js";
import { TaskStore } from "../src/adapters/store/task-store.js";
import { restoreFromChangelog } from "../src/adapters/store/changelog-restore.js";
import { stateCodecOf } from "../src/adapters/store/state-codec.js";
import { kafkaConfigOrLocalInfra } from "../src/infra/connect.js";
import { createAppContext, type AppContext } from "../src/runtime/app-context.js";
import { freePort } from "../src/infra/free-port.js";
import { RECONCILER_INPUTS } from "../src/adapters/kafka/topics.js";
import {
  countExpected,
  desiredFor,
  generateEvents,
  stacksOf,
  type Expected,
  type WorkloadOptions,
} from "./workload.js";
import { healRun } from "./heal.js";

const ROOT = resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    // No default here: --stacks picks the client count, and giving both is refused below.
    clients: { type: "string" },
    stacks: { type: "string" },
    partitions: { type: "string", default: "6" },
    rate: { type: "string", default: "2000" },
    "latency-seconds": { type: "string", default: "30" },
    repeat: { type: "string", default: "1" },
    seed: { type: "string", default: "42" },
    out: { type: "string" },
    keep: { type: "boolean", default: false },
    profile: { type: "string" },
    "child-log": { type: "string" },
    "reconciler-node-options": { type: "string" },
    members: { type: "string", default: "1" },
    "heal-clients": { type: "string", default: "300" },
    "heal-rate": { type: "string", default: "20" },
    predict: { type: "boolean", default: false },
    days: { type: "string", default: "10" },
    help: { type: "boolean", default: false },
  },
});
const USAGE = `usage: npm run bench -- [--events N] [--clients N | --stacks N] [--partitions N] [--rate EVENTS_PER_S] [--latency-seconds S] [--repeat N] [--seed N] [--out FILE] [--keep] [--profile DIR] [--child-log FILE] [--reconciler-node-options="FLAGS"] [--members N] [--heal-clients N] [--heal-rate PER_S]
  --clients N   clients of the workload (default 10000; each has 1 or 2 stacks, about 1.5 on average)
  --stacks N    size by stacks instead: the client count whose workload has about N stacks (e.g. 100000)
  --repeat N    measure N rounds (fresh topics each, contenders in alternating order) and report min / median / max
                of every figure; the results JSON keeps every round. The heal run runs once, after the rounds.
  --reconciler-node-options="--max-old-space-size=384"  node flags for the measured reconciler process only
  --members N   the backlog drained by N reconciler processes of one consumer group (default 1), all started at once:
                throughput, CPU, peak RSS and SQLite are of all of them together, the drained memory figures of the
                first. The latency and heal runs use one.
  --heal-clients 0 skips the heal run.
  --predict     the prediction benchmark instead: --clients (default 300) clients over --days (default 10) of stream
                time with injected incidents, a share announced by a precursor; recall, precision and lead time of the
                predictions (no Kafka: the reconciler's pass logic in process). Use a --seed the predictor was not
                tuned on (it was developed on seed 7).
Uses KAFKA_BROKERS / SCHEMA_REGISTRY_URL when set, else the local Kafka and registry.`;
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
/** A whole number >= `min` from option `name`, or the usage and exit 2 (a typo must not run an hour-long bench). */
function wholeNumber(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be a whole number >= ${min}, got ${JSON.stringify(raw)}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}
if (args.predict) {
  const { runPredictBench } = await import("./predict.js");
  const options = {
    clients: wholeNumber("clients", args.clients ?? "300", 1),
    days: wholeNumber("days", args.days, 2),
    seed: wholeNumber("seed", args.seed, 0),
  };
  console.error(`[bench] prediction benchmark: ${JSON.stringify(options)}`);
  const result = runPredictBench(options);
  const startedAt = new Date();
  const out = args.out ?? join(ROOT, "bench/results", `predict-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  mkdirSync(resolve(out, ".."), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        started_at: startedAt.toISOString(),
        machine: { cores: cpus().length, node: process.version },
        options,
        result,
      },
      null,
      2,
    ),
  );
  const { by_scenario, by_precursor, by_confidence, ...figures } = result;
  for (const [name, value] of Object.entries(figures)) console.log(`${name.padEnd(36)} ${String(value)}`);
  console.log("\nby scenario (drifts that opened: predicted / all)");
  for (const [name, s] of Object.entries(by_scenario))
    console.log(`  ${name.padEnd(22)} ${s.predicted} / ${s.drifts} (${String(s.recall_pct)}%)`);
  console.log("counting only predictions at or above a confidence");
  for (const [name, b] of Object.entries(by_confidence))
    console.log(
      `  ${name.padEnd(22)} recall ${String(b.recall_with_precursor_pct)}%, precision ${String(b.precision_pct)}%`,
    );
  console.log("by precursor (predictions: confirmed, expired)");
  for (const [name, b] of Object.entries(by_precursor))
    console.log(
      `  ${name.padEnd(22)} made ${b.made}, confirmed ${b.confirmed}, expired ${b.expired} (precision ${String(b.precision_pct)}%)`,
    );
  console.log(`\nwritten to ${out}`);
  process.exit(0);
}
if (args.clients !== undefined && args.stacks !== undefined) {
  console.error(`give --clients or --stacks, not both\n${USAGE}`);
  process.exit(2);
}
const EVENTS = Number(args.events),
  PARTITIONS = Number(args.partitions),
  RATE = Number(args.rate);
const LATENCY_SECONDS = Number(args["latency-seconds"]),
  SEED = Number(args.seed),
  REPEAT = wholeNumber("repeat", args.repeat, 1),
  MEMBERS = wholeNumber("members", args.members, 1);
if (MEMBERS > PARTITIONS) {
  console.error(`--members ${MEMBERS} is more than --partitions ${PARTITIONS}: the others would get no work\n${USAGE}`);
  process.exit(2);
}
const STACKS_ASKED = args.stacks === undefined ? null : wholeNumber("stacks", args.stacks, 1);
const CLIENTS = STACKS_ASKED === null ? Number(args.clients ?? "10000") : clientsForStacks(STACKS_ASKED, SEED);
const say = (m: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const log = pino({ level: "warn" }, pino.destination(2));

/**
 * The client count whose workload has about `stacks` stacks: the clients owning its first `stacks` stacks. Each
 * client draws its staging stack from the same seeded sequence whatever the client count, so the workload of that
 * many clients has exactly `stacks` stacks, or one more when the last client also has a staging stack.
 */
function clientsForStacks(stacks: number, seed: number): number {
  return new Set(
    stacksOf({ clients: stacks, seed })
      .slice(0, stacks)
      .map((s) => s.client_id),
  ).size;
}

interface Figure {
  value: number;
  unit: string;
}
/** One round's figures (or the heal run's): name -> value and unit; a few verdicts are strings. */
type Figures = Record<string, Figure | string>;
const fig = (into: Figures, name: string, value: number, unit: string) => {
  into[name] = { value: Math.round(value * 100) / 100, unit };
};
const isFigure = (v: unknown): v is Figure =>
  typeof v === "object" && v !== null && typeof (v as Figure).value === "number";

async function context(prefix: string): Promise<AppContext> {
  const base = await kafkaConfigOrLocalInfra(say);
  return createAppContext({ ...base, topicPrefix: prefix, partitions: PARTITIONS }, log);
}

async function produceAll(
  ctx: AppContext,
  messages: Iterable<{ topic: string; key: string; value: Buffer; timestamp?: number }>,
): Promise<number> {
  const producer = await ctx.kafka.producer();
  let n = 0;
  let chunk: OutRecord[] = [];
  const flush = async () => {
    await producer.send(chunk);
    n += chunk.length;
    chunk = [];
  };
  for (const m of messages) {
    chunk.push(m);
    if (chunk.length >= 5000) await flush();
  }
  if (chunk.length > 0) await flush();
  await producer.disconnect();
  return n;
}

function* workloadMessages(ctx: AppContext, options: WorkloadOptions, expected: Expected) {
  for (const e of generateEvents(options, expected)) {
    const topic = ctx.names[e.topic];
    yield {
      topic,
      key: e.key,
      value: ctx.serde.encode(topic, e.topic === "provider-events" ? "ProviderEvent" : "ResourceEvent", e.value),
      // Stamped with the time the event claims, as a producer replaying observed history would: stream time is the
      // record time.
      timestamp: Date.parse(String(e.value.timestamp)),
    };
  }
}

/** Desired state of every stack of the workload with `seed` (stacks depend on the seed). */
async function desiredMessages(ctx: AppContext, appliedAt: number, clients: number, seed: number) {
  const topic = ctx.names["desired-state"];
  return stacksOf({ clients, seed }).map((s) => ({
    topic,
    key: `${s.client_id}/${s.stack_id}`,
    value: ctx.serde.encode(topic, "DesiredState", desiredToAvro(desiredFor(s, appliedAt))),
    timestamp: appliedAt,
  }));
}

async function groupCommitted(ctx: AppContext, groupId: string, topics: string[]): Promise<bigint> {
  let sum = 0n;
  for (const t of topics) for (const offset of (await ctx.admin.committedOffsets(groupId, t)).values()) sum += offset;
  return sum;
}

async function totalEnd(ctx: AppContext, topics: string[]): Promise<bigint> {
  let sum = 0n;
  for (const t of topics) for (const o of await ctx.admin.endOffsets(t)) sum += o.high;
  return sum;
}

/** Ceiling 1: a plain consumer that reads and Avro-decodes the inputs, nothing else. */
function ceilingDecode(ctx: AppContext, total: number): Promise<number> {
  const schemaOf = (topic: string) =>
    topic === ctx.names["desired-state"]
      ? "DesiredState"
      : topic === ctx.names["provider-events"]
        ? "ProviderEvent"
        : "ResourceEvent";
  return libraryDecode(
    {
      config: ctx.config,
      groupId: `${ctx.config.topicPrefix}ceiling-decode`,
      topics: RECONCILER_INPUTS.map((r) => ctx.names[r]),
      partitions: PARTITIONS,
      total,
    },
    (topic, value) => ctx.serde.decode(schemaOf(topic), value),
  );
}

/** Ceiling 2: consume -> produce -> sendOffsets in one transaction per batch, one transactional producer per partition, no folding. */
async function ceilingTransactional(ctx: AppContext, total: number): Promise<number> {
  const groupId = `${ctx.config.topicPrefix}ceiling-tx`;
  const out = `${ctx.config.topicPrefix}ceiling-forward`;
  await ctx.admin.createTopics([
    { name: out, partitions: PARTITIONS, replicationFactor: ctx.config.replicationFactor, config: {} },
  ]);
  await ctx.admin.waitForLeaders([out]);
  return libraryTransactional({
    config: ctx.config,
    groupId,
    topics: RECONCILER_INPUTS.map((r) => ctx.names[r]),
    partitions: PARTITIONS,
    total,
    out,
  });
}

interface ReconcilerProcess {
  child: ChildProcess;
  stateDir: string;
  appId: string;
  /** Where the child serves /metrics (127.0.0.1). */
  opsPort: number;
  peakRssMb: () => number;
  /** CPU seconds (user + system) the process has used so far: on a shared machine, steadier than wall time. */
  cpuSeconds: () => number;
  output: () => string;
}

/** `opsPort` from `freePort()`, taken by the caller: the heal run starts the reconciler from a synchronous callback. */
function startReconcilerProcess(ctx: AppContext, wallClockTicks: boolean, opsPort: number): ReconcilerProcess {
  const stateDir = mkdtempSync(join(tmpdir(), "blackwell-bench-state-"));
  const appId = `${ctx.config.topicPrefix}reconciler`;
  let output = "";
  const profile = args.profile ? ["--cpu-prof", `--cpu-prof-dir=${resolve(args.profile)}`] : [];
  const nodeOptions = (args["reconciler-node-options"] ?? "").split(/\s+/).filter((f) => f !== "");
  const child = spawn(
    process.execPath,
    [
      ...nodeOptions,
      ...profile,
      "--import",
      join(ROOT, "bin/ts-hooks.mjs"),
      join(ROOT, "processors/reconciler/main.ts"),
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        KAFKA_BROKERS: ctx.config.brokers.join(","),
        SCHEMA_REGISTRY_URL: ctx.config.registryUrl,
        BLACKWELL_TOPIC_PREFIX: ctx.config.topicPrefix,
        BLACKWELL_PARTITIONS: String(PARTITIONS),
        BLACKWELL_APPLICATION_ID: appId,
        BLACKWELL_STATE_DIR: stateDir,
        BLACKWELL_WALL_CLOCK_TICKS: wallClockTicks ? "1" : "0",
        // Its own port (not one from the caller's environment: two children would collide), on loopback.
        BLACKWELL_OPS_PORT: String(opsPort),
        BLACKWELL_OPS_HOST: "127.0.0.1",
        LOG_LEVEL: args["child-log"] ? "debug" : "warn",
      },
    },
  );
  if (args["child-log"]) {
    const file = createWriteStream(args["child-log"], { flags: "a" });
    child.stdout!.pipe(file);
    child.stderr!.pipe(file);
  }
  child.stdout!.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  child.stderr!.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  let peak = 0;
  const sample = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
    } catch {
      /* exited */
    }
  }, 200);
  child.on("exit", () => clearInterval(sample));
  return {
    child,
    stateDir,
    appId,
    opsPort,
    peakRssMb: () => peak,
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    output: () => output,
  };
}

/** The machine's CPU time so far, from the first line of /proc/stat (clock ticks, every core); null off Linux. */
function machineTicks(): { total: number; idle: number; steal: number } | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    // user nice system idle iowait irq softirq steal (guest time is inside user already)
    const [, user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .map((n) => Number(n) || 0);
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    return { total: busy + idle! + iowait!, idle: idle! + iowait!, steal: steal! };
  } catch {
    return null;
  }
}

/**
 * How busy the whole machine was while the reconciler drained (every process: the broker, the registry and this
 * benchmark too), and how much of it other tenants took. A machine busy all the time is what a second member or a
 * worker thread cannot help with: only less CPU per event can.
 */
function machineFigures(
  before: ReturnType<typeof machineTicks>,
  after: ReturnType<typeof machineTicks>,
  f: Figures,
): void {
  if (!before || !after || after.total <= before.total) return;
  const total = after.total - before.total;
  fig(
    f,
    "machine_cpu_busy_while_draining",
    (100 * (total - (after.idle - before.idle))) / total,
    "% of all cores busy",
  );
  fig(f, "machine_cpu_steal_while_draining", (100 * (after.steal - before.steal)) / total, "% taken by other tenants");
}

/** utime + stime of a process from /proc/<pid>/stat, in seconds (clock ticks of 1/100 s on Linux). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces, inside parentheses): state is the first, utime the 12th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function stopProcess(p: ReconcilerProcess): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.on("exit", r));
  p.child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (p.child.exitCode === null) p.child.kill("SIGKILL");
}

/** Every file under `dir`, by its path relative to `dir`. */
function filesUnder(dir: string, prefix = ""): Array<{ name: string; size: number; mtimeMs: number }> {
  const out: Array<{ name: string; size: number; mtimeMs: number }> = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const name = join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(dir, name));
    else {
      const stat = statSync(join(dir, name));
      out.push({ name, size: stat.size, mtimeMs: stat.mtimeMs });
    }
  }
  return out;
}

/**
 * Bytes of the task stores the members left, each store counted once: a member keeps the store of a task it lost in
 * a rebalance, so with several members a store (`task-N.db` with its `-wal` and `-shm`) is counted from the member
 * that wrote it last.
 */
function storeBytes(dirs: string[]): number {
  const newest = new Map<string, { mtimeMs: number; size: number }>();
  for (const dir of dirs) {
    const files = filesUnder(dir);
    const stores = new Map<string, { mtimeMs: number; size: number }>();
    for (const f of files) {
      const store = f.name.replace(/-(wal|shm|journal)$/, "");
      const s = stores.get(store) ?? { mtimeMs: 0, size: 0 };
      stores.set(store, { mtimeMs: Math.max(s.mtimeMs, f.mtimeMs), size: s.size + f.size });
    }
    for (const [store, s] of stores) if ((newest.get(store)?.mtimeMs ?? -1) < s.mtimeMs) newest.set(store, s);
  }
  return sum([...newest.values()].map((s) => s.size));
}

async function driftCounts(ctx: AppContext): Promise<{ opened: number; resolved: number; other: number }> {
  const counts = { opened: 0, resolved: 0, other: 0 };
  await ctx.kafka.readToEnd({
    topic: ctx.names["drift-events"],
    groupPrefix: `${ctx.config.topicPrefix}bench`,
    onBatch: async (batch) => {
      for (const m of batch.records) {
        const v = await ctx.serde.decode<{ transition: string }>("DriftEvent", m.value);
        if (v.transition === "opened") counts.opened++;
        else if (v.transition === "resolved") counts.resolved++;
        else counts.other++;
      }
    },
  });
  return counts;
}

/** What the task journal says about the reconciler's transactions: how many, and records taken late. */
async function journalFigures(ctx: AppContext, appId: string): Promise<{ transactions: number; late: number }> {
  const out = { transactions: 0, late: 0 };
  await ctx.kafka.readToEnd({
    topic: ctx.names["task-journal"],
    groupPrefix: `${ctx.config.topicPrefix}bench`,
    onBatch: async (batch) => {
      for (const m of batch.records) {
        const v = await ctx.serde.decode<{ application_id: string; late_records: number }>("TaskJournal", m.value);
        if (v.application_id !== appId) continue;
        out.transactions++;
        out.late += v.late_records;
      }
    },
  });
  return out;
}

type Contender = "ceiling_consume_decode" | "ceiling_transactional_loop" | "reconciler";

/** Odd rounds run the ceilings first, even rounds the reconciler first: machine noise does not always hit one contender. */
function orderOf(round: number): Contender[] {
  const order: Contender[] = ["ceiling_consume_decode", "ceiling_transactional_loop", "reconciler"];
  return round % 2 === 1 ? order : order.reverse();
}

/** Asks `url` every 200 ms until stopped; answers the response times (ms) of the probes that got an answer. */
function pollHealth(url: string): { stop: () => Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        if (res.ok) times.push(performance.now() - t0);
      } catch {
        // not listening yet, or gone
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return times;
    },
  };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * The reconciler from the backlog to drained (exactly-once on), then what it left: RSS, SQLite, journal, drifts. With
 * `--members N`, N processes of one group share the partitions; they are started together, so their first rebalances
 * are part of the time, as they are for a deployment scaled out before a replay.
 */
async function reconcilerContender(ctx: AppContext, total: number, f: Figures): Promise<ReconcilerProcess[]> {
  const inputs = RECONCILER_INPUTS.map((r) => ctx.names[r]);
  const started = Date.now();
  const machineBefore = machineTicks();
  const procs: ReconcilerProcess[] = [];
  for (let i = 0; i < MEMBERS; i++) procs.push(startReconcilerProcess(ctx, false, await freePort()));
  const proc = procs[0]!;
  // Its health check, asked every 200 ms while it drains: how long an orchestrator's probe waits on a busy reconciler.
  const health = pollHealth(`http://127.0.0.1:${proc.opsPort}/healthz`);
  let firstProgress = 0;
  const deadline = Date.now() + 3_600_000;
  for (;;) {
    for (const p of procs)
      if (p.child.exitCode !== null) throw new Error(`reconciler exited (${p.child.exitCode}):\n${p.output()}`);
    const committed = Number(await groupCommitted(ctx, proc.appId, inputs));
    if (committed > 0 && !firstProgress) firstProgress = Date.now();
    if (committed >= total) break;
    if (Date.now() > deadline) throw new Error("reconciler did not drain within an hour");
    await new Promise((r) => setTimeout(r, 250));
  }
  const drained = Date.now();
  machineFigures(machineBefore, machineTicks(), f);
  const probes = await health.stop();
  if (probes.length > 0) {
    fig(
      f,
      "healthz_during_backlog_p99",
      quantile(probes, 0.99),
      `ms (GET /healthz every 200 ms while draining, ${probes.length} answers)`,
    );
    fig(f, "healthz_during_backlog_max", Math.max(...probes), "ms");
  }
  fig(f, "reconciler_throughput", total / ((drained - started) / 1000), "events/s");
  // Small backlogs can drain between two polls: then there is no time after start to divide by, and no figure.
  if (drained > firstProgress)
    fig(f, "reconciler_throughput_after_start", total / ((drained - firstProgress) / 1000), "events/s");
  else say("drained before the first poll saw progress: no reconciler_throughput_after_start this round");
  const cpu = sum(procs.map((p) => p.cpuSeconds()));
  fig(
    f,
    "reconciler_cpu_seconds",
    cpu,
    `s (user + system${MEMBERS > 1 ? ` of the ${MEMBERS} members` : ""}, start to drained: steadier than wall time on a shared machine)`,
  );
  fig(f, "reconciler_cpu_us_per_event", (cpu * 1e6) / total, "µs of CPU per event");
  fig(f, "replay_full_rebuild", (drained - started) / 1000, "s");
  fig(f, "replay_full_rebuild_events", total, "events");
  await memoryFigures(proc, f);
  await Promise.all(procs.map(stopProcess));
  // With several members, the one-process figure's name is not reused: their sum is not one process's peak.
  if (MEMBERS === 1) fig(f, "reconciler_peak_rss", proc.peakRssMb(), "MB");
  else {
    fig(f, "reconciler_peak_rss_sum", sum(procs.map((p) => p.peakRssMb())), `MB (the ${MEMBERS} members' peaks added)`);
    fig(
      f,
      "reconciler_peak_rss_member",
      Math.max(...procs.map((p) => p.peakRssMb())),
      "MB (the largest member's peak)",
    );
  }
  return procs;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** One round's backlog on fresh topics (`prefix`), the three contenders on it in `order`, and the restore. */
async function throughputRun(order: Contender[], f: Figures): Promise<void> {
  // Fresh topics per round: the reconciler writes to its output topics, and counting drifts over reused ones doubles.
  const prefix = `bench-${Date.now()}.`;
  const ctx = await context(prefix);
  const inputs = RECONCILER_INPUTS.map((r) => ctx.names[r]);
  try {
    // Same seed every round, so the same backlog and the same expected counts.
    const options: WorkloadOptions = { events: EVENTS, clients: CLIENTS, seed: SEED, baseTime: Date.now() - 3_600_000 };
    const expected: Expected = { opened: 0, resolved: 0 };
    say(`producing backlog: ${CLIENTS} clients, ${EVENTS} events, ${PARTITIONS} partitions (topics ${prefix}*)`);
    const t0 = Date.now();
    const desired = await desiredMessages(ctx, options.baseTime - 1000, CLIENTS, SEED);
    await produceAll(ctx, desired);
    const produced = await produceAll(ctx, workloadMessages(ctx, options, expected));
    // Reported, but no other figure counts it: the clocks below start after it.
    fig(f, "produce_time", (Date.now() - t0) / 1000, "s (backlog, not in any other figure)");
    fig(f, "produce_rate", produced / ((Date.now() - t0) / 1000), "events/s");
    fig(f, "stacks", desired.length, "stacks");
    const total = Number(await totalEnd(ctx, inputs));
    say(
      `backlog ready: ${total} input records; expected drifts opened ${expected.opened}, resolved ${expected.resolved}`,
    );

    let procs: ReconcilerProcess[] = [];
    for (const contender of order) {
      if (contender === "ceiling_consume_decode") {
        say("ceiling 1: plain consumer + Avro decode");
        fig(f, contender, await ceilingDecode(ctx, total), "events/s");
      } else if (contender === "ceiling_transactional_loop") {
        say("ceiling 2: plain transactional consume -> produce -> sendOffsets loop");
        fig(f, contender, await ceilingTransactional(ctx, total), "events/s");
      } else {
        say(`reconciler${MEMBERS > 1 ? ` (${MEMBERS} members)` : ""}: from backlog to drained, exactly-once`);
        procs = await reconcilerContender(ctx, total, f);
      }
    }
    // From this round's own numbers, whichever order they were measured in.
    const value = (name: string) => (f[name] as Figure).value;
    fig(f, "ratio_to_consume_decode", value("reconciler_throughput") / value("ceiling_consume_decode"), "x");
    fig(f, "ratio_to_transactional_loop", value("reconciler_throughput") / value("ceiling_transactional_loop"), "x");
    const bytes = storeBytes(procs.map((p) => p.stateDir));
    fig(f, "sqlite_bytes", bytes / 1_048_576, "MB");
    fig(f, "sqlite_per_10k_stacks", (bytes / 1_048_576) * (10_000 / desired.length), "MB");

    const journal = await journalFigures(ctx, procs[0]!.appId);
    fig(f, "reconciler_transactions", journal.transactions, "transactions (task-journal records)");
    fig(f, "reconciler_late_records", journal.late, "records taken after newer ones (merge gave up waiting)");
    const counts = await driftCounts(ctx);
    f.drift_opened = { value: counts.opened, unit: `drifts (expected ${expected.opened})` };
    f.drift_resolved = { value: counts.resolved, unit: `drifts (expected ${expected.resolved})` };
    f.drift_counts_match = counts.opened === expected.opened && counts.resolved === expected.resolved ? "yes" : "NO";
    (f as Record<string, unknown>).expected = expected;

    say("restore: all task stores from the changelog into empty stores");
    const restoreDir = mkdtempSync(join(tmpdir(), "blackwell-bench-restore-"));
    const codec = stateCodecOf(ctx.serde);
    const stores = Array.from({ length: PARTITIONS }, (_, p) => ({
      partition: p,
      store: new TaskStore(join(restoreDir, `task-${p}.db`), codec),
    }));
    const report = await restoreFromChangelog(
      ctx.kafka,
      ctx.serde,
      codec,
      ctx.names.changelog,
      stores,
      `${prefix}restore`,
    );
    for (const s of stores) s.store.close();
    rmSync(restoreDir, { recursive: true, force: true });
    for (const p of procs) rmSync(p.stateDir, { recursive: true, force: true });
    fig(f, "restore_all_partitions", report.ms / 1000, "s");
    fig(f, "restore_per_partition_avg", report.ms / 1000 / PARTITIONS, "s");
    fig(f, "restore_changelog_records", report.records, "records");
  } finally {
    if (!args.keep) await deleteTopics(ctx, prefix);
    await ctx.close();
  }
}

async function latencyRun(f: Figures): Promise<void> {
  const prefix = `bench-lat-${Date.now()}.`;
  const ctx = await context(prefix);
  try {
    const clients = Math.min(CLIENTS, 10_000);
    // The latency stream uses seed + 1, so its stacks are those of seed + 1.
    await produceAll(ctx, await desiredMessages(ctx, Date.now() - 1000, clients, SEED + 1));
    const proc = startReconcilerProcess(ctx, true, await freePort());
    const inputs = [ctx.names["desired-state"]];
    const desiredTotal = Number(await totalEnd(ctx, inputs));
    while (Number(await groupCommitted(ctx, proc.appId, inputs)) < desiredTotal) {
      if (proc.child.exitCode !== null) throw new Error(`reconciler exited:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // The desired states were stamped a second before the child started: their fetch phase is not detection latency.
    // Buckets are cumulative counts, so what the offered stream adds is the end scrape minus this one.
    const phasesBefore = await scrapePhases(proc);
    const sentAt = new Map<string, number>();
    const histogram = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3_600_000_000,
      numberOfSignificantValueDigits: 3,
    });
    let observed = 0;
    const watcher = ctx.kafka.consumer({
      groupId: `${prefix}latency-watch`,
      topics: [ctx.names["drift-events"]],
      maxWaitMs: 20,
    });
    let joined!: () => void;
    const hasJoined = new Promise<void>((r) => (joined = r));
    const kindOf = (v: { drift_type: string; component: string }) =>
      v.drift_type === "resource"
        ? "resource"
        : v.drift_type === "provider"
          ? "provider"
          : v.component.endsWith("/webhook")
            ? "webhook"
            : "integration";
    type Opened = { transition: string; client_id: string; stack_id: string; drift_type: string; component: string };
    await watcher.start({
      onAssigned: () => joined(),
      eachBatch: async (batch) => {
        const arrived = Date.now();
        for (const message of batch.records) {
          const v = await ctx.serde.decode<Opened>("DriftEvent", message.value);
          if (v.transition !== "opened") continue;
          const sent = sentAt.get(`${v.client_id}/${v.stack_id}/${kindOf(v)}`);
          if (sent === undefined) continue;
          histogram.recordValue(Math.max(1, (arrived - sent) * 1000));
          observed++;
        }
      },
    });
    await hasJoined;
    const producer = await ctx.kafka.producer();
    const events = RATE * LATENCY_SECONDS;
    say(`latency: offering ${RATE} events/s for ${LATENCY_SECONDS} s to a live reconciler (${clients} clients)`);
    const expected: Expected = { opened: 0, resolved: 0 };
    const gen = generateEvents({ events, clients, seed: SEED + 1, baseTime: 0 }, expected, () => Date.now());
    const tickMs = 10;
    const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
    const start = Date.now();
    let sent = 0;
    let done = false;
    while (!done) {
      const batch: OutRecord[] = [];
      const opens: string[] = [];
      for (let k = 0; k < perTick; k++) {
        const next = gen.next();
        if (next.done) {
          done = true;
          break;
        }
        const e = next.value;
        const topic = ctx.names[e.topic];
        batch.push({
          topic,
          key: e.key,
          value: ctx.serde.encode(topic, e.topic === "provider-events" ? "ProviderEvent" : "ResourceEvent", e.value),
        });
        if (e.opens) opens.push(e.opens);
      }
      if (batch.length === 0) break;
      const now = Date.now();
      for (const o of opens) sentAt.set(o, now);
      await producer.send(batch);
      sent += batch.length;
      const target = start + (sent / RATE) * 1000;
      const wait = target - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const offered = sent / ((Date.now() - start) / 1000);
    const until = Date.now() + 15_000;
    while (observed < expected.opened && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    await producer.disconnect();
    await watcher.stop();
    // The records after the last drift-opening one may still be in a pass: the phases should cover the whole stream.
    const offeredInputs = [ctx.names["provider-events"], ctx.names["resource-events"]];
    const offeredEnd = Number(await totalEnd(ctx, offeredInputs));
    const settle = Date.now() + 10_000;
    while (Number(await groupCommitted(ctx, proc.appId, offeredInputs)) < offeredEnd && Date.now() < settle)
      await new Promise((r) => setTimeout(r, 200));
    const phasesAfter = phasesBefore && (await scrapePhases(proc));
    await stopProcess(proc);
    rmSync(proc.stateDir, { recursive: true, force: true });
    fig(f, "latency_offered_rate", offered, "events/s");
    fig(f, "latency_p50", histogram.getValueAtPercentile(50) / 1000, "ms");
    fig(f, "latency_p99", histogram.getValueAtPercentile(99) / 1000, "ms");
    fig(f, "latency_max", histogram.maxValue / 1000, "ms");
    f.latency_samples = { value: observed, unit: `drift-opened records (of ${expected.opened} injected)` };
    if (phasesBefore && phasesAfter) phaseFigures(f, subtractBuckets(phasesAfter, phasesBefore));
  } finally {
    if (!args.keep) await deleteTopics(ctx, prefix);
    await ctx.close();
  }
}

/** The reconciler's latency phases, in the order a record meets them, and what each one covers. */
const PHASES = {
  fetch: "record time -> fetched, per record",
  queue: "fetched -> its pass starting, per record",
  process: "pass start -> commit start, per pass",
  commit: "the transaction commit, per pass",
} as const;

/** Cumulative counts of reconciler_latency_phase_seconds: phase -> bucket upper bound (s; +Inf too) -> count. */
type PhaseBuckets = Map<string, Map<number, number>>;

/**
 * The child's /metrics text. Null, with a warning, if that does not answer within 30 s: what is read from it is a
 * breakdown, and losing it must not lose the other figures of a long run.
 */
async function scrapeMetrics(proc: ReconcilerProcess, what: string): Promise<string | null> {
  const url = `http://127.0.0.1:${proc.opsPort}/metrics`;
  const until = Date.now() + 30_000;
  for (;;) {
    let problem: string;
    try {
      // Retried: the child serves /metrics only once its role has started.
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (res.ok) return await res.text();
      problem = `HTTP ${res.status}`;
    } catch (err) {
      problem = String(err);
    }
    if (Date.now() > until || proc.child.exitCode !== null) {
      say(`no ${what}: ${url} did not answer (${problem})`);
      return null;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The child's phase histogram. */
async function scrapePhases(proc: ReconcilerProcess): Promise<PhaseBuckets | null> {
  const text = await scrapeMetrics(proc, "latency phases");
  return text === null ? null : parsePhaseBuckets(text);
}

/** Where the drained reconciler's memory is, from its process metrics (MB); nothing if /metrics did not answer. */
async function memoryFigures(proc: ReconcilerProcess, f: Figures): Promise<void> {
  const text = await scrapeMetrics(proc, "memory figures");
  if (text === null) return;
  const value = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, "m").exec(text);
    return m ? Number(m[1]) / 1024 / 1024 : null;
  };
  const figures: Array<[string, string, string]> = [
    ["drained_rss", "process_resident_memory_bytes", "MB resident when drained"],
    ["drained_heap_total", "nodejs_heap_size_total_bytes", "MB of V8 heap when drained (used, garbage and room)"],
    ["drained_heap_used", "nodejs_heap_size_used_bytes", "MB of it used (live objects and garbage not yet collected)"],
    ["drained_external", "nodejs_external_memory_bytes", "MB outside the heap held by JS objects (Buffers)"],
    ["drained_state_cache", "reconciler_state_cache_bytes", "MB of decoded client states held (estimated)"],
  ];
  for (const [figure, metric, unit] of figures) {
    const mb = value(metric);
    if (mb !== null) fig(f, figure, mb, unit);
  }
  // Anonymous and file-backed resident memory: the anonymous part less the heap and Buffers above is what native code
  // holds (SQLite, the allocator's free lists, V8's compiler); the file-backed part is the node binary and libraries.
  try {
    const status = readFileSync(`/proc/${proc.child.pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) / 1024;
    fig(f, "drained_rss_anon", kb("RssAnon"), "MB of it anonymous (heap, Buffers, native allocations)");
    fig(f, "drained_rss_file", kb("RssFile"), "MB of it file-backed (code, shared libraries)");
  } catch {
    /* not Linux, or the process is gone */
  }
}

/**
 * Parsed here from the text format (parse-prometheus-text-format loses the counts of labelled histograms). Labels are
 * read by name, not position: prom-client writes `le` before `phase`.
 */
function parsePhaseBuckets(text: string): PhaseBuckets {
  const out: PhaseBuckets = new Map();
  for (const line of text.split("\n")) {
    const m = /^reconciler_latency_phase_seconds_bucket\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = new Map([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    const phase = labels.get("phase"),
      le = labels.get("le");
    if (phase === undefined || le === undefined) continue;
    const buckets = out.get(phase) ?? new Map<number, number>();
    buckets.set(le === "+Inf" ? Infinity : Number(le), Number(m[2]));
    out.set(phase, buckets);
  }
  return out;
}

/** What `after` observed since `before` (a phase absent before had observed nothing). */
function subtractBuckets(after: PhaseBuckets, before: PhaseBuckets): PhaseBuckets {
  const out: PhaseBuckets = new Map();
  for (const [phase, buckets] of after) {
    const was = before.get(phase);
    out.set(phase, new Map([...buckets].map(([le, n]) => [le, n - (was?.get(le) ?? 0)])));
  }
  return out;
}

/**
 * The q-quantile in ms, estimated as Prometheus' histogram_quantile does: the bucket holding the rank, linear inside
 * it (from 0 for the first). A rank in the +Inf bucket gives the highest finite bound. Null without observations.
 */
function bucketQuantile(buckets: Map<number, number>, q: number): number | null {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0,
    below = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return lower * 1000;
      return (lower + ((le - lower) * (rank - below)) / (count - below)) * 1000;
    }
    lower = le;
    below = count;
  }
  return lower * 1000;
}

/**
 * p50 and p99 of each phase over the offered stream. Each phase's share of the end-to-end p99 is not reported: there
 * is no honest one. Percentiles of parts do not add up to the percentile of the whole; the histograms do not say which
 * records had the slow fetches or sat in the slow passes (process and commit count once per pass, whatever its size);
 * and the end-to-end clock also holds the bench's produce and its watcher's fetch, which no phase covers.
 */
function phaseFigures(f: Figures, buckets: PhaseBuckets): void {
  for (const [phase, what] of Object.entries(PHASES)) {
    const b = buckets.get(phase) ?? new Map<number, number>();
    const p50 = bucketQuantile(b, 0.5),
      p99 = bucketQuantile(b, 0.99);
    if (p50 === null || p99 === null) {
      say(`latency phase ${phase}: nothing observed during the offered stream`);
      continue;
    }
    fig(f, `latency_phase_${phase}_p50`, p50, `ms (bucket-estimated; ${what})`);
    fig(f, `latency_phase_${phase}_p99`, p99, "ms (bucket-estimated)");
  }
  const count = (phase: string) => buckets.get(phase)?.get(Infinity) ?? 0;
  fig(f, "latency_phase_records", count("fetch"), "records (observations of fetch and queue)");
  fig(f, "latency_phase_passes", count("commit"), "passes (observations of process and commit, ticks included)");
}

async function deleteTopics(ctx: AppContext, prefix: string): Promise<void> {
  const topics = (await ctx.admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0)
    await ctx.admin.deleteTopics(topics).catch((err: unknown) => say(`could not delete bench topics: ${String(err)}`));
}

interface Round {
  round: number;
  order: Contender[];
  figures: Figures;
}

/** One round: the throughput contenders, the restore and the latency run, each on topics of their own. */
async function runRound(round: number): Promise<Round> {
  const order = orderOf(round);
  say(`round ${round} of ${REPEAT}: ${order.join(", ")}; then restore${LATENCY_SECONDS > 0 ? ", latency" : ""}`);
  const f: Figures = {};
  await throughputRun(order, f);
  if (LATENCY_SECONDS > 0) await latencyRun(f);
  return { round, order, figures: f };
}

/** The heal run (once, after the rounds): its figures, or null when --heal-clients is 0. */
async function runHeal(): Promise<Figures | null> {
  if (Number(args["heal-clients"]) <= 0) return null;
  const f: Figures = {};
  const prefix = `bench-heal-${Date.now()}.`;
  const ctx = await context(prefix);
  try {
    const opsPort = await freePort();
    const heal = await healRun(ctx, {
      root: ROOT,
      clients: Number(args["heal-clients"]),
      rate: Number(args["heal-rate"]),
      say,
      desired: (client) => {
        const d = desiredFor({ client_id: client, stack_id: "web", environment: "prod" }, Date.now() - 1000);
        return {
          ...d,
          policy: {
            ...d.policy,
            auto_heal: {
              ...d.policy.auto_heal,
              enabled: true,
              allowed_drift_types: ["resource_unhealthy"],
              backoff_base_seconds: 3600,
            },
          },
        };
      },
      startReconciler: () => {
        const proc = startReconcilerProcess(ctx, true, opsPort);
        return {
          stop: async () => {
            await stopProcess(proc);
            rmSync(proc.stateDir, { recursive: true, force: true });
          },
        };
      },
    });
    fig(f, "heal_command_p50", heal.command_p50_ms, "ms (resource event produced -> heal command readable)");
    fig(f, "heal_command_p99", heal.command_p99_ms, "ms");
    fig(
      f,
      "heal_started_p50",
      heal.started_p50_ms,
      "ms (resource event produced -> CodeBuild build started, result readable)",
    );
    fig(f, "heal_started_p99", heal.started_p99_ms, "ms");
    fig(f, "heal_started_max", heal.started_max_ms, "ms");
    f.heal_counts = `${heal.drifts} drifts, ${heal.commands} commands, ${heal.started} started results, ${heal.builds} CodeBuild builds`;
  } finally {
    if (!args.keep) await deleteTopics(ctx, prefix);
    await ctx.close();
  }
  return f;
}

interface Spread {
  min: number;
  median: number;
  max: number;
  unit: string;
  /** Set when only some rounds have the figure: how many did. */
  rounds?: number;
}

/** Middle value; the mean of the two middle ones for an even count. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Every numeric figure over the rounds that have it (ratios included: each round's are from its own numbers). */
function summarize(rounds: Round[]): Record<string, Spread> {
  const out: Record<string, Spread> = {};
  const names = [...new Set(rounds.flatMap((r) => Object.keys(r.figures)))];
  for (const name of names) {
    const seen = rounds.map((r) => r.figures[name]).filter(isFigure);
    if (seen.length === 0) continue;
    const values = seen.map((v) => v.value);
    out[name] = {
      min: Math.min(...values),
      median: Math.round(median(values) * 100) / 100,
      max: Math.max(...values),
      unit: seen[0]!.unit,
      ...(seen.length < rounds.length ? { rounds: seen.length } : {}),
    };
  }
  return out;
}

/** How a round's drift counts differ from the generator's, or null when they match. */
function driftMismatch(r: Round): string | null {
  if (r.figures.drift_counts_match === "yes") return null;
  const [opened, resolved] = [r.figures.drift_opened, r.figures.drift_resolved] as Figure[];
  return `DRIFT COUNTS DIFFER in round ${r.round}: opened ${opened?.value} ${opened?.unit}, resolved ${resolved?.value} ${resolved?.unit}`;
}

function kafkaVersion(): string {
  if (process.env.KAFKA_BROKERS) return "external (KAFKA_BROKERS)";
  const pom = readFileSync(join(ROOT, "infra/kafka/pom.xml"), "utf8");
  return `Apache Kafka ${/<kafka.version>([^<]+)</.exec(pom)?.[1] ?? "?"} (local KRaft, same machine)`;
}

const startedAt = new Date();
const expectedUpFront = countExpected({ events: EVENTS, clients: CLIENTS, seed: SEED, baseTime: 0 });
say(
  `workload: ${EVENTS} events, ${CLIENTS} clients${STACKS_ASKED === null ? "" : ` (for about ${STACKS_ASKED} stacks)`}, seed ${SEED}: ${expectedUpFront.opened} drifts open, ${expectedUpFront.resolved} resolve; ${REPEAT} round(s)`,
);
const rounds: Round[] = [];
const mismatches: string[] = [];
const failedRounds: number[] = [];
for (let k = 1; k <= REPEAT; k++) {
  const round = await runRound(k);
  rounds.push(round);
  const mismatch = driftMismatch(round);
  if (mismatch) {
    // Said at once, and again at the end: a wrong reconciler makes every later figure moot.
    say(mismatch);
    mismatches.push(mismatch);
    failedRounds.push(k);
  }
}
const heal = await runHeal();

const summary = summarize(rounds);
// The old shape, for existing consumers: the medians, and drift counts that match only if they did in every round.
const figures: Record<string, unknown> = {};
for (const [name, s] of Object.entries(summary)) figures[name] = { value: s.median, unit: s.unit };
figures.drift_counts_match = mismatches.length === 0 ? "yes" : "NO";
figures.expected = rounds[0]!.figures.expected;
Object.assign(figures, heal ?? {});

const result = {
  started_at: startedAt.toISOString(),
  machine: {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? "?",
    memory_gb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    kafka: kafkaVersion(),
  },
  options: {
    events: EVENTS,
    clients: CLIENTS,
    stacks: STACKS_ASKED,
    partitions: PARTITIONS,
    rate: RATE,
    latency_seconds: LATENCY_SECONDS,
    seed: SEED,
    repeat: REPEAT,
    members: MEMBERS,
  },
  rounds,
  summary,
  heal,
  figures,
};
const out = args.out ?? join(ROOT, "bench/results", `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
mkdirSync(resolve(out, ".."), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2));
console.log(
  `\nmachine: ${result.machine.cores} cores (${result.machine.cpu}), ${result.machine.memory_gb} GB, node ${result.machine.node}, ${result.machine.kafka}`,
);
console.log(`options: ${JSON.stringify(result.options)}\n`);
printTable(summary);
const verdict =
  REPEAT === 1 ? "" : failedRounds.length === 0 ? " (every round)" : ` (round ${failedRounds.join(", ")})`;
console.log(`${"drift_counts_match".padEnd(36)} ${figures.drift_counts_match}${verdict}`);
for (const [name, v] of Object.entries(heal ?? {}))
  console.log(`${name.padEnd(36)} ${typeof v === "string" ? v : `${v.value} ${v.unit}`}`);
console.log(`\nwritten to ${out}`);
for (const m of mismatches) console.log(m);
process.exit(mismatches.length === 0 ? 0 : 1);

/** One round: name, value, unit as before; more: name, min, median, max, unit. */
function printTable(s: Record<string, Spread>): void {
  if (REPEAT === 1) {
    for (const [name, v] of Object.entries(s)) console.log(`${name.padEnd(36)} ${v.median} ${v.unit}`);
    return;
  }
  const num = (x: number) => String(x).padStart(12);
  console.log(`${"name".padEnd(36)} ${"min".padStart(12)} ${"median".padStart(12)} ${"max".padStart(12)}  unit`);
  for (const [name, v] of Object.entries(s)) {
    const some = v.rounds === undefined ? "" : ` (${v.rounds} of ${REPEAT} rounds)`;
    console.log(`${name.padEnd(36)} ${num(v.min)} ${num(v.median)} ${num(v.max)}  ${v.unit}${some}`);
  }
}
