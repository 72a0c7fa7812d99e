import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { inject } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

describe("benchmark smoke run (--events 20000)", () => {
  it("produces every figure with its unit, and the drift counts the generator expects", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "blackwell-bench-")), "result.json");
    await promisify(execFile)(
      process.execPath,
      [
        "--import",
        "tsx",
        "bench/run.ts",
        "--events",
        "20000",
        "--clients",
        "200",
        "--latency-seconds",
        "3",
        "--rate",
        "1000",
        "--out",
        out,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, KAFKA_BROKERS: inject("kafkaBrokers"), SCHEMA_REGISTRY_URL: inject("registryUrl") },
        timeout: 300_000,
      },
    );
    const result = JSON.parse(readFileSync(out, "utf8")) as {
      machine: { cores: number; node: string };
      figures: Record<string, { value: number; unit: string } | string>;
    };
    expect(result.machine.cores).toBeGreaterThan(0);
    for (const name of [
      "ceiling_consume_decode",
      "ceiling_transactional_loop",
      "reconciler_throughput",
      "latency_p50",
      "latency_p99",
      "latency_max",
      "replay_full_rebuild",
      "restore_all_partitions",
      "reconciler_peak_rss",
      "sqlite_per_10k_stacks",
    ]) {
      const f = result.figures[name] as { value: number; unit: string };
      expect(f, name).toBeDefined();
      expect(f.value, name).toBeGreaterThan(0);
      expect(f.unit, name).toMatch(/\S/);
    }
    expect(result.figures.drift_counts_match).toBe("yes");
    const expected = (result.figures as unknown as { expected: { opened: number; resolved: number } }).expected;
    expect((result.figures.drift_opened as { value: number }).value).toBe(expected.opened);
    expect((result.figures.drift_resolved as { value: number }).value).toBe(expected.resolved);
    expect(expected.opened).toBeGreaterThan(100);
  }, 300_000);
});
