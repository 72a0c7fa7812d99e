/**
 * Issue item 5, on the real broker: one scenario timeline with explicit record
 * timestamps (an external producer's record time, taken as given), produced in
 * hostile arrival orders: the timeline itself (the control), all events first
 * then the desired states then the commands, the timeline reversed, and a
 * seeded shuffle. Each order runs on a fresh topic prefix; for each, the live
 * run must equal its replay (which follows the live task journal), open no
 * drift but the one real drift, and end with every stack healthy and no drift
 * open.
 */
import { afterEach, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { partitionForClient } from "../../src/adapters/kafka/partitioner.js";
import { RECONCILER_INPUTS, type SchemaName } from "../../src/adapters/kafka/topics.js";
import { driftId } from "../../src/core/ids.js";
import { driftTypeOf } from "../../src/core/model/vocabulary.js";
import { inputEnds } from "../../src/runtime/input-ends.js";
import { readRecords } from "../../src/runtime/read-records.js";
import type { ReconcilerOptions, ReconcilerRunner } from "../../src/runtime/reconciler-runner.js";
import { replayAndCompare, type ReplayReport } from "../../src/runtime/replay.js";
import { desiredStack } from "../support/core-spec.js";
import { commandValue, providerEventValue, resourceEventValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

interface DriftEvent {
  client_id: string;
  stack_id: string;
  drift_id: string;
  transition: string;
  drift_type: string;
  component: string;
}
interface StateRecord {
  client_id: string;
  stack_id: string;
  status: string;
  state_version: string;
  drift_details: Array<{ drift_id: string; acknowledged: boolean }>;
}
interface AuditEntry {
  action: string;
  client_id: string;
  stack_id: string | null;
  drift_id: string | null;
  success: boolean;
  reason: string | null;
}

type InputTopic = "desired-state" | "commands" | "provider-events" | "resource-events";

/** One input record of the scenario: where it goes, under which key, and its record time. */
interface Arrival {
  /** Position in the timeline (0 = earliest). */
  step: number;
  timestamp: number;
  topic: InputTopic;
  schema: SchemaName;
  key: string;
  client: string;
  value: unknown;
  what: string;
}

const PARTITIONS = 3;
const DAY = 86_400;
const STEP_MS = 1000;
const SEED = 20_250_705;

/** One client per partition (the default murmur2 partitioner, as the reconciler checks). */
function clientPerPartition(): [string, string, string] {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < PARTITIONS; i++) {
    const client = `hostile-${i}`;
    const p = partitionForClient(client, PARTITIONS);
    if (!byPartition.has(p)) byPartition.set(p, client);
  }
  return [byPartition.get(0)!, byPartition.get(1)!, byPartition.get(2)!];
}

const [A, B, C] = clientPerPartition();
/** Every stack the scenario declares: A has two (prod and staging), B and C one each. */
const STACKS = [`${A}/web`, `${A}/shop`, `${B}/web`, `${C}/web`];
/** The one real drift: A's prod database reported unhealthy, later healthy again. */
const REAL_DRIFT = driftId(A, "web", driftTypeOf("resource_unhealthy"), "db");

/**
 * The scenario, in timeline order. Built once, so every arrival order gets the very same records (same ids, same
 * record times), 10 minutes in the past.
 */
function timeline(base: number): Arrival[] {
  const specs: Array<Omit<Arrival, "step" | "timestamp" | "value" | "schema"> & { build: (at: Date) => unknown }> = [];
  const desired = (client: string, stack_id: string, environment: string, resource: string) =>
    specs.push({
      topic: "desired-state",
      key: `${client}/${stack_id}`,
      client,
      what: `desired ${client}/${stack_id}`,
      build: (at) =>
        desiredToAvro(
          desiredStack({
            client_id: client,
            stack_id,
            environment,
            applied_at: at.toISOString(),
            providers: { cms: "sanity", ecommerce: null, ssg: null },
            resources: [{ name: resource, arn: `arn:aws:rds:eu-west-1:1:db:${client}-${stack_id}`, ignore_paths: [] }],
            // Nothing goes stale within the scenario's minute: the only drift is the one the events make.
            staleness: {
              provider_silence_seconds: DAY,
              resource_ttl_seconds: DAY,
              content_grace_seconds: 300,
              webhook_failure_threshold: 3,
            },
          }),
        ),
    });
  const provider = (client: string, environment: string, event_type: string) =>
    specs.push({
      topic: "provider-events",
      key: client,
      client,
      what: `${client} sanity ${event_type} (${environment})`,
      build: (at) => providerEventValue({ client_id: client, environment, provider_name: "sanity", event_type, at }),
    });
  const resource = (client: string, environment: string, resource_name: string, status: string) =>
    specs.push({
      topic: "resource-events",
      key: client,
      client,
      what: `${client} ${resource_name} ${status} (${environment})`,
      build: (at) => resourceEventValue({ client_id: client, environment, resource_name, status, at }),
    });
  const command = (client: string, name: string, stack_id: string, drift_id: string | null) =>
    specs.push({
      topic: "commands",
      key: client,
      client,
      what: `${client} ${name} ${stack_id}${drift_id ? ` ${drift_id}` : ""}`,
      build: (at) => ({
        ...commandValue({ client_id: client, command: name, stack_id, drift_id, issued_by: "operator" }),
        issued_at: at.toISOString(),
      }),
    });

  desired(A, "web", "prod", "db");
  desired(A, "shop", "staging", "cache");
  desired(B, "web", "prod", "db");
  desired(C, "web", "prod", "db");
  provider(A, "prod", "provider.connected");
  provider(A, "staging", "provider.connected");
  provider(B, "prod", "provider.connected");
  provider(C, "prod", "provider.connected");
  resource(A, "prod", "db", "healthy");
  resource(A, "staging", "cache", "healthy");
  resource(B, "prod", "db", "healthy");
  resource(C, "prod", "db", "healthy");
  provider(B, "prod", "provider.heartbeat");
  resource(A, "prod", "db", "unhealthy"); // the real drift opens
  provider(C, "prod", "provider.heartbeat");
  command(A, "acknowledge", "web", REAL_DRIFT); // while it is open
  resource(B, "prod", "db", "healthy");
  resource(A, "prod", "db", "healthy"); // and resolves
  provider(A, "prod", "provider.heartbeat");
  resource(C, "prod", "db", "healthy");
  provider(A, "staging", "provider.heartbeat");
  command(B, "reconcile", "web", null);

  const schemaOf: Record<InputTopic, SchemaName> = {
    "desired-state": "DesiredState",
    commands: "Command",
    "provider-events": "ProviderEvent",
    "resource-events": "ResourceEvent",
  };
  return specs.map(({ build, ...s }, step) => {
    const timestamp = base + step * STEP_MS;
    return { ...s, step, timestamp, schema: schemaOf[s.topic], value: build(new Date(timestamp)) };
  });
}

const TIMELINE = timeline(Date.now() - 10 * 60_000);
const stepOf = (what: string) => TIMELINE.find((a) => a.what === what)!.step;

/** A small seeded PRNG (mulberry32), so the shuffled order is the same on every run. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function shuffled(list: Arrival[], seed: number): Arrival[] {
  const random = seeded(seed);
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Pairs of records in one topic partition whose offset order contradicts their record times. */
function inversions(arrival: Arrival[]): string[] {
  const found: string[] = [];
  arrival.forEach((a, i) => {
    for (const b of arrival.slice(i + 1)) {
      const samePartition =
        a.topic === b.topic && partitionForClient(a.client, PARTITIONS) === partitionForClient(b.client, PARTITIONS);
      if (samePartition && b.timestamp < a.timestamp) found.push(`${a.what} before ${b.what}`);
    }
  });
  return found;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits until the reconciler has processed (and committed) every input record produced so far. */
async function drained(h: Harness, runner: ReconcilerRunner): Promise<void> {
  const ends = await inputEnds(
    h.ctx.admin,
    RECONCILER_INPUTS.map((r) => h.ctx.names[r]),
  );
  await until("the reconciler to drain its inputs", () => runner.drainedTo(ends), 120_000);
}

interface Outcome {
  applicationId: string;
  replay: ReplayReport;
  drifts: DriftEvent[];
  states: Array<{ key: string; value: StateRecord | null }>;
  audits: AuditEntry[];
  dlq: number;
  ms: number;
}

/**
 * Runs the scenario on a fresh topic prefix. `phases` are produced in order, each record on its own with its
 * timeline record time. `startFirst`: the reconciler runs while the records arrive (draining after each phase), so
 * what arrives after its stream time moved on is late; otherwise everything is produced first and the reconciler
 * started on the full backlog.
 */
async function runOrder(
  h: Harness,
  phases: Arrival[][],
  options: { startFirst: boolean; reconciler?: Partial<ReconcilerOptions> },
): Promise<Outcome> {
  const started = Date.now();
  let runner: ReconcilerRunner | null = null;
  if (options.startFirst) {
    const r = await h.startReconciler(options.reconciler);
    runner = r;
    await until("every task assigned and restored", () => r.taskCount === PARTITIONS && r.restoredAt !== null, 120_000);
  }
  for (const phase of phases) {
    for (const a of phase) await h.produce(a.topic, a.schema, a.key, [a.value], { timestamp: a.timestamp });
    if (runner) await drained(h, runner);
  }
  runner ??= await h.startReconciler(options.reconciler);
  await drained(h, runner);
  await runner.stop();

  const applicationId = `${h.config.topicPrefix}reconciler`;
  const replay = await replayAndCompare(h.ctx, { applicationId, timeoutMs: 120_000 });
  const values = <T>(rows: Array<{ value: T | null }>) => rows.map((r) => r.value).filter((v): v is T => v !== null);
  const drifts = values(await readRecords<DriftEvent>(h.ctx, "drift-events", null));
  const states = (await readRecords<StateRecord>(h.ctx, "stack-state", null)).map(({ key, value }) => ({ key, value }));
  const audits = values(await readRecords<AuditEntry>(h.ctx, "audit", null));
  const dlq = (await readRecords(h.ctx, "dlq", null, { decode: false })).length;
  return { applicationId, replay, drifts, states, audits, dlq, ms: Date.now() - started };
}

/** What every order must show: live equals replay, no false positive, the right end state. */
function expectSound(order: string, o: Outcome): void {
  const { replay } = o;
  const divergence = JSON.stringify(
    {
      sequences: replay.sequences.map((s) => ({
        topic: s.topic,
        live: s.live,
        replayed: s.replayed,
        firstDivergence: s.firstDivergence,
      })),
      stackDifferences: replay.stacks.differences,
    },
    null,
    2,
  );
  expect(replay.mode, order).toBe("journal");
  expect(replay.journal.applicationId, order).toBe(o.applicationId);
  expect(replay.journal.entries, `${order}: the live run journaled its passes`).toBeGreaterThan(0);
  expect(replay.exactCut, order).toBe(true);
  expect(replay.equal, `${order}: live and replay differ:\n${divergence}`).toBe(true);
  // The comparison covered what this test reads from the live topics.
  expect(replay.sequences.find((s) => s.topic === "drift-events")?.live, order).toBe(o.drifts.length);
  expect(replay.sequences.find((s) => s.topic === "audit")?.live, order).toBe(o.audits.length);
  expect(replay.stacks.live, order).toBe(STACKS.length);
  expect(o.dlq, `${order}: every record is valid, none may go to the DLQ`).toBe(0);

  // No false positive: no drift but the real one, ever, and no stack but A's prod ever out of healthy.
  const foreign = o.drifts.filter((d) => d.drift_id !== REAL_DRIFT);
  expect(foreign, `${order}: drift events for something that never drifted`).toEqual([]);
  for (const d of o.drifts) {
    expect(d, order).toMatchObject({ client_id: A, stack_id: "web", drift_type: "resource", component: "db" });
  }
  for (const { key, value } of o.states) {
    if (value === null) continue;
    if (key !== `${A}/web`)
      expect({ key, status: value.status }, `${order}: ${key} never drifted`).toEqual({ key, status: "healthy" });
    expect(
      value.drift_details.map((d) => d.drift_id).filter((id) => id !== REAL_DRIFT),
      `${order}: ${key} lists a drift that never happened`,
    ).toEqual([]);
  }
  // The real drift, if it was seen at all: opened once, resolved at the end.
  const transitions = o.drifts.map((d) => d.transition);
  if (transitions.length > 0) {
    expect(
      transitions.filter((t) => t === "opened"),
      order,
    ).toEqual(["opened"]);
    expect(transitions[0], order).toBe("opened");
    expect(transitions.at(-1), `${order}: the real drift must end resolved`).toBe("resolved");
    expect(
      transitions.every((t) => ["opened", "acknowledged", "resolved"].includes(t)),
      order,
    ).toBe(true);
  }

  // The end state: every declared stack present, healthy, in sync, no drift open.
  const latest = new Map(o.states.map((s) => [s.key, s.value]));
  expect([...latest.keys()].sort(), order).toEqual([...STACKS].sort());
  for (const key of STACKS) {
    const state = latest.get(key);
    expect(state, `${order}: ${key} at the end`).toMatchObject({
      status: "healthy",
      state_version: "v1.0.0",
      drift_details: [],
    });
  }
}

function expectLate(order: string, o: Outcome, late: "none" | "some"): void {
  const lateAudits = o.audits.filter((a) => a.action === "late_record");
  if (late === "none") {
    expect(o.replay.journal.lateRecords, `${order}: perfect arrival has no late record`).toBe(0);
    expect(lateAudits, order).toEqual([]);
    return;
  }
  expect(o.replay.journal.lateRecords, `${order}: late records are counted in the journal`).toBeGreaterThan(0);
  // One audit entry per late record, for the client whose record it was.
  expect(lateAudits.length, `${order}: one late_record audit per late record`).toBe(o.replay.journal.lateRecords);
  expect(
    lateAudits.every((a) => [A, B, C].includes(a.client_id) && a.success),
    order,
  ).toBe(true);
}

const byStep = (list: Arrival[]) => [...list].sort((a, b) => a.step - b.step);

describe("hostile arrival orders on the real broker", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("control: the timeline in order is processed in order, with the drift's whole lifecycle and nothing late", async () => {
    expect(new Set([A, B, C].map((c) => partitionForClient(c, PARTITIONS))).size).toBe(PARTITIONS);
    h = await createHarness(PARTITIONS);
    // Everything is produced before the reconciler starts and each task waits for every input that has data
    // (a generous max task idle), so the merge sees perfect arrival: the reference run.
    const o = await runOrder(h, [TIMELINE], { startFirst: false, reconciler: { maxTaskIdleMs: 60_000 } });
    console.log(`[hostile-arrival] control: ${o.ms} ms, journal ${JSON.stringify(o.replay.journal)}`);
    expectSound("timeline order", o);
    expectLate("timeline order", o, "none");

    expect(o.drifts.map((d) => [d.drift_id, d.transition])).toEqual([
      [REAL_DRIFT, "opened"],
      [REAL_DRIFT, "acknowledged"],
      [REAL_DRIFT, "resolved"],
    ]);
    expect(o.states.some((s) => s.key === `${A}/web` && s.value?.status === "drift_detected")).toBe(true);
    expect(o.audits.filter((a) => a.action === "drift_acknowledged")).toMatchObject([
      { client_id: A, stack_id: "web", drift_id: REAL_DRIFT, success: true },
    ]);
    expect(o.audits.filter((a) => a.action === "stack_reconcile")).toMatchObject([
      { client_id: B, stack_id: "web", success: true },
    ]);
  }, 300_000);

  it("all events first, then the desired states, then the commands: no drift judged before its desired state", async () => {
    h = await createHarness(PARTITIONS);
    const events = TIMELINE.filter((a) => a.topic === "provider-events" || a.topic === "resource-events");
    const desired = TIMELINE.filter((a) => a.topic === "desired-state");
    const commands = TIMELINE.filter((a) => a.topic === "commands");
    // The reconciler runs and drains each phase before the next arrives: every desired state and every command is
    // older than the stream time the events moved it to.
    const o = await runOrder(h, [events, desired, commands], { startFirst: true });
    console.log(`[hostile-arrival] events first: ${o.ms} ms, journal ${JSON.stringify(o.replay.journal)}`);
    expectSound("events first", o);
    expectLate("events first", o, "some");
    // When the desired states arrive, A's database is already healthy again: nothing to open, and nothing opened
    // while no desired state was known.
    expect(o.drifts).toEqual([]);
    // The late acknowledge finds no open drift and says so; the reconcile finds B's stack.
    expect(o.audits.filter((a) => a.action === "drift_acknowledged")).toMatchObject([
      { client_id: A, drift_id: REAL_DRIFT, success: false, reason: "no open drift with this id" },
    ]);
    expect(o.audits.filter((a) => a.action === "stack_reconcile")).toMatchObject([{ client_id: B, success: true }]);

    // The comparison is not vacuous, and the journal is what makes the replay equal: merged by timestamp instead
    // (perfect arrival, `reorder`), the same inputs give the control's history (the drift's whole lifecycle, nothing
    // late), and the report says that differs from this live run.
    const reordered = await replayAndCompare(h.ctx, {
      applicationId: o.applicationId,
      reorder: true,
      timeoutMs: 120_000,
    });
    expect(reordered.mode).toBe("reorder");
    expect(reordered.equal).toBe(false);
    expect(reordered.sequences.find((s) => s.topic === "drift-events")).toMatchObject({
      live: 0,
      replayed: 3,
      equal: false,
    });
    expect(reordered.sequences.find((s) => s.topic === "audit")?.equal).toBe(false);
  }, 300_000);

  it("the timeline reversed: newest first, every older record late, no drift opened from stale observations", async () => {
    h = await createHarness(PARTITIONS);
    const reversed = [...TIMELINE].reverse();
    const o = await runOrder(h, [reversed], { startFirst: true });
    console.log(`[hostile-arrival] reversed: ${o.ms} ms, journal ${JSON.stringify(o.replay.journal)}`);
    expectSound("reversed", o);
    expectLate("reversed", o, "some");
    // A's "db healthy" (newer) sits before "db unhealthy" (older) in the same partition: the older report never
    // overrides the newer one, so the drift cannot open.
    expect(o.drifts).toEqual([]);
  }, 300_000);

  it("a seeded shuffle: whatever the order, live equals replay and the end state is right", async () => {
    const order = shuffled(TIMELINE, SEED);
    // The shuffle really is hostile: some topic partition gets records out of time order.
    expect(order.map((a) => a.step)).not.toEqual(byStep(order).map((a) => a.step));
    expect(inversions(order).length).toBeGreaterThan(0);
    const unhealthyFirst =
      order.findIndex((a) => a.step === stepOf(`${A} db unhealthy (prod)`)) <
      order.findIndex((a) => a.what === `${A} db healthy (prod)` && a.step > stepOf(`${A} db unhealthy (prod)`));
    h = await createHarness(PARTITIONS);
    const o = await runOrder(h, [order], { startFirst: true });
    console.log(
      `[hostile-arrival] shuffled (seed ${SEED}): ${o.ms} ms, journal ${JSON.stringify(o.replay.journal)}, ` +
        `arrival ${order.map((a) => a.step).join(",")}, drift ${JSON.stringify(o.drifts.map((d) => d.transition))}`,
    );
    expectSound("shuffled", o);
    expectLate("shuffled", o, "some");
    // If "db healthy" arrives before "db unhealthy" in A's partition, the drift cannot open.
    if (!unhealthyFirst) expect(o.drifts).toEqual([]);
  }, 300_000);
});
