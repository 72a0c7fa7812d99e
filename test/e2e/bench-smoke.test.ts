import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { inject } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

type Figures = Record<string, { value: number; unit: string } | string>;
interface Result {
  machine: { cores: number; node: string };
  options: { repeat: number };
  rounds: Array<{ round: number; order: string[]; figures: Figures }>;
  summary: Record<string, { min: number; median: number; max: number; unit: string }>;
  figures: Figures;
}

describe("benchmark smoke run (--events 20000 --repeat 2)", () => {
  it("produces every figure with its unit per round and summarized, and the drift counts the generator expects", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "blackwell-bench-")), "result.json");
    // Two rounds (the contenders in both orders) plus a short heal run: a few minutes on 2 busy cores.
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
        "--repeat",
        "2",
        "--heal-clients",
        "40",
        "--out",
        out,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, KAFKA_BROKERS: inject("kafkaBrokers"), SCHEMA_REGISTRY_URL: inject("registryUrl") },
        timeout: 380_000,
      },
    );
    const result = JSON.parse(readFileSync(out, "utf8")) as Result;
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.options.repeat).toBe(2);

    // The old shape stays: the medians as { value, unit }.
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
      expect(f.value, name).toBe(result.summary[name]!.median);
    }
    expect(result.figures.drift_counts_match).toBe("yes");
    const expected = (result.figures as unknown as { expected: { opened: number; resolved: number } }).expected;
    expect((result.figures.drift_opened as { value: number }).value).toBe(expected.opened);
    expect((result.figures.drift_resolved as { value: number }).value).toBe(expected.resolved);
    expect(expected.opened).toBeGreaterThan(100);

    // Every round kept, in alternating order, each with the generator's drift counts and the latency breakdown.
    expect(result.rounds.map((r) => r.round)).toEqual([1, 2]);
    expect(result.rounds[1]!.order).toEqual([...result.rounds[0]!.order].reverse());
    for (const r of result.rounds) {
      expect(r.figures.drift_counts_match, `round ${r.round}`).toBe("yes");
      expect((r.figures.drift_opened as { value: number }).value, `round ${r.round}`).toBe(expected.opened);
      expect((r.figures.drift_resolved as { value: number }).value, `round ${r.round}`).toBe(expected.resolved);
      for (const phase of ["queue", "process", "commit"]) {
        const f = r.figures[`latency_phase_${phase}_p99`] as { value: number; unit: string } | undefined;
        expect(f, `round ${r.round} ${phase}`).toBeDefined();
        expect(f!.value, `round ${r.round} ${phase}`).toBeGreaterThan(0);
        expect(f!.unit).toMatch(/bucket-estimated/);
      }
    }
    const t = result.summary.reconciler_throughput!;
    expect(t.min).toBeLessThanOrEqual(t.median);
    expect(t.median).toBeLessThanOrEqual(t.max);
    expect(result.summary.ratio_to_transactional_loop!.unit).toBe("x");
  }, 400_000);
});
