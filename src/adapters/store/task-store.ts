/**
 * The SQLite store of one task (one partition number of the co-partitioned
 * input topics). A cache of the changelog: rows and the changelog position are
 * written in one SQLite transaction, only after the Kafka transaction that
 * produced the same rows committed, so the store never gets ahead of Kafka.
 * Rows are the changelog's Avro bodies (`StateCodec`): per client its runtime
 * state, per stack its desired state. A client row written as JSON text (by a
 * version before the split) is still read, and replaced on its next commit.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { ClientState } from "../../core/model/client-state.js";
import type { DesiredStack } from "../../core/model/desired.js";
import type { ClientLookup } from "../../runtime/task-pass.js";
import type { StateCodec } from "./state-codec.js";

/** A client's runtime row: an Avro body, JSON text (from before the split, restored as is), or null to delete. */
export interface ClientRow {
  client_id: string;
  body: Buffer | string | null;
  deadline: number | null;
}

/** A stack's desired-state row (Avro body), or null to delete. */
export interface DesiredRow {
  client_id: string;
  stack_id: string;
  body: Buffer | null;
}

export interface TaskMeta {
  /** Next changelog offset to restore from. */
  changelogNext: string;
  /** Largest event time seen on the task's partitions (epoch ms). */
  streamTime: number;
}

/** SQLite takes 64-bit integers; -Infinity ("from the beginning") becomes the smallest safe one. */
const bound = (ms: number) =>
  Number.isFinite(ms) ? Math.trunc(ms) : ms < 0 ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;

export class TaskStore implements ClientLookup {
  private readonly db: Database.Database;
  private readonly getRow: Database.Statement<[string], { state: string | Buffer }>;
  private readonly putRow: Database.Statement<[string, string | Buffer, number | null]>;
  private readonly deleteRow: Database.Statement<[string]>;
  private readonly getDesired: Database.Statement<[string], { stack_id: string; body: Buffer }>;
  private readonly putDesired: Database.Statement<[string, string, Buffer]>;
  private readonly deleteDesired: Database.Statement<[string, string]>;
  /**
   * Desired states known to be in the changelog as they are (decoded from a desired row, or written by a commit):
   * a pass that keeps a stack's desired object writes no desired row for it.
   */
  private readonly persisted = new WeakMap<DesiredStack, number>();
  private readonly dueRange: Database.Statement<[number, number], { client_id: string; deadline: number }>;
  private readonly nextDue: Database.Statement<[number], { deadline: number | null }>;
  private readonly getMeta: Database.Statement<[string], { value: string }>;
  private readonly putMeta: Database.Statement<[string, string]>;

