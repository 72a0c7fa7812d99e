import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const HOOKS = resolve(import.meta.dirname, "../../bin/ts-hooks.mjs");
const dir = mkdtempSync(join(tmpdir(), "blackwell-ts-hooks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A module that imports its sibling as `./x.js` (as the sources do) and throws from a known TypeScript line.
writeFileSync(
  join(dir, "helper.ts"),
  [
    "export interface Shape { size: number }",
    "export function grow(s: Shape): Shape {",
    "  return { size: s.size + 1 };",
    "}",
    "export function fail(): never {",
    '  throw new Error("failed on purpose");',
    "}",
  ].join("\n"),
);
writeFileSync(
  join(dir, "main.ts"),
  [
    'import { fail, grow, type Shape } from "./helper.js";',
    "class Box {",
    "  constructor(private readonly shape: Shape) {}",
    "  size(): number { return this.shape.size; }",
    "}",
    "console.log(new Box(grow({ size: 41 })).size());",
    'if (process.argv.includes("--fail")) fail();',
  ].join("\n"),
);

function run(cache: string, ...args: string[]) {
  return spawnSync(process.execPath, ["--import", HOOKS, join(dir, "main.ts"), ...args], {
    encoding: "utf8",
    env: { ...process.env, BLACKWELL_TS_CACHE: cache },
    timeout: 60_000,
  });
}

describe("bin/ts-hooks.mjs, how the product loads its TypeScript", () => {
  it("runs TypeScript modules that import each other as .js, with parameter properties", () => {
    const out = run(join(dir, "cache-a"));
    expect(out.stderr).toBe("");
    expect(out.stdout.trim()).toBe("42");
  });

  it("reports an error at its TypeScript file and line", () => {
    const out = run(join(dir, "cache-b"), "--fail");
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain("failed on purpose");
    expect(out.stderr).toMatch(/helper\.ts:6/);
  });

  it("keeps transpiled modules in a private cache and runs them from it", () => {
    const cache = join(dir, "cache-c");
    expect(run(cache).stdout.trim()).toBe("42");
    const files = readdirSync(cache).filter((f) => f.endsWith(".mjs"));
    expect(files).toHaveLength(2);
    // What the cache holds is what runs: a second start does not transpile again.
    for (const f of files) writeFileSync(join(cache, f), 'console.log("from the cache");');
    expect(run(cache).stdout.trim()).toBe("from the cache");
  });

  it("deletes cached modules not written for over 30 days, at most once a day", () => {
    const cache = join(dir, "cache-old");
    mkdirSync(cache, { mode: 0o700 });
    const old = join(cache, "0".repeat(64) + ".mjs");
    writeFileSync(old, "// a module transpiled from a source edited since");
    const longAgo = new Date(Date.now() - 40 * 86_400_000);
    utimesSync(old, longAgo, longAgo);
    expect(run(cache).stdout.trim()).toBe("42");
    expect(existsSync(old)).toBe(false);
    expect(readdirSync(cache).filter((f) => f.endsWith(".mjs"))).toHaveLength(2);
    // Within the day, another start leaves even an old file alone.
    writeFileSync(old, "// again");
    utimesSync(old, longAgo, longAgo);
    run(cache);
    expect(existsSync(old)).toBe(true);
  });

  it("never runs code from a cache directory that others can write to", () => {
    const shared = join(dir, "cache-shared");
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const out = run(shared);
    expect(out.stdout.trim()).toBe("42");
    expect(readdirSync(shared)).toEqual([]);
  });
});
