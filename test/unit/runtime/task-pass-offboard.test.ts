/** A task's pass around an offboarded client: it is deleted, and the desired-state tombstones after it change nothing. */
import { describe, expect, it } from "vitest";
import type { ClientState } from "../../../src/core/model/client-state.js";
import { TaskPass, type ClientLookup } from "../../../src/runtime/task-pass.js";
import { applied, command, t } from "../../support/core-spec.js";

function lookup(states: Record<string, ClientState> = {}): ClientLookup {
  return { get: (id) => states[id], dueBetween: () => [], nextDeadlineAfter: () => null };
}
const at = (offset: number) => ({ role: "commands", partition: 0, offset: String(offset), timestamp: t(offset) });
const removed = (seconds: number) => ({
  kind: "DesiredStateRemoved" as const,
  at: t(seconds),
  client_id: "acme-corp",
  stack_id: "cms-ecom-prod",
});

describe("a task's pass and offboarding", () => {
  it("marks an offboarded client forgotten, and a later input of the same pass brings it back", () => {
    const pass = new TaskPass(lookup(), t(0));
    pass.applyRecord(applied(t(1)), at(1), false);
    pass.applyRecord(command(t(2), "offboard"), at(2), false);
    expect([...pass.forgotten]).toEqual(["acme-corp"]);
    expect(pass.clients.get("acme-corp")!.stacks).toEqual({});
    pass.applyRecord(applied(t(3)), at(3), false);
    expect([...pass.forgotten]).toEqual([]);
  });

  it("takes the desired-state tombstone of a stack the client does not have as a no-op: no state is stored again", () => {
    const pass = new TaskPass(lookup(), t(0));
    pass.applyRecord(removed(1), at(1), false);
    expect(pass.clients.size).toBe(0);
    expect(pass.outputs.audits).toEqual([]);
    expect(pass.records).toBe(1);
  });
});
