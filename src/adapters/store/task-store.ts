/**
 * The SQLite store of one task (one partition number of the co-partitioned
 * input topics). A cache of the changelog: rows and the changelog position are
 * written in one SQLite transaction, only after the Kafka transaction that
 * produced the same rows committed, so the store never gets ahead of Kafka.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { ClientState } from "../../core/model/client-state.js";
import type { ClientLookup } from "../../runtime/task-pass.js";

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
  private readonly getRow: Database.Statement<[string], { state: string }>;
  private readonly putRow: Database.Statement<[string, string, number | null]>;
  private readonly deleteRow: Database.Statement<[string]>;
  private readonly dueRange: Database.Statement<[number, number], { client_id: string; deadline: number }>;
  private readonly nextDue: Database.Statement<[number], { deadline: number | null }>;
  private readonly getMeta: Database.Statement<[string], { value: string }>;
  private readonly putMeta: Database.Statement<[string, string]>;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    // The changelog is the durable copy; losing the last SQLite commit on power loss only means a longer restore.
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, state TEXT NOT NULL, deadline INTEGER);
      CREATE INDEX IF NOT EXISTS clients_deadline ON clients(deadline) WHERE deadline IS NOT NULL;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    this.getRow = this.db.prepare("SELECT state FROM clients WHERE client_id = ?");
    this.putRow = this.db.prepare(
      "INSERT INTO clients (client_id, state, deadline) VALUES (?, ?, ?) ON CONFLICT(client_id) DO UPDATE SET state = excluded.state, deadline = excluded.deadline",
    );
    this.deleteRow = this.db.prepare("DELETE FROM clients WHERE client_id = ?");
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
    const row = this.getRow.get(client_id);
    return row ? (JSON.parse(row.state) as ClientState) : undefined;
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

  /** Rows already serialized (by the changelog writer or read from the changelog). */
  commitRaw(
    rows: Array<{ client_id: string; json: string | null; deadline: number | null }>,
    changelogNext: string | undefined,
    streamTime?: number,
  ): void {
    this.db.transaction(() => {
      for (const row of rows) {
        if (row.json === null) this.deleteRow.run(row.client_id);
        else this.putRow.run(row.client_id, row.json, row.deadline);
      }
      if (changelogNext !== undefined) this.putMeta.run("changelog_next", changelogNext);
      if (streamTime !== undefined) this.putMeta.run("stream_time", String(streamTime));
    })();
  }

  close(): void {
    this.db.close();
  }
}
