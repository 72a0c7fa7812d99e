/**
 * An API replica started after a client was offboarded read the `client_offboarded` audit entry before older records
 * of the client on its other topics (each topic is read at its own pace) and inserted them again, so the client's
 * report from the API differed from the one before the restart. The replica is driven here as its consumer drives
 * it, batch by batch, through a Kafka port that never connects.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { ConsumerHandlers, KafkaPort } from "../../../src/adapters/kafka/port.js";
import type { AvroSerde } from "../../../src/adapters/kafka/serde.js";
import type { TopicRole } from "../../../src/adapters/kafka/topics.js";
import { Replica, type Row } from "../../../src/api/replica.js";
import { names } from "./api-fixture.js";

const OFFBOARDED = "2026-11-20T00:00:00.000Z";
const BEFORE = "2026-11-19T00:00:00.000Z";
const AFTER = "2026-11-21T00:00:00.000Z";
const CLIENT = "acme-corp";

/** A replica over `path` whose consumer is fed by `deliver`: records as JSON, which the fake serde parses. */
async function replicaAt(path: string) {
  let handlers: ConsumerHandlers | undefined;
  const kafka = {
    admin: { endOffsets: async () => [] },
    consumer: () => ({
      start: async (h: ConsumerHandlers) => void (handlers = h),
      stop: async () => {},
    }),
  } as unknown as KafkaPort;
  const serde = { decode: async (_schema: string, value: Buffer) => JSON.parse(value.toString()) as unknown };
  const replica = new Replica({
    kafka,
    admin: kafka.admin,
    serde: serde as unknown as AvroSerde,
    names,
    path,
    groupId: "unit",
    log: pino({ level: "silent" }),
  });
  await replica.start();
  let offset = 0;
  const deliver = (role: TopicRole, ...values: Row[]) =>
    handlers!.eachBatch(
      {
        topic: names[role],
        partition: 0,
        lastOffset: String(offset + values.length - 1),
        highWatermark: String(offset + values.length),
        records: values.map((v) => ({
          topic: names[role],
          partition: 0,
          offset: String(offset++),
          key: Buffer.from(v.stack_id ? `${CLIENT}/${String(v.stack_id)}` : CLIENT),
          value: Buffer.from(JSON.stringify(v)),
          timestamp: 0,
          headers: {},
        })),
      },
      { heartbeat: async () => {}, resolveOffset: () => {}, isActive: () => true, pause: () => () => {} },
    );
  return { replica, deliver };
}

const drift = (id: string, timestamp: string) => ({
  event_id: id,
  client_id: CLIENT,
  stack_id: "prod",
  drift_id: "drift-0123456789abcdef01234567",
  transition: "opened",
  detected_at: timestamp,
  timestamp,
});
const audit = (id: string, action: string, timestamp: string) => ({
  audit_id: id,
  client_id: CLIENT,
  stack_id: null,
  action,
  timestamp,
  success: true,
  changes_made_json: "{}",
});
const prediction = (timestamp: string) => ({
  client_id: CLIENT,
  stack_id: "prod",
  drift_id: "drift-0123456789abcdef01234567",
  transition: "predicted",
  predicted_at: timestamp,
  timestamp,
});
const stack = (updated_at: string) => ({ client_id: CLIENT, stack_id: "prod", status: "healthy", updated_at });
const desired = (applied_at: string) => ({ client_id: CLIENT, stack_id: "prod", state_version: "v1", applied_at });

/** What the client's report and history are read from. */
const held = (replica: Replica) => ({
  drifts: replica.driftEvents(CLIENT, 100).map((d) => d.event_id),
  audits: replica.audits(CLIENT, 100).map((a) => a.audit_id),
  predictions: replica.predictions(CLIENT, false, 100).map((p) => p.predicted_at),
  stacks: replica.stacks(CLIENT).map((s) => s.updated_at),
  desired: replica.desired(CLIENT, "prod")?.applied_at ?? null,
  report: replica.reportRecords(CLIENT, "2027-01-01T00:00:00.000Z").drifts.map((d) => d.event_id),
});

describe("an API replica of an offboarded client", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("inserts none of the client's records from before its offboarding read after it, and keeps those after it, across a restart", async () => {
    dir = mkdtempSync(join(tmpdir(), "blackwell-replica-offboard-"));
    const path = join(dir, "replica.db");
    const first = await replicaAt(path);
    // The audit topic first: the offboarding, then (a client brought back) a desired state applied after it.
    await first.deliver(
      "audit",
      audit("a-old", "desired_state_applied", BEFORE),
      audit("a-off", "client_offboarded", OFFBOARDED),
      audit("a-new", "desired_state_applied", AFTER),
    );
    // The other topics after it, from the start: the client's older records, its last ones, and its new ones.
    await first.deliver("drift-events", drift("d-old", BEFORE), drift("d-at", OFFBOARDED), drift("d-new", AFTER));
    await first.deliver("drift-predictions", prediction(BEFORE), prediction(AFTER));
    await first.deliver("stack-state", stack(BEFORE), stack(AFTER));
    await first.deliver("desired-state", desired(BEFORE));
    const expected = {
      drifts: ["d-new"],
      audits: ["a-new", "a-off"],
      predictions: [AFTER],
      stacks: [AFTER],
      desired: null,
      report: ["d-new"],
    };
    expect(held(first.replica)).toEqual(expected);
    await first.replica.stop();

    // Restarted on the same database: the offboarding is remembered, whatever the topics hand it again.
    const second = await replicaAt(path);
    await second.deliver("drift-events", drift("d-older", "2026-11-01T00:00:00.000Z"));
    await second.deliver("desired-state", desired(AFTER));
    expect(held(second.replica)).toEqual({ ...expected, desired: AFTER });
    await second.replica.stop();
  });

  it("forgets what it read of the client before the offboarding, but not what came after it", async () => {
    dir = mkdtempSync(join(tmpdir(), "blackwell-replica-offboard-"));
    const { replica, deliver } = await replicaAt(join(dir, "replica.db"));
    await deliver("drift-events", drift("d-old", BEFORE), drift("d-new", AFTER));
    await deliver(
      "audit",
      audit("a-old", "heal_command_issued", BEFORE),
      audit("a-off", "client_offboarded", OFFBOARDED),
    );
    expect(held(replica)).toMatchObject({ drifts: ["d-new"], audits: ["a-off"], report: ["d-new"] });
    // The same offboarding read again (a replay after a crash) keeps it.
    await deliver("audit", audit("a-off", "client_offboarded", OFFBOARDED));
    expect(held(replica).audits).toEqual(["a-off"]);
    await replica.stop();
  });
});
