/**
 * The API's read model: a local SQLite replica of the compacted stack-state
 * and desired-state topics plus the drift-events and audit history, fed by a
 * consumer group of this API instance alone (every instance reads every
 * partition), so API instances scale apart from the reconcilers. Writes are
 * idempotent (upserts and ids), offsets are committed after the SQLite write:
 * a crash replays a little, never loses.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { GroupConsumer, KafkaAdmin, KafkaPort } from "../adapters/kafka/port.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import type { SchemaName, TopicNames, TopicRole } from "../adapters/kafka/topics.js";
import { HEAL_ACTIONS } from "../core/model/vocabulary.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";

const REPLICATED: ReadonlyArray<[TopicRole, SchemaName]> = [
  ["stack-state", "StateRecord"],
  ["desired-state", "DesiredState"],
  ["drift-events", "DriftEvent"],
  ["audit", "AuditEntry"],
];

export interface Freshness {
  /** Records on the replicated topics not yet in the replica (at the last check). */
  lag_records: number;
  caught_up: boolean;
  /** When the replica last applied a record or found itself caught up. */
  as_of: string | null;
}

export type Row = Record<string, unknown>;

export class Replica {
  private readonly db: Database.Database;
  private readonly consumer: GroupConsumer;
  private readonly next = new Map<string, bigint>();
  private readonly high = new Map<string, bigint>();
  private asOf: number | null = null;
  private caughtUpOnce = false;
  private connected = false;
  private timer: NodeJS.Timeout | null = null;
  /** The consumer group: the configured id plus this database's generation. */
  readonly groupId: string;
  readonly skipped = { count: 0 };

