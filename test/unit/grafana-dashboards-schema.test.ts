/**
 * The Grafana dashboards (deploy/grafana/dashboards) are well-formed dashboard JSON that Grafana provisions and whose
 * queries read only metrics the product exports; the provisioning files and the compose `monitoring` profile point at
 * them; deploy/prometheus/prometheus.yml scrapes every role. No Grafana and no Prometheus here: that every query
 * returns data from the real roles is test/integration/grafana-dashboards.test.ts.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createMetrics } from "../../src/observability/metrics.js";
import {
  BUILTIN_VARIABLES,
  DASHBOARD_FILES,
  ROOT,
  allPanels,
  loadDashboards,
  metricNames,
  panelQueries,
  variableQuery,
  variablesIn,
} from "../support/grafana-dashboards.js";

const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const dashboards = loadDashboards();
const DS_REF = { type: "prometheus", uid: "${datasource}" };
const DATA_PANELS = new Set(["timeseries", "stat", "gauge", "table", "bargauge"]);
const LAYOUT_PANELS = new Set(["row", "text"]);

interface ComposeService {
  image?: string;
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  command?: string[];
}
const compose = parse(read("docker-compose.yml"), { merge: true }) as { services: Record<string, ComposeService> };

/** Where compose mounts `hostDir` in `service` (read-only), or undefined. */
function mountTarget(service: string, hostDir: string): string | undefined {
  for (const v of compose.services[service]?.volumes ?? []) {
    const [host, target, mode] = v.split(":");
    if (posix.normalize(host!) === posix.normalize(hostDir)) {
      expect(mode, `${service} mounts ${hostDir} read-only`).toBe("ro");
      return target;
    }
  }
  return undefined;
}

/** Metric names a scrape of our roles can hold: the product's registry, the ops server's lag gauge, Prometheus's own. */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>(["kafka_consumer_group_lag", "up", "ALERTS"]);
  for (const m of await createMetrics().registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(m.name + s);
  }
  return names;
}

describe("metricNames (the PromQL name extraction the dashboard tests rely on)", () => {
  it("finds selected metrics and skips functions, keywords, labels, strings and numbers", () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, phase) (rate(reconciler_latency_phase_seconds_bucket{phase="fetch"}[$__rate_interval])))',
      ),
    ).toEqual(["reconciler_latency_phase_seconds_bucket"]);
    expect(
      metricNames(
        "sum(rate(a_total[5m])) / clamp_min(sum(rate(b_total[5m])) + sum without (x) (c), 1e-9) > 0.1 and on() up",
      ),
    ).toEqual(["a_total", "b_total", "c", "up"]);
    expect(metricNames('count(ALERTS{alertstate="firing", severity="critical"}) or vector(0)')).toEqual(["ALERTS"]);
    expect(metricNames('label_replace(x, "dst", "$1", "src", "(.*)")')).toEqual(["x"]);
  });
});

