/**
 * Restore writes only the last version of each changelog key (a changelog not compacted yet holds many): what a
 * restored store holds must still be exactly what the changelog says last, tombstones included, with its position
 * and stream time, on the real broker.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { restoreFromChangelog } from "../../src/adapters/store/changelog-restore.js";
import { stateCodecOf } from "../../src/adapters/store/state-codec.js";
import { TaskStore } from "../../src/adapters/store/task-store.js";
import { desiredToAvro, toInput } from "../../src/adapters/kafka/records.js";
import type { OutRecord } from "../../src/adapters/kafka/port.js";
import type { ClientState } from "../../src/core/model/client-state.js";
import type { DesiredStack } from "../../src/core/model/desired.js";
import { TaskPass } from "../../src/runtime/task-pass.js";
import { desiredStack } from "../support/core-spec.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

let h: Harness | null = null;
const dirs: string[] = [];

afterEach(async () => {
  await h?.close();
  h = null;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A client's state after its desired stacks were applied at `at`, as the reconciler keeps it. */
function clientWith(client_id: string, stacks: DesiredStack[], at: number): ClientState {
  const pass = new TaskPass({ get: () => undefined, dueBetween: () => [], nextDeadlineAfter: () => null }, 0);
  stacks.forEach((desired, i) => {
    pass.take(at);
    pass.applyRecord(
      toInput("desired-state", `${client_id}/${desired.stack_id}`, desiredToAvro(desired) as never, at),
      { role: "desired-state", partition: 0, offset: String(i), timestamp: at },
      false,
    );
  });
  return pass.clients.get(client_id)!;
}

describe("changelog restore", () => {
  it("ends with the last version of every key: a value after values, a tombstone after a value, a value after a tombstone", async () => {
    h = await createHarness(1);
    const { names, kafka, serde } = h.ctx;
    const codec = stateCodecOf(serde);
    const base = Date.now() - 60_000;
    const web1 = desiredStack({ client_id: "a", stack_id: "web", state_version: "v1" });
    const web2 = desiredStack({ client_id: "a", stack_id: "web", state_version: "v2" });
    const old = desiredStack({ client_id: "a", stack_id: "old", state_version: "v1" });
    const shop = desiredStack({ client_id: "c", stack_id: "shop", state_version: "v7" });
    const a1 = clientWith("a", [web1, old], base);
    const a2 = clientWith("a", [web2], base + 1000);
    const b = clientWith("b", [desiredStack({ client_id: "b", stack_id: "web" })], base);
    const c = clientWith("c", [shop], base + 2000);
    const topic = names.changelog;
    const row = (key: string, body: Buffer | null): OutRecord => ({
      topic,
      key,
      partition: 0,
      value: body === null ? null : serde.frame(topic, body),
    });
    const records = [
      row("a", codec.encodeRuntime(a1, base + 100, base)),
      row("a/web", codec.encodeDesired(web1, base)),
      row("a/old", codec.encodeDesired(old, base)),
      row("b", codec.encodeRuntime(b, base + 300, base)),
      row("b/web", codec.encodeDesired(b.stacks.web!.desired, base)),
      row("c/shop", null),
      row("a", codec.encodeRuntime(a2, base + 200, base + 1000)),
      row("a/web", codec.encodeDesired(web2, base + 1000)),
      row("a/old", null),
      row("b", null),
      row("b/web", null),
      row("c", codec.encodeRuntime(c, null, base + 2000)),
      row("c/shop", codec.encodeDesired(shop, base + 2000)),
    ];
    const producer = await kafka.producer();
    await producer.send(records);
    await producer.disconnect();

    const dir = mkdtempSync(join(tmpdir(), "blackwell-restore-"));
    dirs.push(dir);
    const store = new TaskStore(join(dir, "task-0.db"), codec);
    try {
      const report = await restoreFromChangelog(kafka, serde, codec, topic, [{ partition: 0, store }], "restore-test");
      expect(report.records).toBe(records.length);
      const restoredA = store.get("a")!;
      expect(Object.keys(restoredA.stacks)).toEqual(["web"]);
      expect(restoredA.stacks.web!.desired.state_version).toBe("v2");
      expect(store.get("b")).toBeUndefined();
      expect(store.get("c")!.stacks.shop!.desired.state_version).toBe("v7");
      // a's deadline is its last one; b's went with it; c has none.
      expect(store.dueBetween(0, base + 1000)).toEqual([{ client_id: "a", deadline: base + 200 }]);
      expect(store.meta()).toEqual({ changelogNext: String(records.length), streamTime: base + 2000 });

      // From its position, a second restore has nothing left to read and changes nothing.
      const again = await restoreFromChangelog(kafka, serde, codec, topic, [{ partition: 0, store }], "restore-test");
      expect(again.records).toBe(0);
      expect(store.get("a")!.stacks.web!.desired.state_version).toBe("v2");
    } finally {
      store.close();
    }
  });

  it("stops at a record it cannot read, with the store's position never past it", async () => {
    h = await createHarness(1);
    const { names, kafka, serde } = h.ctx;
    const codec = stateCodecOf(serde);
    const base = Date.now() - 60_000;
    const web = desiredStack({ client_id: "a", stack_id: "web" });
    const a = clientWith("a", [web], base);
    const topic = names.changelog;
    const producer = await kafka.producer();
    await producer.send([
      { topic, key: "a", partition: 0, value: serde.frame(topic, codec.encodeRuntime(a, null, base)) },
      { topic, key: "a/web", partition: 0, value: serde.frame(topic, codec.encodeDesired(web, base)) },
      // Neither our framing nor JSON: restore cannot tell what it is.
      { topic, key: "a", partition: 0, value: Buffer.from([1, 2, 3, 4, 5, 6, 7]) },
    ]);
    await producer.disconnect();

    const dir = mkdtempSync(join(tmpdir(), "blackwell-restore-"));
    dirs.push(dir);
    const store = new TaskStore(join(dir, "task-0.db"), codec);
    try {
      await expect(
        restoreFromChangelog(kafka, serde, codec, topic, [{ partition: 0, store }], "restore-test"),
      ).rejects.toThrow();
      expect(BigInt(store.meta().changelogNext)).toBeLessThanOrEqual(2n);
    } finally {
      store.close();
    }
  });
});
