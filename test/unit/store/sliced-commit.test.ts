import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadSchemas } from "../../../src/adapters/kafka/schemas.js";
import { stateCodecOf } from "../../../src/adapters/store/state-codec.js";
import { TaskStore, type ClientRow } from "../../../src/adapters/store/task-store.js";
import { emptyClient } from "../../../src/core/model/client-state.js";

const types = loadSchemas();
const codec = stateCodecOf({ type: (name) => types.get(name)! });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function store(): TaskStore {
  const dir = mkdtempSync(join(tmpdir(), "blackwell-sliced-"));
  dirs.push(dir);
  return new TaskStore(join(dir, "task.db"), codec);
}

const row = (client_id: string, deadline: number | null = null): ClientRow => ({
  client_id,
  body: codec.encodeRuntime(emptyClient(client_id), deadline, 1),
  deadline,
});

/** A slice that is always due, counting the times it let other work run. */
function everyRow() {
  const slice = { pauses: 0, due: () => true, pause: async () => void slice.pauses++ };
  return slice;
}

describe("a pass's rows written to the task store in slices", () => {
  it("stores every row and the position in one transaction, letting other work run between rows", async () => {
    const s = store();
    const slice = everyRow();
    const rows = Array.from({ length: 50 }, (_, i) => row(`client-${i}`, i === 7 ? 5_000 : null));
    await s.commitRawSliced(slice, rows, "50", 42, [], []);
    expect(slice.pauses).toBeGreaterThanOrEqual(50);
    expect(s.meta()).toEqual({ changelogNext: "50", streamTime: 42 });
    expect(s.get("client-49")).toEqual(emptyClient("client-49"));
    expect(s.dueBetween(0, 10_000)).toEqual([{ client_id: "client-7", deadline: 5_000 }]);
    s.close();
  });

  it("leaves nothing of a commit that failed half way, keeps the last position, and takes the next commit", async () => {
    const s = store();
    s.commitRaw([row("client-a")], "1", 10);
    const broken = { client_id: "client-c", body: { not: "a row" }, deadline: null } as unknown as ClientRow;
    await expect(
      s.commitRawSliced(everyRow(), [row("client-b"), broken, row("client-d")], "4", 20, [], []),
    ).rejects.toThrow();
    expect(s.meta()).toEqual({ changelogNext: "1", streamTime: 10 });
    expect(s.get("client-b")).toBeUndefined();
    expect(s.get("client-a")).toEqual(emptyClient("client-a"));
    await s.commitRawSliced(everyRow(), [row("client-b")], "2", 11, [], []);
    expect(s.meta()).toEqual({ changelogNext: "2", streamTime: 11 });
    expect(s.get("client-b")).toEqual(emptyClient("client-b"));
    s.close();
  });
});
