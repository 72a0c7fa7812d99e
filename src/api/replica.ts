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
import type { GroupConsumer, InRecord, KafkaAdmin, KafkaPort } from "../adapters/kafka/port.js";
import type { AvroSerde } from "../adapters/kafka/serde.js";
import {
  retentionOf,
  type Retention,
  type SchemaName,
  type TopicNames,
  type TopicRole,
} from "../adapters/kafka/topics.js";
import { HEAL_ACTIONS } from "../core/model/vocabulary.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import { isoTime } from "../core/iso-time.js";

const REPLICATED: ReadonlyArray<[TopicRole, SchemaName]> = [
  ["stack-state", "StateRecord"],
  ["desired-state", "DesiredState"],
  ["drift-events", "DriftEvent"],
  ["audit", "AuditEntry"],
  ["drift-predictions", "DriftPrediction"],
];

/** Pruning to the topics' retention runs at most this often. */
const PRUNE_EVERY_MS = 60_000;
/** The audit action of an offboarded client: the replica forgets the client's rows up to it when it reads it. */
export const CLIENT_OFFBOARDED = "client_offboarded";

/** Each replicated record's own time (ISO 8601), compared with its client's offboarding. */
const RECORD_TIME: Partial<Record<TopicRole, string>> = {
  "stack-state": "updated_at",
  "desired-state": "applied_at",
  "drift-events": "timestamp",
  audit: "timestamp",
  "drift-predictions": "timestamp",
};
/** The same time in each table's rows. */
const ROW_TIME: Record<string, string> = {
  stacks: "json_extract(json, '$.updated_at')",
  desired: "json_extract(json, '$.applied_at')",
  drift_events: "json_extract(json, '$.timestamp')",
  // The client's offboardings stay: what the replica still tells of it.
  audit: `CASE action WHEN '${CLIENT_OFFBOARDED}' THEN NULL ELSE at END`,
  predictions: "at",
};

