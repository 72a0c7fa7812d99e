/**
 * The HTTP API in-process, without Kafka: a real Replica over a SQLite file
 * that the test fills directly (as the replica's consumer would), and a
 * RecordProducer that records what the routes wrote. Requests go through
 * Fastify's inject(). Nothing here connects to a broker: the Kafka port the
 * Replica constructor asks for is built but never connected.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pino from "pino";
import { createKafkaPort } from "../../../src/adapters/kafka/kafkajs-port.js";
import type {
  InRecord,
  OutRecord,
  ReadToEndOptions,
  RecordProducer,
  SendResult,
} from "../../../src/adapters/kafka/port.js";
import { loadSchemas } from "../../../src/adapters/kafka/schemas.js";
import { AvroSerde } from "../../../src/adapters/kafka/serde.js";
import type { Retention, SchemaName } from "../../../src/adapters/kafka/topics.js";
import { topicNames } from "../../../src/adapters/kafka/topics.js";
import { TokenAuth } from "../../../src/api/auth.js";
import { Replica, type Row } from "../../../src/api/replica.js";
import { buildApi } from "../../../src/api/server.js";
import type { WebhookConfig } from "../../../src/gateway/webhook-config.js";
import { createMetrics } from "../../../src/observability/metrics.js";
import type { AppContext } from "../../../src/runtime/app-context.js";

export const ACME_TOKEN = "acme-token-0123456789";
export const OTHER_TOKEN = "other-token-0123456789";
export const ADMIN_TOKEN = "admin-token-0123456789";
const TOKENS = `acme-ops@acme-corp:${ACME_TOKEN},other-ops@other-co:${OTHER_TOKEN},root@*:${ADMIN_TOKEN}`;

export const names = topicNames("unit.");
const types = loadSchemas();

/** Decodes what a route wrote, with the same Avro schema it encoded with. */
export function decode(schema: SchemaName, value: Buffer | null): Row {
  return types.get(schema)!.fromBuffer(value!) as Row;
}

/** A RecordProducer that keeps what it was sent; `onSend` lets a test fail the write or answer it. */
export class RecordingProducer implements RecordProducer {
  readonly sent: OutRecord[] = [];
  onSend: (records: OutRecord[]) => void = () => {};
  async send(records: OutRecord[]): Promise<SendResult[]> {
    this.onSend(records);
    this.sent.push(...records);
    return records.map((r) => ({ topic: r.topic, partition: r.partition ?? 0, baseOffset: String(this.sent.length) }));
  }
  async disconnect(): Promise<void> {}
}

export async function startUnitApi(options: { waitMs?: number; webhooks?: WebhookConfig; retention?: Retention } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "blackwell-api-unit-"));
  const path = join(dir, "replica.db");
  const kafka = createKafkaPort({
    brokers: ["127.0.0.1:1"],
    registryUrl: "http://127.0.0.1:1",
    topicPrefix: "unit.",
    partitions: 1,
    replicationFactor: 1,
    clientId: "unit",
  });
  const log = pino({ level: "silent" });
  // Encoding without the registry's wire header is enough to check the fields a route wrote. The routes that read
  // desired-state from Kafka (policy, apply) read, through the port's readToEnd, what the RecordingProducer was
  // sent on desired-state: a log in memory, in send order, on one partition. Rollback and the real topic are
  // covered by test/integration/api.test.ts.
  const serde = {
    encode: (_topic: string, schema: SchemaName, value: unknown) => types.get(schema)!.toBuffer(value),
    decode: async (schema: SchemaName, value: Buffer) => types.get(schema)!.fromBuffer(value) as unknown,
  };
  const producer = new RecordingProducer();
  const desiredLog = (): InRecord[] =>
    producer.sent
      .filter((r) => r.topic === names["desired-state"])
      .map((r, i) => ({
        topic: r.topic,
        partition: 0,
        offset: String(i),
        key: r.key === null || r.key === undefined ? null : Buffer.from(r.key),
        value: r.value,
        timestamp: 0,
        headers: {},
      }));
  const port = {
    producer: async () => producer,
    readToEnd: async (o: ReadToEndOptions) => {
      const records = desiredLog();
      if (o.topic === names["desired-state"] && records.length > 0)
        await o.onBatch({
          topic: o.topic,
          partition: 0,
          records,
          lastOffset: String(records.length - 1),
          highWatermark: String(records.length),
        });
    },
  };
  const ctx = { names, serde, kafka: port, config: { partitions: 1 } } as unknown as AppContext;
  // The replica decodes only in start(), which a unit test never calls: its serde never reaches the registry.
  const replicaSerde = AvroSerde.forUrl("http://127.0.0.1:1", types);
  const replica = new Replica({
    kafka,
    admin: kafka.admin,
    serde: replicaSerde,
    names,
    path,
    groupId: "unit",
    log,
    ...(options.retention ? { retention: options.retention } : {}),
  });
  const db = new Database(path);
  const metrics = createMetrics();
  const webhooks = options.webhooks ? { webhooks: { config: options.webhooks, producer } } : {};
  const app = await buildApi({
    ctx,
    replica,
    auth: new TokenAuth(TOKENS),
    metrics,
    producer,
    log,
    waitMs: options.waitMs ?? 1_000,
    ...webhooks,
  });
  const insert = (table: "stacks" | "desired", client: string, stack: string, row: Row) =>
    db
      .prepare(`INSERT INTO ${table} (client_id, stack_id, json) VALUES (?, ?, ?)`)
      .run(client, stack, JSON.stringify(row));
  return {
    app,
    producer,
    metrics,
    replica,
    stack: (client: string, row: Row) => insert("stacks", client, String(row.stack_id), row),
    /** Runs `fill` in one SQLite transaction: thousands of rows in well under a second. */
    bulk: (fill: () => void) => db.transaction(fill)(),
    desired: (client: string, row: Row) => insert("desired", client, String(row.stack_id), row),
    driftEvent: (row: Row) =>
      db
        .prepare("INSERT INTO drift_events VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(
          row.event_id,
          row.client_id,
          row.stack_id,
          row.drift_id,
          row.transition,
          row.detected_at,
          JSON.stringify(row),
        ),
    audit: (row: Row, command_id: string | null = null) =>
      db
        .prepare("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(
          row.audit_id,
          row.client_id,
          row.stack_id ?? null,
          row.action,
          row.timestamp,
          command_id,
          JSON.stringify(row),
        ),
    close: async () => {
      await app.close();
      db.close();
      await replica.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type UnitApi = Awaited<ReturnType<typeof startUnitApi>>;

export const DRIFT_ID = "drift-0123456789abcdef01234567";

/** A stack-state row as the replica stores it (the StateRecord's Avro fields) with one open drift. */
export function stackRow(stack_id: string, overrides: Row = {}): Row {
  return {
    client_id: "acme-corp",
    stack_id,
    status: "drifted",
    state_version: "v1.0.0",
    reconciliation_policy: { auto_heal: true },
    drift_details: [
      {
        drift_id: DRIFT_ID,
        type: "resource",
        component: "site_bucket",
        expected_json: '"healthy"',
        observed_json: '"deleted"',
        severity: "high",
        detected_at: "2026-01-01T00:00:00.000Z",
        acknowledged: false,
      },
    ],
    ...overrides,
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
