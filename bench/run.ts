/**
 * `npm run bench` / `make bench`: the project's benchmark. Measures, in one
 * run and against the same topics, the raw KafkaJS ceilings and the
 * reconciler: throughput from a backlog (exactly-once on), detection latency
 * at a fixed offered rate, changelog restore, peak RSS and SQLite size.
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
    clients: { type: "string", default: "10000" },
    partitions: { type: "string", default: "6" },
    rate: { type: "string", default: "2000" },
    "latency-seconds": { type: "string", default: "30" },
    seed: { type: "string", default: "42" },
    out: { type: "string" },
    keep: { type: "boolean", default: false },
    profile: { type: "string" },
    "child-log": { type: "string" },
    "heal-clients": { type: "string", default: "300" },
    "heal-rate": { type: "string", default: "20" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench -- [--events N] [--clients N] [--partitions N] [--rate EVENTS_PER_S] [--latency-seconds S] [--seed N] [--out FILE] [--keep] [--profile DIR] [--heal-clients N] [--heal-rate PER_S]
Uses KAFKA_BROKERS / SCHEMA_REGISTRY_URL when set, else the local Kafka and registry.`);
  process.exit(0);
}
const EVENTS = Number(args.events),
  CLIENTS = Number(args.clients),
  PARTITIONS = Number(args.partitions),
  RATE = Number(args.rate);
const LATENCY_SECONDS = Number(args["latency-seconds"]),
  SEED = Number(args.seed);
const say = (m: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const log = pino({ level: "warn" }, pino.destination(2));

interface Figure {
  value: number;
  unit: string;
}
const figures: Record<string, Figure | string> = {};
const fig = (name: string, value: number, unit: string) => {
  figures[name] = { value: Math.round(value * 100) / 100, unit };
};

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
  peakRssMb: () => number;
  output: () => string;
}

function startReconcilerProcess(ctx: AppContext, wallClockTicks: boolean): ReconcilerProcess {
  const stateDir = mkdtempSync(join(tmpdir(), "blackwell-bench-state-"));
  const appId = `${ctx.config.topicPrefix}reconciler`;
  let output = "";
  const profile = args.profile ? ["--cpu-prof", `--cpu-prof-dir=${resolve(args.profile)}`] : [];
  const child = spawn(process.execPath, [...profile, "--import", "tsx", join(ROOT, "processors/reconciler/main.ts")], {
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
      LOG_LEVEL: args["child-log"] ? "debug" : "warn",
    },
  });
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
  return { child, stateDir, appId, peakRssMb: () => peak, output: () => output };
}

async function stopProcess(p: ReconcilerProcess): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.on("exit", r));
  p.child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (p.child.exitCode === null) p.child.kill("SIGKILL");
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
  }
  return total;
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

async function throughputRun(): Promise<void> {
  const prefix = `bench-${Date.now()}.`;
  const ctx = await context(prefix);
  const inputs = RECONCILER_INPUTS.map((r) => ctx.names[r]);
  try {
    const options: WorkloadOptions = { events: EVENTS, clients: CLIENTS, seed: SEED, baseTime: Date.now() - 3_600_000 };
    const expected: Expected = { opened: 0, resolved: 0 };
    say(`producing backlog: ${CLIENTS} clients, ${EVENTS} events, ${PARTITIONS} partitions (topics ${prefix}*)`);
    const t0 = Date.now();
    const desired = await desiredMessages(ctx, options.baseTime - 1000, CLIENTS, SEED);
    await produceAll(ctx, desired);
    const produced = await produceAll(ctx, workloadMessages(ctx, options, expected));
    fig("produce_rate", produced / ((Date.now() - t0) / 1000), "events/s");
    fig("stacks", desired.length, "stacks");
    const total = Number(await totalEnd(ctx, inputs));
    say(
      `backlog ready: ${total} input records; expected drifts opened ${expected.opened}, resolved ${expected.resolved}`,
    );

    say("ceiling 1: plain consumer + Avro decode");
    const decodeRate = await ceilingDecode(ctx, total);
    fig("ceiling_consume_decode", decodeRate, "events/s");
    say("ceiling 2: plain transactional consume -> produce -> sendOffsets loop");
    const txRate = await ceilingTransactional(ctx, total);
    fig("ceiling_transactional_loop", txRate, "events/s");

    say("reconciler: from backlog to drained, exactly-once");
    const started = Date.now();
    const proc = startReconcilerProcess(ctx, false);
    let firstProgress = 0;
    const deadline = Date.now() + 3_600_000;
    for (;;) {
      if (proc.child.exitCode !== null)
        throw new Error(`reconciler exited (${proc.child.exitCode}):\n${proc.output()}`);
      const committed = Number(await groupCommitted(ctx, proc.appId, inputs));
      if (committed > 0 && !firstProgress) firstProgress = Date.now();
      if (committed >= total) break;
      if (Date.now() > deadline) throw new Error("reconciler did not drain within an hour");
      await new Promise((r) => setTimeout(r, 250));
    }
    const drained = Date.now();
    fig("reconciler_throughput", total / ((drained - started) / 1000), "events/s");
    fig("reconciler_throughput_after_start", total / ((drained - firstProgress) / 1000), "events/s");
    fig("ratio_to_consume_decode", total / ((drained - started) / 1000) / decodeRate, "x");
    fig("ratio_to_transactional_loop", total / ((drained - started) / 1000) / txRate, "x");
    fig("replay_full_rebuild", (drained - started) / 1000, "s");
    fig("replay_full_rebuild_events", total, "events");
    await stopProcess(proc);
    fig("reconciler_peak_rss", proc.peakRssMb(), "MB");
    const bytes = dirBytes(proc.stateDir);
    fig("sqlite_bytes", bytes / 1_048_576, "MB");
    fig("sqlite_per_10k_stacks", (bytes / 1_048_576) * (10_000 / desired.length), "MB");

    const journal = await journalFigures(ctx, proc.appId);
    fig("reconciler_transactions", journal.transactions, "transactions (task-journal records)");
    fig("reconciler_late_records", journal.late, "records taken after newer ones (merge gave up waiting)");
    const counts = await driftCounts(ctx);
    figures.drift_opened = { value: counts.opened, unit: `drifts (expected ${expected.opened})` };
    figures.drift_resolved = { value: counts.resolved, unit: `drifts (expected ${expected.resolved})` };
    figures.drift_counts_match =
      counts.opened === expected.opened && counts.resolved === expected.resolved ? "yes" : "NO";
    (figures as Record<string, unknown>).expected = expected;

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
    rmSync(proc.stateDir, { recursive: true, force: true });
    fig("restore_all_partitions", report.ms / 1000, "s");
    fig("restore_per_partition_avg", report.ms / 1000 / PARTITIONS, "s");
    fig("restore_changelog_records", report.records, "records");
  } finally {
    if (!args.keep) await deleteTopics(ctx, prefix);
    await ctx.close();
  }
}

async function latencyRun(): Promise<void> {
  const prefix = `bench-lat-${Date.now()}.`;
  const ctx = await context(prefix);
  try {
    const clients = Math.min(CLIENTS, 10_000);
    // The latency stream uses seed + 1, so its stacks are those of seed + 1.
    await produceAll(ctx, await desiredMessages(ctx, Date.now() - 1000, clients, SEED + 1));
    const proc = startReconcilerProcess(ctx, true);
    const inputs = [ctx.names["desired-state"]];
    const desiredTotal = Number(await totalEnd(ctx, inputs));
    while (Number(await groupCommitted(ctx, proc.appId, inputs)) < desiredTotal) {
      if (proc.child.exitCode !== null) throw new Error(`reconciler exited:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
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
    await stopProcess(proc);
    rmSync(proc.stateDir, { recursive: true, force: true });
    fig("latency_offered_rate", offered, "events/s");
    fig("latency_p50", histogram.getValueAtPercentile(50) / 1000, "ms");
    fig("latency_p99", histogram.getValueAtPercentile(99) / 1000, "ms");
    fig("latency_max", histogram.maxValue / 1000, "ms");
    figures.latency_samples = { value: observed, unit: `drift-opened records (of ${expected.opened} injected)` };
  } finally {
    if (!args.keep) await deleteTopics(ctx, prefix);
    await ctx.close();
  }
}

async function deleteTopics(ctx: AppContext, prefix: string): Promise<void> {
  const topics = (await ctx.admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0)
    await ctx.admin.deleteTopics(topics).catch((err: unknown) => say(`could not delete bench topics: ${String(err)}`));
}

function kafkaVersion(): string {
  if (process.env.KAFKA_BROKERS) return "external (KAFKA_BROKERS)";
  const pom = readFileSync(join(ROOT, "infra/kafka/pom.xml"), "utf8");
  return `Apache Kafka ${/<kafka.version>([^<]+)</.exec(pom)?.[1] ?? "?"} (local KRaft, same machine)`;
}

const startedAt = new Date();
const expectedUpFront = countExpected({ events: EVENTS, clients: CLIENTS, seed: SEED, baseTime: 0 });
say(
  `workload: ${EVENTS} events, ${CLIENTS} clients, seed ${SEED}: ${expectedUpFront.opened} drifts open, ${expectedUpFront.resolved} resolve`,
);
await throughputRun();
if (LATENCY_SECONDS > 0) await latencyRun();
if (Number(args["heal-clients"]) > 0) {
  const prefix = `bench-heal-${Date.now()}.`;
  const ctx = await context(prefix);
  try {
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
        const proc = startReconcilerProcess(ctx, true);
        return {
          stop: async () => {
            await stopProcess(proc);
            rmSync(proc.stateDir, { recursive: true, force: true });
          },
        };
      },
    });
    fig("heal_command_p50", heal.command_p50_ms, "ms (resource event produced -> heal command readable)");
    fig("heal_command_p99", heal.command_p99_ms, "ms");
    fig(
      "heal_started_p50",
      heal.started_p50_ms,
      "ms (resource event produced -> CodeBuild build started, result readable)",
    );
    fig("heal_started_p99", heal.started_p99_ms, "ms");
    fig("heal_started_max", heal.started_max_ms, "ms");
    figures.heal_counts = `${heal.drifts} drifts, ${heal.commands} commands, ${heal.started} started results, ${heal.builds} CodeBuild builds`;
  } finally {
    if (!args.keep) await deleteTopics(ctx, prefix);
    await ctx.close();
  }
}

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
    partitions: PARTITIONS,
    rate: RATE,
    latency_seconds: LATENCY_SECONDS,
    seed: SEED,
  },
  figures,
};
const out = args.out ?? join(ROOT, "bench/results", `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
mkdirSync(resolve(out, ".."), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2));
console.log(
  `\nmachine: ${result.machine.cores} cores (${result.machine.cpu}), ${result.machine.memory_gb} GB, node ${result.machine.node}, ${result.machine.kafka}`,
);
console.log(`options: ${JSON.stringify(result.options)}\n`);
for (const [name, v] of Object.entries(figures)) {
  if (name === "expected") continue;
  console.log(`${name.padEnd(36)} ${typeof v === "string" ? v : `${v.value} ${v.unit}`}`);
}
console.log(`\nwritten to ${out}`);
process.exit(figures.drift_counts_match === "yes" ? 0 : 1);