describe("the Grafana dashboards", () => {
  it("are the three the spec names, one file each", () => {
    expect(dashboards.map((d) => d.file).sort()).toEqual([...DASHBOARD_FILES].sort());
    expect(dashboards.map((d) => d.dashboard.title).sort()).toEqual([
      "Blackwell / Client Health",
      "Blackwell / Reconciliation",
      "Blackwell / System Overview",
    ]);
  });

  it("have a unique uid, a schema version Grafana 10/11 reads, a time range and no fixed id", () => {
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const { file, dashboard: d } of dashboards) {
      expect(typeof d.title === "string" && d.title.length > 0, file).toBe(true);
      expect(d.uid, file).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(d.schemaVersion, file).toBeGreaterThanOrEqual(36);
      expect(d.schemaVersion, file).toBeLessThanOrEqual(41);
      // Provisioned dashboards are matched by uid; a fixed numeric id would clash between Grafana instances.
      expect(d.id ?? null, file).toBeNull();
      expect(d.time, file).toMatchObject({ from: expect.any(String), to: "now" });
      expect(d.tags, file).toContain("blackwell");
    }
  });

  it("choose their data source with a $datasource variable of type datasource/prometheus", () => {
    for (const { file, dashboard: d } of dashboards) {
      const v = d.templating?.list?.find((x) => x.name === "datasource");
      expect(v, file).toMatchObject({ type: "datasource", query: "prometheus" });
    }
  });

  it("have panels with a unique id, a known type, a title and a place on the 24-column grid, none overlapping", () => {
    for (const { file, dashboard: d } of dashboards) {
      const panels = allPanels(d);
      expect(panels.length, file).toBeGreaterThan(5);
      const ids = panels.map((p) => p.id);
      for (const id of ids) expect(Number.isInteger(id) && (id as number) > 0, `${file} id ${String(id)}`).toBe(true);
      expect(new Set(ids).size, `${file}: panel ids are unique`).toBe(ids.length);
      const cells = new Map<string, string>();
      for (const p of panels) {
        const at = `${file} "${String(p.title)}"`;
        expect(
          DATA_PANELS.has(String(p.type)) || LAYOUT_PANELS.has(String(p.type)),
          `${at} type ${String(p.type)}`,
        ).toBe(true);
        expect(typeof p.title === "string" && p.title.length > 0, at).toBe(true);
        const { x, y, w, h } = p.gridPos ?? {};
        for (const n of [x, y, w, h]) expect(Number.isInteger(n), `${at} gridPos`).toBe(true);
        const [gx, gy, gw, gh] = [x, y, w, h] as number[];
        expect(
          gx! >= 0 && gy! >= 0 && gw! > 0 && gh! > 0 && gx! + gw! <= 24,
          `${at} gridPos ${JSON.stringify(p.gridPos)}`,
        ).toBe(true);
        for (let cx = gx!; cx < gx! + gw!; cx++)
          for (let cy = gy!; cy < gy! + gh!; cy++) {
            const other = cells.get(`${cx},${cy}`);
            expect(other, `${at} overlaps ${other}`).toBeUndefined();
            cells.set(`${cx},${cy}`, at);
          }
      }
    }
  });

  it("query Prometheus through the $datasource variable, with an expr and a unique refId per target and a unit", () => {
    for (const { file, dashboard: d } of dashboards) {
      for (const p of allPanels(d)) {
        const at = `${file} "${String(p.title)}"`;
        if (LAYOUT_PANELS.has(String(p.type))) {
          expect(p.targets ?? [], `${at}: a ${String(p.type)} panel queries nothing`).toEqual([]);
          continue;
        }
        expect(p.datasource, at).toEqual(DS_REF);
        expect((p.fieldConfig as { defaults?: { unit?: unknown } })?.defaults?.unit, `${at} unit`).toEqual(
          expect.any(String),
        );
        const targets = p.targets ?? [];
        expect(targets.length, at).toBeGreaterThan(0);
        const refIds = targets.map((t) => t.refId);
        expect(new Set(refIds).size, `${at} refIds`).toBe(refIds.length);
        for (const t of targets) {
          expect(t.refId, at).toMatch(/^[A-Z]$/);
          expect(typeof t.expr === "string" && t.expr.trim().length > 0, `${at} ${String(t.refId)} expr`).toBe(true);
          expect(t.datasource, `${at} ${String(t.refId)}`).toEqual(DS_REF);
        }
      }
    }
  });

  it("use only variables they declare or Grafana's built-ins", () => {
    for (const { file, dashboard: d } of dashboards) {
      const declared = new Set([...(d.templating?.list ?? []).map((v) => v.name), ...Object.keys(BUILTIN_VARIABLES)]);
      for (const q of panelQueries(file, d))
        for (const name of variablesIn(q.expr))
          expect(declared.has(name), `${q.panel} ${q.refId}: $${name}`).toBe(true);
    }
  });

  it("have query variables that list a label's values through the $datasource variable, with an All of .*", () => {
    const queryVariables = dashboards.flatMap(({ file, dashboard: d }) =>
      (d.templating?.list ?? []).filter((v) => v.type === "query").map((v) => ({ file, v })),
    );
    for (const { file, v } of queryVariables) {
      expect(v.datasource, `${file} $${v.name}`).toEqual(DS_REF);
      expect(variableQuery(v), `${file} $${v.name}`).toMatch(/^label_values\(\s*[a-zA-Z_:][\w:]*\s*,\s*\w+\s*\)$/);
      expect(v, `${file} $${v.name}`).toMatchObject({ includeAll: true, allValue: ".*" });
    }
    // The metrics carry no client label (src/observability/metrics.ts): no dashboard may pretend to filter by one.
    for (const { file, dashboard: d } of dashboards)
      expect(
        (d.templating?.list ?? []).map((v) => v.name),
        file,
      ).not.toContain("client");
  });

  it("read only metrics the roles export (a typo in a name fails here, before any Prometheus)", async () => {
    const exported = await exportedNames();
    const used = new Set<string>();
    for (const { file, dashboard: d } of dashboards) {
      for (const q of panelQueries(file, d)) {
        const names = metricNames(q.expr);
        expect(names.length, `${q.file} ${q.panel} ${q.refId}: selects no metric`).toBeGreaterThan(0);
        for (const n of names) {
          expect(exported.has(n), `${q.file} ${q.panel} ${q.refId}: ${n}`).toBe(true);
          used.add(n);
        }
      }
      for (const v of (d.templating?.list ?? []).filter((x) => x.type === "query")) {
        const metric = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,/.exec(variableQuery(v))?.[1];
        expect(metric !== undefined && exported.has(metric), `${file} $${v.name}: ${metric}`).toBe(true);
      }
    }
    // The spec's metrics each appear on some dashboard. Not active_reconciliations: no role sets it (always 0).
    for (const n of [
      "reconciliation_duration_seconds_bucket",
      "reconciliation_success_total",
      "reconciliation_failure_total",
      "drift_detected_total",
      "drift_resolved_total",
      "auto_heal_attempts_total",
      "auto_heal_success_total",
      "auto_heal_failure_total",
      "state_consistency_score",
      "event_processing_lag_seconds_bucket",
      "reconciler_latency_phase_seconds_bucket",
      "late_records_total",
      "dlq_records_total",
      "webhook_requests_total",
      "api_replica_lag_records",
      "notifications_total",
      "kafka_consumer_group_lag",
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
    ])
      expect(used.has(n), n).toBe(true);
  });
});