export interface DeadLetters {
  total: number;
  reasons: Array<{ source_topic: string; code: string; count: number; last_at: string; last_message: string }>;
}

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
      /** The topics' configured retentions: the replica keeps drift events, audit entries and dead letters as long. */
      retention?: Retention;
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
      CREATE INDEX IF NOT EXISTS drift_events_moment ON drift_events (json_extract(json, '$.timestamp'));
      CREATE INDEX IF NOT EXISTS drift_events_drift ON drift_events (client_id, drift_id);
      CREATE TABLE IF NOT EXISTS audit (audit_id TEXT PRIMARY KEY, client_id TEXT, stack_id TEXT, action TEXT, at TEXT, command_id TEXT, json TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS audit_client ON audit (client_id, at);
      CREATE INDEX IF NOT EXISTS audit_command ON audit (command_id) WHERE command_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS predictions (prediction TEXT PRIMARY KEY, client_id TEXT, stack_id TEXT, drift_id TEXT, state TEXT, at TEXT, json TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS predictions_client ON predictions (client_id, state, at);
      CREATE TABLE IF NOT EXISTS dead_letters (partition INTEGER, offset INTEGER, source_topic TEXT NOT NULL, code TEXT NOT NULL, at INTEGER NOT NULL, message TEXT NOT NULL, PRIMARY KEY (partition, offset));
      CREATE INDEX IF NOT EXISTS dead_letters_reason ON dead_letters (source_topic, code, at);
      CREATE INDEX IF NOT EXISTS dead_letters_at ON dead_letters (at);
      CREATE TABLE IF NOT EXISTS offboarded (client_id TEXT PRIMARY KEY, at TEXT NOT NULL);
    `);
    this.loadOffboarded();
    // The group's committed offsets belong to this database file: a new (or lost) file gets a new group, which reads from the beginning.
    this.db.prepare("INSERT OR IGNORE INTO meta VALUES ('generation', ?)").run(randomUUID().slice(0, 8));
    const generation = (this.db.prepare("SELECT value FROM meta WHERE key = 'generation'").get() as { value: string })
      .value;
    this.groupId = `${o.groupId}-${generation}`;
    this.consumer = o.kafka.consumer({
      groupId: this.groupId,
      topics: [...REPLICATED.map(([role]) => o.names[role]), o.names.dlq],
      autoCommit: true,
      maxWaitMs: 100,
    });
  }

  /**
   * Per offboarded client, when it was offboarded (its `client_offboarded` audit's time), as the `offboarded` table
   * holds it. The replica reads several topics, each at its own pace: the offboarding can be read before older
   * records of the client on the other topics, which must not come back. Records after it (a client brought back)
   * are kept.
   */
  private readonly offboarded = new Map<string, string>();

  /** The offboardings as the database holds them (at start, and after a batch that did not commit). */
  private loadOffboarded(): void {
    this.offboarded.clear();
    for (const r of this.db.prepare("SELECT client_id, at FROM offboarded").all() as Array<Record<string, string>>)
      this.offboarded.set(r.client_id!, r.at!);
  }
  private readonly statements = new Map<string, Database.Statement>();
  /** Batches this connection applied; with SQLite's data_version (other connections' writes), the fleet cache key. */
  private writes = 0;
  private readonly fleetCache = new Map<string, { at: string; result: FleetResult }>();

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
        if (batch.topic === names.dlq) {
          this.applyDeadLetters(batch.records);
          this.asOf = Date.now();
          return;
        }
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
        if (value !== null && this.forgotten(role, value)) continue;
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
          case "drift-predictions":
            // One row per prediction, holding its latest transition (a prediction's transitions share its partition).
            if (value)
              this.q(
                "INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET state = excluded.state, at = excluded.at, json = excluded.json WHERE excluded.state <> 'predicted'",
              ).run(
                `${String(value.drift_id)}@${String(value.predicted_at)}`,
                value.client_id,
                value.stack_id,
                value.drift_id,
                value.transition,
                value.timestamp,
                JSON.stringify(value),
              );
            break;
          case "audit":
            if (value?.action === CLIENT_OFFBOARDED && value.success === true)
              this.forgetClient(String(value.client_id), String(value.timestamp));
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
    try {
      tx();
    } catch (err) {
      // Rolled back: so is any offboarding it recorded, which the batch, read again, records again.
      this.loadOffboarded();
      throw err;
    }
    this.writes++;
    this.pruneDue();
  }

  /**
   * Every row of an offboarded client up to its offboarding at `at` (its offboarding audit, written after this,
   * stays), and the offboarding remembered so that older records read later are not inserted.
   */
  private forgetClient(client_id: string, at: string): void {
    // An earlier offboarding read again (a replay) leaves the later one in force.
    const before = this.offboarded.get(client_id);
    const until = before !== undefined && before > at ? before : at;
    this.offboarded.set(client_id, until);
    this.q("INSERT INTO offboarded VALUES (?, ?) ON CONFLICT DO UPDATE SET at = excluded.at").run(client_id, until);
    for (const [table, time] of Object.entries(ROW_TIME))
      this.q(`DELETE FROM ${table} WHERE client_id = ? AND ${time} <= ?`).run(client_id, until);
  }

  /** Whether a record is of an offboarded client and from no later than its offboarding (which itself is kept). */
  private forgotten(role: TopicRole, value: Row): boolean {
    const at = this.offboarded.get(String(value.client_id));
    const field = RECORD_TIME[role];
    if (at === undefined || field === undefined || value.action === CLIENT_OFFBOARDED) return false;
    return String(value[field]) <= at;
  }

  private prunedAt = 0;

  private pruneDue(): void {
    const now = Date.now();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    this.prune(now);
  }

  /**
   * Drops what the topics no longer hold: drift events, audit entries and dead letters older than their topic's
   * retention at `now` (the configured one, or the topic's default). Returns the rows removed per table.
   */
  prune(now: number): { drift_events: number; audit: number; dead_letters: number; predictions: number } {
    const cutoff = (role: TopicRole) => now - retentionOf(role, this.o.retention)!;
    const removed = this.db.transaction(() => ({
      drift_events: this.q("DELETE FROM drift_events WHERE json_extract(json, '$.timestamp') < ?").run(
        isoTime(cutoff("drift-events")),
      ).changes,
      audit: this.q("DELETE FROM audit WHERE at < ?").run(isoTime(cutoff("audit"))).changes,
      dead_letters: this.q("DELETE FROM dead_letters WHERE at < ?").run(cutoff("dlq")).changes,
      predictions: this.q("DELETE FROM predictions WHERE at < ?").run(isoTime(cutoff("drift-predictions"))).changes,
    }))();
    if (removed.drift_events + removed.audit + removed.dead_letters + removed.predictions > 0) this.writes++;
    return removed;
  }

  /**
   * Dead letters by where they came from and why (the headers dlq.ts writes), one row per DLQ record so a batch read
   * again after a restart counts once; rows older than the topic's retention go, as the records do.
   */
  private applyDeadLetters(records: InRecord[]): void {
    const header = (r: InRecord, name: string) => r.headers[name]?.toString("utf8") ?? "";
    const tx = this.db.transaction(() => {
      for (const r of records) {
        this.q("INSERT OR IGNORE INTO dead_letters VALUES (?, ?, ?, ?, ?, ?)").run(
          r.partition,
          Number(r.offset),
          header(r, "blackwell.source.topic") || "unknown",
          header(r, "blackwell.error.code") || "unknown",
          r.timestamp,
          header(r, "blackwell.error.message").slice(0, 1000),
        );
      }
    });
    tx();
    this.writes++;
    this.pruneDue();
  }

  /** Dead letters held (within the DLQ topic's retention): how many, and per source topic and error code. */
  deadLetters(): DeadLetters {
    const rows = this.q(
      `SELECT source_topic, code, COUNT(*) AS count, MAX(at) AS last_at,
              (SELECT message FROM dead_letters d2 WHERE d2.source_topic = d.source_topic AND d2.code = d.code ORDER BY at DESC LIMIT 1) AS last_message
         FROM dead_letters d GROUP BY source_topic, code ORDER BY count DESC, source_topic, code`,
    ).all() as Array<{ source_topic: string; code: string; count: number; last_at: number; last_message: string }>;
    return {
      total: rows.reduce((n, r) => n + r.count, 0),
      reasons: rows.map((r) => ({ ...r, last_at: new Date(r.last_at).toISOString() })),
    };
  }

  private async refreshHigh(): Promise<void> {
    for (const topic of [...REPLICATED.map(([role]) => this.o.names[role]), this.o.names.dlq]) {
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

  /** A client's predictions, newest first: those still open (`predicted`), or every one with its latest transition. */
  predictions(client_id: string, openOnly: boolean, limit: number): Row[] {
    const rows = openOnly
      ? this.q("SELECT json FROM predictions WHERE client_id = ? AND state = 'predicted' ORDER BY at DESC LIMIT ?").all(
          client_id,
          limit,
        )
      : this.q("SELECT json FROM predictions WHERE client_id = ? ORDER BY at DESC LIMIT ?").all(client_id, limit);
    return rows.map((r) => JSON.parse((r as { json: string }).json) as Row);
  }

  /**
   * Every drift transition of openings before `until` and every audit entry before it (ISO 8601 times), of one
   * client or all, in the order the topics hold them: what the compliance report is computed from.
   */
  reportRecords(client_id: string | null, until: string): { drifts: Row[]; audits: Row[] } {
    const rows = (table: "drift_events" | "audit") =>
      (client_id === null
        ? this.q(`SELECT json FROM ${table} WHERE at < ? ORDER BY rowid`).all(until)
        : this.q(`SELECT json FROM ${table} WHERE client_id = ? AND at < ? ORDER BY rowid`).all(client_id, until)
      ).map((r) => JSON.parse((r as { json: string }).json) as Row);
    return { drifts: rows("drift_events"), audits: rows("audit") };
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

  /**
   * The fleet: one row per known client (a desired state or a stack state), with its stacks counted by status and
   * its open drifts by severity, counted in SQLite (the stacks' JSON is never loaded into JS). `only` restricts it
   * to one client (a client token); `q` matches a substring of the client id; `status` keeps the clients with at
   * least one stack in that status. Answers the page asked for, the number of matching clients, and the totals of
   * every matching client.
   */
  fleet(o: FleetQuery): FleetResult {
    // Every viewer of the console polls this every few seconds: while nothing was written, the last answer stands.
    const at = `${this.writes}:${String(this.db.pragma("data_version", { simple: true }))}`;
    const key = JSON.stringify(o);
    const hit = this.fleetCache.get(key);
    if (hit?.at === at) return hit.result;
    const result = this.countFleet(o);
    if (this.fleetCache.size >= 64) this.fleetCache.delete(this.fleetCache.keys().next().value!);
    this.fleetCache.set(key, { at, result });
    return result;
  }

  private countFleet(o: FleetQuery): FleetResult {
    const where: string[] = [];
    const args: Record<string, unknown> = {};
    if (o.only !== null) {
      where.push("c.client_id = @only");
      args.only = o.only;
    }
    if (o.q) {
      where.push("c.client_id LIKE @q ESCAPE '\\'");
      args.q = `%${o.q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    }
    if (o.status) {
      if (!FLEET_STATUSES.includes(o.status)) throw new Error(`unknown stack status ${String(o.status)}`);
      where.push(`coalesce(a.${o.status}, 0) > 0`);
    }
    const filtered = `
      WITH per_stack AS (
        SELECT client_id, json_extract(json, '$.status') AS status,
               json_array_length(json, '$.drift_details') AS drifts,
               coalesce(json_extract(json, '$.consistency_score'), json_extract(json, '$.status') = 'healthy') AS score
          FROM stacks ${o.only !== null ? "WHERE client_id = @only" : ""}
      ),
      drift_rows AS (
        SELECT s.client_id, json_extract(d.value, '$.severity') AS sev
          FROM stacks s, json_each(s.json, '$.drift_details') d
          ${o.only !== null ? "WHERE s.client_id = @only" : ""}
      ),
      severities AS (
        SELECT client_id, sum(sev = 'low') AS low, sum(sev = 'medium') AS medium,
               sum(sev = 'high') AS high, sum(sev = 'critical') AS critical
          FROM drift_rows GROUP BY client_id
      ),
      agg AS (
        SELECT client_id, count(*) AS stacks,
               sum(status = 'healthy') AS healthy, sum(status = 'drift_detected') AS drift_detected,
               sum(status = 'reconciling') AS reconciling, sum(status = 'error') AS error,
               sum(drifts) AS open_drifts, sum(score) AS score_sum,
               max(CASE status WHEN 'error' THEN 3 WHEN 'drift_detected' THEN 2 WHEN 'reconciling' THEN 1 ELSE 0 END)
                 AS worst_rank
          FROM per_stack GROUP BY client_id
      ),
      known AS (SELECT client_id FROM desired UNION SELECT client_id FROM stacks),
      declared AS (SELECT client_id, count(*) AS declared FROM desired GROUP BY client_id),
      rows AS (
        SELECT c.client_id, coalesce(a.stacks, 0) AS stacks, coalesce(d.declared, 0) AS declared,
               coalesce(a.healthy, 0) AS healthy, coalesce(a.drift_detected, 0) AS drift_detected,
               coalesce(a.reconciling, 0) AS reconciling, coalesce(a.error, 0) AS error,
               coalesce(a.open_drifts, 0) AS open_drifts, coalesce(a.score_sum, 0) AS score_sum, coalesce(v.low, 0) AS low,
               coalesce(v.medium, 0) AS medium, coalesce(v.high, 0) AS high, coalesce(v.critical, 0) AS critical,
               a.worst_rank AS worst_rank,
               CASE WHEN coalesce(a.stacks, 0) = 0 THEN 1.0 ELSE 1.0 * a.healthy / a.stacks END AS health
          FROM known c LEFT JOIN agg a ON a.client_id = c.client_id LEFT JOIN declared d ON d.client_id = c.client_id
               LEFT JOIN severities v ON v.client_id = c.client_id
          ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      )`;
    const order = `${FLEET_SORT[o.sort]} ${o.order === "desc" ? "DESC" : "ASC"}, client_id ASC`;
    // The page and the totals of every matching client in one pass: the totals as window aggregates on each row.
    const TOTALS = ["stacks", "healthy", "drift_detected", "reconciling", "error", "open_drifts", "low", "medium"]
      .concat(["high", "critical", "score_sum"])
      .map((c) => `coalesce(sum(${c}) OVER (), 0) AS t_${c}`)
      .join(", ");
    const page = this.q(
      `${filtered} SELECT *, count(*) OVER () AS t_clients, ${TOTALS} FROM rows ORDER BY ${order} LIMIT @limit OFFSET @offset`,
    ).all({ ...args, limit: o.limit, offset: o.offset }) as Array<FleetSqlRow & Record<string, number>>;
    const sums = page[0]
      ? (Object.fromEntries(
          Object.entries(page[0])
            .filter(([k]) => k.startsWith("t_"))
            .map(([k, v]) => [k.slice(2), v]),
        ) as unknown as FleetSqlRow & { clients: number })
      : // Past the last page: the totals alone.
        (this.q(
          `${filtered} SELECT count(*) AS clients, coalesce(sum(stacks), 0) AS stacks, coalesce(sum(healthy), 0) AS healthy,
             coalesce(sum(drift_detected), 0) AS drift_detected, coalesce(sum(reconciling), 0) AS reconciling,
             coalesce(sum(error), 0) AS error, coalesce(sum(open_drifts), 0) AS open_drifts, coalesce(sum(low), 0) AS low,
             coalesce(sum(medium), 0) AS medium, coalesce(sum(high), 0) AS high, coalesce(sum(critical), 0) AS critical,
             coalesce(sum(score_sum), 0) AS score_sum
             FROM rows`,
        ).get(args) as FleetSqlRow & { clients: number });
    const clients = page.map((r) => ({
      client_id: r.client_id,
      stacks: r.stacks,
      declared_stacks: r.declared,
      statuses: statusCounts(r),
      open_drifts: driftCounts(r),
      worst_status: r.worst_rank === null ? null : WORST[r.worst_rank]!,
      health_score: r.stacks === 0 ? 1 : r.healthy / r.stacks,
      consistency_score: r.stacks === 0 ? 1 : r.score_sum / r.stacks,
    }));
    return {
      clients,
      total: sums.clients,
      totals: {
        stacks: sums.stacks,
        statuses: statusCounts(sums),
        open_drifts: driftCounts(sums),
        health_score: sums.stacks === 0 ? 1 : sums.healthy / sums.stacks,
        consistency_score: sums.stacks === 0 ? 1 : sums.score_sum / sums.stacks,
      },
    };
  }

  /**
   * Reconciliation over a window, counted in SQLite: per bucket the drifts `opened` and `resolved` (by the
   * transition's own time, the DriftEvent's `timestamp`: the `at` column holds `detected_at`, when the drift
   * opened), the heals that finished (`<action>:succeeded` / `<action>:failed` audits), the time to resolve of the
   * drifts resolved in the window (the resolution's time minus the latest `opened` of that drift_id before it, or the
   * event's `detected_at` when the opening is not in the replica) as nearest-rank percentiles, and the drifts open
   * now (the stacks' drift_details). `only`: one client, or null for every client.
   */
  reconciliation(o: { only: string | null; startMs: number; bucketMs: number; buckets: number }): ReconciliationCounts {
    const start = new Date(o.startMs).toISOString();
    const end = new Date(o.startMs + o.bucketMs * o.buckets).toISOString();
    const args = { only: o.only, start, end, startMs: o.startMs, bucketMs: o.bucketMs };
    const epochMs = (col: string) => `round((julianday(${col}) - 2440587.5) * 86400000.0)`;
    const moment = "json_extract(e.json, '$.timestamp')";
    const buckets = this.q(
      `SELECT max(0, min(@last, CAST((${epochMs(moment)} - @startMs) / @bucketMs AS INTEGER))) AS b,
              sum(e.transition = 'opened') AS opened, sum(e.transition = 'resolved') AS resolved
         FROM drift_events e
        WHERE ${moment} >= @start AND ${moment} < @end AND e.transition IN ('opened', 'resolved')
          AND (@only IS NULL OR e.client_id = @only)
        GROUP BY b`,
    ).all({ ...args, last: o.buckets - 1 }) as Array<{ b: number; opened: number; resolved: number }>;
    const actions = HEAL_ACTIONS.flatMap((a) => [`${a}:succeeded`, `${a}:failed`]);
    const heals = this.q(
      `SELECT coalesce(sum(action LIKE '%:succeeded'), 0) AS succeeded, coalesce(sum(action LIKE '%:failed'), 0) AS failed
         FROM audit WHERE at >= @start AND at < @end AND (@only IS NULL OR client_id = @only)
          AND action IN (${actions.map((a) => `'${a.replace(/'/g, "''")}'`).join(", ")})`,
    ).get(args) as { succeeded: number; failed: number };
    const ttr = this.q(
      `WITH resolved AS (
         SELECT (${epochMs(moment)} - ${epochMs(`coalesce((
                  SELECT max(json_extract(o.json, '$.timestamp')) FROM drift_events o
                   WHERE o.client_id = e.client_id AND o.drift_id = e.drift_id AND o.transition = 'opened'
                     AND json_extract(o.json, '$.timestamp') <= ${moment}), e.at)`)}) / 1000.0 AS s
           FROM drift_events e
          WHERE ${moment} >= @start AND ${moment} < @end AND e.transition = 'resolved'
            AND (@only IS NULL OR e.client_id = @only)
       ),
       ranked AS (SELECT s, row_number() OVER (ORDER BY s) AS rn, count(*) OVER () AS n FROM resolved)
       SELECT count(*) AS n, min(CASE WHEN rn * 100 >= 50 * n THEN s END) AS p50,
              min(CASE WHEN rn * 100 >= 90 * n THEN s END) AS p90, min(CASE WHEN rn * 100 >= 99 * n THEN s END) AS p99
         FROM ranked`,
    ).get(args) as { n: number; p50: number | null; p90: number | null; p99: number | null };
    const open = this.q(
      "SELECT coalesce(sum(json_array_length(json, '$.drift_details')), 0) AS n FROM stacks WHERE (@only IS NULL OR client_id = @only)",
    ).get({ only: o.only }) as { n: number };
    const byBucket = new Map(buckets.map((r) => [r.b, r]));
    return {
      buckets: Array.from({ length: o.buckets }, (_, i) => ({
        start: new Date(o.startMs + i * o.bucketMs).toISOString(),
        opened: byBucket.get(i)?.opened ?? 0,
        resolved: byBucket.get(i)?.resolved ?? 0,
      })),
      heals,
      time_to_resolve: { count: ttr.n, p50: ttr.p50, p90: ttr.p90, p99: ttr.p99 },
      open_drifts: open.n,
    };
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