  constructor(
    readonly path: string,
    private readonly codec: StateCodec,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    // The changelog is the durable copy; losing the last SQLite commit on power loss only means a longer restore.
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, state TEXT NOT NULL, deadline INTEGER);
      CREATE INDEX IF NOT EXISTS clients_deadline ON clients(deadline) WHERE deadline IS NOT NULL;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS desired (client_id TEXT NOT NULL, stack_id TEXT NOT NULL, body BLOB NOT NULL,
        PRIMARY KEY (client_id, stack_id)) WITHOUT ROWID;
    `);
    this.getRow = this.db.prepare("SELECT state FROM clients WHERE client_id = ?");
    this.putRow = this.db.prepare(
      "INSERT INTO clients (client_id, state, deadline) VALUES (?, ?, ?) ON CONFLICT(client_id) DO UPDATE SET state = excluded.state, deadline = excluded.deadline",
    );
    this.deleteRow = this.db.prepare("DELETE FROM clients WHERE client_id = ?");
    this.getDesired = this.db.prepare("SELECT stack_id, body FROM desired WHERE client_id = ?");
    this.putDesired = this.db.prepare(
      "INSERT INTO desired (client_id, stack_id, body) VALUES (?, ?, ?) ON CONFLICT(client_id, stack_id) DO UPDATE SET body = excluded.body",
    );
    this.deleteDesired = this.db.prepare("DELETE FROM desired WHERE client_id = ? AND stack_id = ?");
    this.dueRange = this.db.prepare(
      "SELECT client_id, deadline FROM clients WHERE deadline IS NOT NULL AND deadline > ? AND deadline <= ? ORDER BY deadline, client_id",
    );
    this.nextDue = this.db.prepare("SELECT MIN(deadline) AS deadline FROM clients WHERE deadline > ?");
    this.getMeta = this.db.prepare("SELECT value FROM meta WHERE key = ?");
    this.putMeta = this.db.prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    );
  }

  get(client_id: string): ClientState | undefined {
    return this.load(client_id)?.state;
  }

  /** A client's state with the bytes of its rows (what keeping it decoded is budgeted by). */
  load(client_id: string): { state: ClientState; bytes: number } | undefined {
    const row = this.getRow.get(client_id);
    if (!row) return undefined;
    if (typeof row.state === "string") return { state: JSON.parse(row.state) as ClientState, bytes: row.state.length };
    const desiredRows = this.getDesired.all(client_id);
    const state = this.codec.decodeClient(row.state, desiredRows);
    let bytes = row.state.length;
    for (const { stack_id, body } of desiredRows) {
      const desired = state.stacks[stack_id]?.desired;
      if (desired) this.persisted.set(desired, body.length);
      bytes += body.length;
    }
    return { state, bytes };
  }

  /** The row size of `desired` if it is in the changelog as it is (so a commit need not write it again). */
  persistedBytes(desired: DesiredStack): number | undefined {
    return this.persisted.get(desired);
  }

  meta(): TaskMeta {
    return {
      changelogNext: this.getMeta.get("changelog_next")?.value ?? "0",
      streamTime: Number(this.getMeta.get("stream_time")?.value ?? "0"),
    };
  }

  dueBetween(after: number, upTo: number): Array<{ client_id: string; deadline: number }> {
    return this.dueRange.all(bound(after), bound(upTo));
  }

  nextDeadlineAfter(after: number): number | null {
    return this.nextDue.get(bound(after))?.deadline ?? null;
  }

  /**
   * Rows already serialized (by the changelog writer or read from the changelog). `written` are the desired states
   * the rows carry, remembered as persisted once the rows are in.
   */
  commitRaw(
    rows: ClientRow[],
    changelogNext: string | undefined,
    streamTime?: number,
    desiredRows: DesiredRow[] = [],
    written: Array<[DesiredStack, number]> = [],
  ): void {
    this.db.transaction(() => {
      for (const _ of this.writes(rows, changelogNext, streamTime, desiredRows));
    })();
    for (const [desired, bytes] of written) this.persisted.set(desired, bytes);
  }

  /**
   * `commitRaw` in one SQLite transaction all the same, but letting other work run whenever `slice.due()`: at 100 000
   * stacks a pass writes about 6 000 rows, which held the event loop for 110 to 200 ms. Nothing else may use the
   * store until it settles (the task's work is serialized); on an error the transaction is rolled back.
   */
  async commitRawSliced(
    slice: { due(): boolean; pause(): Promise<void> },
    rows: ClientRow[],
    changelogNext: string | undefined,
    streamTime: number,
    desiredRows: DesiredRow[],
    written: Array<[DesiredStack, number]>,
  ): Promise<void> {
    this.db.exec("BEGIN");
    try {
      for (const _ of this.writes(rows, changelogNext, streamTime, desiredRows)) if (slice.due()) await slice.pause();
      this.db.exec("COMMIT");
    } catch (err) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      throw err;
    }
    for (const [desired, bytes] of written) this.persisted.set(desired, bytes);
  }

  /** The statements of a commit, one step per row. */
  private *writes(
    rows: ClientRow[],
    changelogNext: string | undefined,
    streamTime: number | undefined,
    desiredRows: DesiredRow[],
  ): Generator<void> {
    for (const row of rows) {
      if (row.body === null) this.deleteRow.run(row.client_id);
      else this.putRow.run(row.client_id, row.body, row.deadline);
      yield;
    }
    for (const row of desiredRows) {
      if (row.body === null) this.deleteDesired.run(row.client_id, row.stack_id);
      else this.putDesired.run(row.client_id, row.stack_id, row.body);
      yield;
    }
    if (changelogNext !== undefined) this.putMeta.run("changelog_next", changelogNext);
    if (streamTime !== undefined) this.putMeta.run("stream_time", String(streamTime));
  }

  close(): void {
    this.db.close();
  }
}