describe("Grafana provisioning and the compose monitoring profile", () => {
  const datasources = parse(read("deploy/grafana/provisioning/datasources/prometheus.yml")) as {
    apiVersion: number;
    datasources: Array<{ name: string; type: string; url: string; uid?: string; isDefault?: boolean }>;
  };
  const providers = parse(read("deploy/grafana/provisioning/dashboards/blackwell.yml")) as {
    apiVersion: number;
    providers: Array<{ name: string; type: string; options: { path: string } }>;
  };

  it("provisions the compose Prometheus as the default prometheus data source", () => {
    expect(datasources.apiVersion).toBe(1);
    const [ds] = datasources.datasources;
    expect(datasources.datasources).toHaveLength(1);
    expect(ds).toMatchObject({ type: "prometheus", url: "http://prometheus:9090", isDefault: true });
  });

  it("loads the dashboards from where compose mounts deploy/grafana/dashboards", () => {
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers).toHaveLength(1);
    const [provider] = providers.providers;
    expect(provider!.type).toBe("file");
    const mounted = mountTarget("grafana", "./deploy/grafana/dashboards");
    expect(mounted, "grafana mounts deploy/grafana/dashboards").toBeDefined();
    expect(posix.normalize(provider!.options.path)).toBe(posix.normalize(mounted!));
    expect(mountTarget("grafana", "./deploy/grafana/provisioning")).toBe("/etc/grafana/provisioning");
    const home = (compose.services.grafana as { environment?: Record<string, string> }).environment
      ?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    if (home) {
      expect(dirname(home)).toBe(posix.normalize(mounted!));
      expect(DASHBOARD_FILES as readonly string[]).toContain(posix.basename(home));
    }
  });

  it("runs Prometheus and Grafana only in the monitoring profile, pinned, on loopback, with the config mounted", () => {
    for (const [service, image, port] of [
      ["prometheus", /^prom\/prometheus:v\d+\.\d+\.\d+$/, "9090"],
      ["grafana", /^grafana\/grafana:\d+\.\d+\.\d+$/, "3000"],
    ] as const) {
      const s = compose.services[service]!;
      expect(s, service).toBeDefined();
      expect(s.profiles, service).toEqual(["monitoring"]);
      expect(s.image, service).toMatch(image);
      expect(s.ports, service).toEqual([expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:.*:${port}$`))]);
    }
    // Prometheus reads the config file (and, relative to it, the alert rules) from the mounted deploy/prometheus.
    const target = mountTarget("prometheus", "./deploy/prometheus");
    expect(target).toBeDefined();
    const configFlag = compose.services.prometheus!.command?.find((a) => a.startsWith("--config.file="));
    expect(configFlag).toBe(`--config.file=${posix.join(target!, "prometheus.yml")}`);
    // Every other service runs without a profile: `docker compose up` alone starts no monitoring.
    for (const [name, s] of Object.entries(compose.services))
      if (name !== "prometheus" && name !== "grafana") expect(s.profiles, name).toBeUndefined();
  });
});

describe("deploy/prometheus/prometheus.yml", () => {
  const config = parse(read("deploy/prometheus/prometheus.yml")) as {
    rule_files: string[];
    scrape_configs: Array<{
      job_name: string;
      metrics_path?: string;
      static_configs: Array<{ targets: string[] }>;
      metric_relabel_configs?: Array<{ source_labels: string[]; regex: string; action: string }>;
    }>;
  };
  const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name);

  it("scrapes every role on the compose network: ops endpoints on 9464, the API on 8080", () => {
    for (const [name, target] of [
      ["reconciler", "reconciler:9464"],
      ["executor", "executor:9464"],
      ["notifier", "notifier:9464"],
      ["api", "api:8080"],
    ] as const) {
      expect(
        job(name)?.static_configs.flatMap((s) => s.targets),
        name,
      ).toEqual([target]);
      expect(job(name)?.metrics_path ?? "/metrics", name).toBe("/metrics");
    }
  });

  it("drops the API-only gauges from the other roles (each process exports them at 0)", () => {
    for (const name of ["reconciler", "executor", "notifier"]) {
      const drop = job(name)?.metric_relabel_configs?.find((r) => r.action === "drop");
      expect(drop?.source_labels, name).toEqual(["__name__"]);
      const re = new RegExp(`^(?:${drop!.regex})$`);
      expect(re.test("state_consistency_score") && re.test("api_replica_lag_records"), name).toBe(true);
      expect(re.test("drift_detected_total"), name).toBe(false);
    }
    expect(job("api")?.metric_relabel_configs).toBeUndefined();
  });

  it("loads the alert rules beside it", () => {
    expect(config.rule_files).toEqual(["alerts.yml"]);
    expect(existsSync(join(ROOT, "deploy/prometheus", config.rule_files[0]!))).toBe(true);
  });
});