export interface ReconciliationCounts {
  buckets: Array<{ start: string; opened: number; resolved: number }>;
  heals: { succeeded: number; failed: number };
  /** Seconds; null when no drift was resolved in the window. */
  time_to_resolve: { count: number; p50: number | null; p90: number | null; p99: number | null };
  open_drifts: number;
}

export const FLEET_STATUSES = ["healthy", "drift_detected", "reconciling", "error"] as const;
export type StackStatus = (typeof FLEET_STATUSES)[number];
/** By rank: the worst status of a client is the highest rank among its stacks. */
const WORST: StackStatus[] = ["healthy", "reconciling", "drift_detected", "error"];
/** Sort keys of the fleet and their SQL (whitelisted: never the caller's text). */
export const FLEET_SORT = {
  client_id: "client_id",
  stacks: "stacks",
  open_drifts: "open_drifts",
  worst_status: "coalesce(worst_rank, -1)",
  health: "health",
  consistency: "CASE WHEN stacks = 0 THEN 1.0 ELSE 1.0 * score_sum / stacks END",
} as const;

export interface FleetQuery {
  /** One client only (a client token), or null for every client. */
  only: string | null;
  q?: string | undefined;
  status?: StackStatus | undefined;
  sort: keyof typeof FLEET_SORT;
  order: "asc" | "desc";
  limit: number;
  offset: number;
}
export interface DriftCounts {
  total: number;
  low: number;
  medium: number;
  high: number;
  critical: number;
}
export interface FleetClient {
  client_id: string;
  /** Stacks the reconciler has evaluated (stack-state). */
  stacks: number;
  /** Stacks declared (desired-state). */
  declared_stacks: number;
  statuses: Record<StackStatus, number>;
  open_drifts: DriftCounts;
  /** null: no stack evaluated yet. */
  worst_status: StackStatus | null;
  /** Share of the client's stacks that are healthy (1 when none). */
  health_score: number;
  /** Mean of the client's stacks' state consistency scores (docs/architecture.md; 1 when none). */
  consistency_score: number;
}
export interface FleetResult {
  clients: FleetClient[];
  /** Clients matching the filter, on every page. */
  total: number;
  totals: FleetTotals;
}
export interface FleetTotals {
  stacks: number;
  statuses: Record<StackStatus, number>;
  open_drifts: DriftCounts;
  health_score: number;
  consistency_score: number;
}
interface FleetSqlRow {
  client_id: string;
  stacks: number;
  declared: number;
  healthy: number;
  drift_detected: number;
  reconciling: number;
  error: number;
  open_drifts: number;
  low: number;
  medium: number;
  high: number;
  critical: number;
  score_sum: number;
  worst_rank: number | null;
}
const statusCounts = (r: FleetSqlRow): Record<StackStatus, number> => ({
  healthy: r.healthy,
  drift_detected: r.drift_detected,
  reconciling: r.reconciling,
  error: r.error,
});
const driftCounts = (r: FleetSqlRow): DriftCounts => ({
  total: r.open_drifts,
  low: r.low,
  medium: r.medium,
  high: r.high,
  critical: r.critical,
});

function commandIdOf(audit: Row): string | null {
  try {
    const changes = JSON.parse(String(audit.changes_made_json)) as { command_id?: unknown };
    return typeof changes.command_id === "string" ? changes.command_id : null;
  } catch {
    return null;
  }
}
