import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const DIR = resolve(import.meta.dirname, "../../deploy/prometheus");

describe("the Prometheus alert rules (deploy/prometheus/alerts.yml)", () => {
  it("pass promtool check rules", () => {
    const res = spawnSync("promtool", ["check", "rules", "alerts.yml"], { cwd: DIR, encoding: "utf8" });
    expect(res.status, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain("SUCCESS: 8 rules found");
  });

  it("fire as the spec's alerting strategy says in promtool's unit tests", () => {
    const res = spawnSync("promtool", ["test", "rules", "alerts.test.yml"], { cwd: DIR, encoding: "utf8" });
    expect(res.status, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain("SUCCESS");
  });

  it("use only metric names the services export", async () => {
    const { readFileSync } = await import("node:fs");
    const { createMetrics } = await import("../../src/observability/metrics.js");
    const exported = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const rules = readFileSync(resolve(DIR, "alerts.yml"), "utf8");
    const used = [...rules.matchAll(/\b([a-z_]+_(?:total|seconds|score))(?:_bucket)?\b/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(5);
    for (const name of used) expect(exported.has(name), name).toBe(true);
  });
});
