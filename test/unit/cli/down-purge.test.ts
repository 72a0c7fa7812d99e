/**
 * Issue 14 item 16: `down --purge` deleted the Kafka and registry data but left `.blackwell/state`, so the next demo
 * restored the reconciler's stores of the old cluster and failed. Runs the command as a user does, on temporary
 * directories, with nothing running (no Kafka needed).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { purgeStateDir } from "../../../src/infra/local-infra.js";
import { blackwell } from "../../support/cli.js";

const ROOT = resolve(import.meta.dirname, "../../..");

const bases: string[] = [];
afterAll(() => bases.forEach((b) => rmSync(b, { recursive: true, force: true })));

function localState() {
  const base = mkdtempSync(join(tmpdir(), "blackwell-purge-"));
  bases.push(base);
  const home = join(base, "local");
  const state = join(base, "state");
  mkdirSync(join(home, "kafka"), { recursive: true });
  mkdirSync(join(state, "reconciler-0"), { recursive: true });
  writeFileSync(join(state, "reconciler-0", "task.sqlite"), "stale");
  return { home, state };
}

describe("blackwell down --purge", () => {
  it("deletes the reconciler's local stores along with the Kafka and registry data", async () => {
    const { home, state } = localState();
    const res = await blackwell(["down", "--purge"], { BLACKWELL_HOME: home, BLACKWELL_STATE_DIR: state });
    expect(res.code, res.stderr).toBe(0);
    expect(existsSync(home)).toBe(false);
    expect(existsSync(state)).toBe(false);
    expect(res.stderr).toContain(`the local stores (${state})`);
  });

  it("keeps both without --purge", async () => {
    const { home, state } = localState();
    const res = await blackwell(["down"], { BLACKWELL_HOME: home, BLACKWELL_STATE_DIR: state });
    expect(res.code, res.stderr).toBe(0);
    expect(existsSync(home) && existsSync(state)).toBe(true);
  });

  it("refuses a state directory that holds more than Blackwell's state", () => {
    for (const dir of [ROOT, resolve(ROOT, ".."), homedir(), "/"])
      expect(() => purgeStateDir(dir, ROOT), dir).toThrow(/refusing to delete/);
    expect(existsSync(ROOT)).toBe(true);
  });
});