  constructor(
    private readonly o: {
      kafka: KafkaPort;
      admin: KafkaAdmin;
      serde: AvroSerde;
      names: TopicNames;
      path: string;
      groupId: string;
      log: Logger;
    },
  ) {
    if (o.path !== ":memory:") mkdirSync(dirname(o.path), { recursive: true });
    this.db = new Database(o.path);
    this.db.pragma("journal_mode = WAL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS stacks (client_id TEXT, stack_id TEXT, json TEXT NOT NULL, PRIMARY KEY (client_id, stack_id));
      CREATE TABLE IF NOT EXISTS desired (client_id TEXT, stack_id TEXT, json TEXT NOT NULL, PRIMARY KEY (client_id, stack_id));
      CREATE TABLE IF NOT EXISTS drift_events (event_id TEXT PRIMARY KEY, client_id TEXT, stack_id TEXT, drift_id TEXT, transition TEXT, at TEXT, json TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS drift_events_client ON drift_events (client_id, at);
      CREATE TABLE IF NOT EXISTS audit (audit_id TEXT PRIMARY KEY, client_id TEXT, stack_id TEXT, action TEXT, at TEXT, command_id TEXT, json TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS audit_client ON audit (client_id, at);
      CREATE INDEX IF NOT EXISTS audit_command ON audit (command_id) WHERE command_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    // The group's committed offsets belong to this database file: a new (or lost) file gets a new group, which reads from the beginning.
    this.db.prepare("INSERT OR IGNORE INTO meta VALUES ('generation', ?)").run(randomUUID().slice(0, 8));
    const generation = (this.db.prepare("SELECT value FROM meta WHERE key = 'generation'").get() as { value: string })
      .value;
    this.groupId = `${o.groupId}-${generation}`;
    this.consumer = o.kafka.consumer({
      groupId: this.groupId,
      topics: REPLICATED.map(([role]) => o.names[role]),
      autoCommit: true,
      maxWaitMs: 100,
    });
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** Each SQL text is prepared once: the replica applies every record and the API polls it. */
  private q(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  async start(): Promise<void> {
    const { names, log } = this.o;
    const roleOf = new Map(REPLICATED.map(([role, schema]) => [names[role], { role, schema }]));
    await this.consumer.start({
      onConnection: (connected) => {
        this.connected = connected;
      },
      onFatal: (error) => {
        this.connected = false;
        log.error({ err: errorMessage(error) }, "replica consumer stopped");
      },
      onPosition: (topic, partition, lastOffset) => {
        this.next.set(`${topic}:${partition}`, BigInt(lastOffset) + 1n);
      },
      eachBatch: async (batch) => {
        const { role, schema } = roleOf.get(batch.topic)!;
        const decoded: Array<{ key: string; value: Row | null }> = [];
        for (const m of batch.records) {
          const key = m.key?.toString("utf8") ?? "";
          try {
            decoded.push({ key, value: m.value === null ? null : await this.o.serde.decode<Row>(schema, m.value) });
          } catch (err) {
            this.skipped.count++;
            log.warn(
              { topic: batch.topic, offset: m.offset, err: errorMessage(err) },
              "replica skipped an undecodable record",
            );
          }
        }
        this.apply(role, decoded);
        this.asOf = Date.now();
      },
    });
    await this.refreshHigh();
    this.timer = setInterval(() => void this.refreshHigh().catch(() => {}), 1000);
  }

  private apply(role: TopicRole, records: Array<{ key: string; value: Row | null }>): void {
    const tx = this.db.transaction(() => {
      for (const { key, value } of records) {
        const [client_id, ...rest] = key.split("/");
        const stack_id = rest.join("/");
        switch (role) {
          case "stack-state":
          case "desired-state": {
            const table = role === "stack-state" ? "stacks" : "desired";
            if (value === null)
              this.q(`DELETE FROM ${table} WHERE client_id = ? AND stack_id = ?`).run(client_id, stack_id);
            else
              this.q(
                `INSERT INTO ${table} (client_id, stack_id, json) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET json = excluded.json`,
              ).run(client_id, stack_id, JSON.stringify(value));
            break;
          }
          case "drift-events":
            if (value)
              this.q("INSERT OR IGNORE INTO drift_events VALUES (?, ?, ?, ?, ?, ?, ?)").run(
                value.event_id,
                value.client_id,
                value.stack_id,
                value.drift_id,
                value.transition,
                value.detected_at ?? null,
                JSON.stringify(value),
              );
            break;
          case "audit":
            if (value)
              this.q("INSERT OR IGNORE INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)").run(
                value.audit_id,
                value.client_id,
                value.stack_id ?? null,
                value.action,
                value.timestamp,
                commandIdOf(value),
                JSON.stringify(value),
              );
            break;
          default:
            break;
        }
      }
    });
    tx();
  }

  private async refreshHigh(): Promise<void> {
    for (const [role] of REPLICATED) {
      const topic = this.o.names[role];
      for (const o of await this.o.admin.endOffsets(topic)) this.high.set(`${topic}:${o.partition}`, o.high);
    }
    if (this.lag() === 0) {
      this.caughtUpOnce = true;
      this.asOf = Date.now();
    }
  }

  private lag(): number {
    let lag = 0n;
    for (const [tp, high] of this.high) {
      const at = this.next.get(tp) ?? 0n;
      // Transaction markers occupy offsets no batch reports; within a couple of offsets of the end counts as caught up.
      if (high - at > 2n) lag += high - at;
    }
    return Number(lag);
  }

  freshness(): Freshness {
    const lag = this.lag();
    return {
      lag_records: lag,
      caught_up: lag === 0,
      as_of: this.asOf === null ? null : new Date(this.asOf).toISOString(),
    };
  }

  /** Ready: connected, and caught up with the topics at least once since start. */
  ready(): boolean {
    return this.connected && this.caughtUpOnce;
  }

  /** Waits until the replica holds everything produced before now (read-your-writes for the API). */
  async catchUp(timeoutMs: number): Promise<boolean> {
    await this.refreshHigh().catch(() => {});
    const deadline = Date.now() + timeoutMs;
    while (this.lag() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.lag() === 0;
  }

  stacks(client_id: string): Row[] {
    return this.q("SELECT json FROM stacks WHERE client_id = ? ORDER BY stack_id")
      .all(client_id)
      .map((r) => JSON.parse((r as { json: string }).json) as Row);
  }

  stack(client_id: string, stack_id: string): Row | null {
    const row = this.q("SELECT json FROM stacks WHERE client_id = ? AND stack_id = ?").get(client_id, stack_id) as
      { json: string } | undefined;
    return row ? (JSON.parse(row.json) as Row) : null;
  }

  desired(client_id: string, stack_id: string): Row | null {
    const row = this.q("SELECT json FROM desired WHERE client_id = ? AND stack_id = ?").get(client_id, stack_id) as
      { json: string } | undefined;
    return row ? (JSON.parse(row.json) as Row) : null;
  }

  /** Known clients: a client exists once it has a desired state or a stack state. */
  hasClient(client_id: string): boolean {
    return (
      this.q("SELECT 1 FROM desired WHERE client_id = ? UNION SELECT 1 FROM stacks WHERE client_id = ? LIMIT 1").get(
        client_id,
        client_id,
      ) !== undefined
    );
  }

  driftEvents(client_id: string, limit: number, stack_id?: string): Row[] {
    const rows = stack_id
      ? this.q("SELECT json FROM drift_events WHERE client_id = ? AND stack_id = ? ORDER BY rowid DESC LIMIT ?").all(
          client_id,
          stack_id,
          limit,
        )
      : this.q("SELECT json FROM drift_events WHERE client_id = ? ORDER BY rowid DESC LIMIT ?").all(client_id, limit);
    return rows.map((r) => JSON.parse((r as { json: string }).json) as Row);
  }

  audits(client_id: string, limit: number, action?: string): Row[] {
    const rows = action
      ? this.q("SELECT json FROM audit WHERE client_id = ? AND action = ? ORDER BY rowid DESC LIMIT ?").all(
          client_id,
          action,
          limit,
        )
      : this.q("SELECT json FROM audit WHERE client_id = ? ORDER BY rowid DESC LIMIT ?").all(client_id, limit);
    return rows.map((r) => JSON.parse((r as { json: string }).json) as Row);
  }

  /**
   * Heals the executors audited as succeeded (`<action>:succeeded`) for `client_id`, on `stack_id` or any
   * stack when null, with a time after `after` (exclusive; null: from the start) up to `until` (inclusive).
   */
  healSuccesses(client_id: string, stack_id: string | null, after: string | null, until: string): number {
    const actions = HEAL_ACTIONS.map((a) => `${a}:succeeded`);
    const sql =
      `SELECT COUNT(*) AS n FROM audit WHERE client_id = ? AND action IN (${actions.map(() => "?").join(", ")})` +
      " AND at > ? AND at <= ? AND (? IS NULL OR stack_id = ?)";
    const row = this.q(sql).get(client_id, ...actions, after ?? "", until, stack_id, stack_id) as { n: number };
    return row.n;
  }

  /**
   * The state consistency score of one client's stacks, or of every stack: the mean of their StateRecords'
   * `consistency_score` (a record written before the field existed counts 1 when healthy, else 0); 1 when none.
   */
  consistency(client_id: string | null = null): number {
    const row = this.q(
      "SELECT count(*) AS n, sum(coalesce(json_extract(json, '$.consistency_score'), " +
        "json_extract(json, '$.status') = 'healthy')) AS score FROM stacks WHERE (? IS NULL OR client_id = ?)",
    ).get(client_id, client_id) as { n: number; score: number | null };
    return row.n === 0 ? 1 : (row.score ?? 0) / row.n;
  }

  /** The audit entry the reconciler wrote for operator command `command_id`, once it has processed it. */
  auditOfCommand(client_id: string, command_id: string): Row | null {
    const row = this.q("SELECT json FROM audit WHERE command_id = ? AND client_id = ?").get(command_id, client_id) as
      { json: string } | undefined;
    return row ? (JSON.parse(row.json) as Row) : null;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.consumer.stop();
    this.db.close();
  }
}

function commandIdOf(audit: Row): string | null {
  try {
    const changes = JSON.parse(String(audit.changes_made_json)) as { command_id?: unknown };
    return typeof changes.command_id === "string" ? changes.command_id : null;
  } catch {
    return null;
  }
}
