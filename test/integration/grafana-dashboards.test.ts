/**
 * The Grafana dashboards against a real Prometheus, without Grafana: the reconciler, executor, notifier and API run
 * as processes on the run's broker, a drift opens, is healed (CodeBuild on moto), notified and resolved, and a
 * Prometheus server started here scrapes them every second with deploy/prometheus/prometheus.yml (targets pointed at
 * the processes) and the alert rules. Then every query of every panel, with Grafana's variables substituted, must be
 * valid and return at least one series, every metric it names must have series, and every variable must list
 * values: a misspelt metric, label or function fails here.
 */
import { spawnSync } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { freePort } from "../../src/infra/free-port.js";
import { ensurePrometheus, ensurePromtool } from "../../src/infra/test-tools.js";
import { codebuildClient, createBuildProject } from "../support/aws.js";
import { startProcess, type Child } from "../support/child-process.js";
import { desiredStack } from "../support/core-spec.js";
import { resourceEventValue } from "../support/events.js";
import {
  ROOT,
  loadDashboards,
  metricNames,
  panelQueries,
  substitute,
  variableQuery,
  variableValues,
  type PanelQuery,
} from "../support/grafana-dashboards.js";
import { startPrometheus, type PrometheusServer, type Sample } from "../support/prometheus-server.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";

const PROMETHEUS_DIR = join(ROOT, "deploy/prometheus");
const CLIENT = "dash";
const GENERIC_SECRET = "grafana-test-generic-secret-0123";
const until = async <T>(what: string, deadline: number, probe: () => Promise<T | undefined>): Promise<T> => {
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
};

describe("deploy/prometheus/prometheus.yml", () => {
  it("passes promtool check config (with the alert rules it loads)", () => {
    ensurePromtool();
    const res = spawnSync("promtool", ["check", "config", "prometheus.yml"], { cwd: PROMETHEUS_DIR, encoding: "utf8" });
    expect(res.status, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain("SUCCESS: 8 rules found");
  });
});

describe("the Grafana dashboards' queries on a real Prometheus scraping every role", () => {
  let h: Harness;
  let cb: CodeBuildClient;
  let receiver: Server;
  let prometheus: PrometheusServer | undefined;
  const children: Child[] = [];
  const dirs: string[] = [];
  const notified: string[] = [];
  let apiUrl = "";

  beforeAll(async () => {
    ensurePrometheus((m) => console.log(`[test tools] ${m}`));
    h = await createHarness(3);
    cb = codebuildClient();
    const project = await createBuildProject(cb);
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        notified.push(body);
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

    // The stack first: the notifier learns its channels when it starts.
    const base = desiredStack();
    await h.produce("desired-state", "DesiredState", `${CLIENT}/web`, [
      desiredToAvro(
        desiredStack({
          client_id: CLIENT,
          stack_id: "web",
          applied_at: new Date().toISOString(),
          build_project: project,
          resources: [{ name: "db", arn: `arn:aws:rds:eu-west-1:1:db:${CLIENT}`, ignore_paths: [] }],
          policy: {
            ...base.policy,
            auto_heal: {
              ...base.policy.auto_heal,
              enabled: true,
              allowed_drift_types: ["resource_unhealthy"],
              backoff_base_seconds: 3600,
            },
            notifications: {
              channels: [
                { type: "webhook", webhook_url: `${receiverUrl}/hook`, addresses: [], severity_threshold: "high" },
              ],
            },
          },
        }),
      ),
    ]);

    const scratch = (name: string) => {
      const dir = mkdtempSync(join(tmpdir(), `blackwell-test-${name}-`));
      dirs.push(dir);
      return dir;
    };
    const webhooksFile = join(scratch("webhooks"), "webhooks.yaml");
    writeFileSync(
      webhooksFile,
      `sources:\n  - {provider: generic, match: ${CLIENT}, client_id: ${CLIENT}, environment: prod, secret: "${GENERIC_SECRET}"}\n`,
    );
    const common = {
      KAFKA_BROKERS: h.config.brokers.join(","),
      SCHEMA_REGISTRY_URL: h.config.registryUrl,
      BLACKWELL_TOPIC_PREFIX: h.config.topicPrefix,
      BLACKWELL_PARTITIONS: "3",
      LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? "warn",
    };
    const prefix = h.config.topicPrefix;
    const ports = {
      reconciler: await freePort(),
      executor: await freePort(),
      notifier: await freePort(),
      api: await freePort(),
    };
    const roles: Array<[keyof typeof ports, string, Record<string, string>]> = [
      [
        "reconciler",
        "processors/reconciler/main.ts",
        {
          BLACKWELL_APPLICATION_ID: `${prefix}reconciler`,
          BLACKWELL_STATE_DIR: scratch("reconciler"),
          BLACKWELL_OPS_PORT: String(ports.reconciler),
        },
      ],
      [
        "executor",
        "processors/executor/main.ts",
        {
          BLACKWELL_EXECUTOR_GROUP: `${prefix}executor`,
          BLACKWELL_SESSION_TIMEOUT_MS: "6000",
          BLACKWELL_BUILD_WATCH_INTERVAL_MS: "200",
          BLACKWELL_OPS_PORT: String(ports.executor),
        },
      ],
      [
        "notifier",
        "processors/notifier/main.ts",
        { BLACKWELL_NOTIFIER_GROUP: `${prefix}notifier`, BLACKWELL_OPS_PORT: String(ports.notifier) },
      ],
      [
        "api",
        "processors/api/main.ts",
        {
          BLACKWELL_API_TOKENS: "ops@*:grafana-test-token-0123456789",
          BLACKWELL_API_PORT: String(ports.api),
          BLACKWELL_API_INSTANCE: "grafana-test",
          BLACKWELL_STATE_DIR: scratch("api"),
          BLACKWELL_WEBHOOKS_FILE: webhooksFile,
        },
      ],
    ];
    for (const [, script, env] of roles) children.push(startProcess(script, { ...common, ...env }));
    apiUrl = `http://127.0.0.1:${ports.api}`;
    const deadline = Date.now() + 90_000;
    for (const [i, [role]] of roles.entries()) {
      const url = `http://127.0.0.1:${ports[role]}`;
      await until(`${role} to answer /metrics on ${url}`, deadline, async () => {
        if (children[i]!.proc.exitCode !== null) throw new Error(`${role} exited:\n${children[i]!.output()}`);
        const res = await fetch(`${url}/metrics`);
        return res.status === 200 ? true : undefined;
      }).catch((err: Error) => {
        throw new Error(`${err.message}\n${children[i]!.output()}`);
      });
    }

    // deploy/prometheus/prometheus.yml itself, its targets pointed at these processes, scraping every second.
    const config = parse(readFileSync(join(PROMETHEUS_DIR, "prometheus.yml"), "utf8")) as {
      global?: Record<string, unknown>;
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    config.global = { ...config.global, scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" };
    config.rule_files = config.rule_files.map((f) => join(PROMETHEUS_DIR, f));
    const promPort = await freePort();
    for (const job of config.scrape_configs) {
      const port = job.job_name === "prometheus" ? promPort : ports[job.job_name as keyof typeof ports];
      if (!port) throw new Error(`prometheus.yml scrapes ${job.job_name}, which this test does not run`);
      job.static_configs = [{ targets: [`127.0.0.1:${port}`] }];
    }
    expect(config.scrape_configs.map((j) => j.job_name).sort()).toEqual([...Object.keys(ports), "prometheus"].sort());
    prometheus = await startPrometheus(stringify(config), { port: promPort });
    await until("every target up", Date.now() + 60_000, async () => {
      const targets = await prometheus!.api<{ activeTargets: Array<{ labels: { job: string }; health: string }> }>(
        "targets",
      );
      const up = targets.data.activeTargets.filter((t) => t.health === "up").map((t) => t.labels.job);
      return up.length === config.scrape_configs.length ? true : undefined;
    });
  }, 240_000);

  afterAll(async () => {
    await prometheus?.stop();
    for (const c of children) await c.kill("SIGKILL");
    await new Promise((r) => receiver?.close(() => r(undefined)));
    cb?.destroy();
    await h?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("every panel query is valid and returns data once a drift was detected, healed, notified and resolved", async () => {
    const p = prometheus!;
    const value = async (expr: string) => {
      const r = await p.query(expr);
      return r.data.result.length > 0 ? Number(r.data.result[0]!.value[1]) : undefined;
    };
    const atLeast = (what: string, expr: string, min: number, deadline: number) =>
      until(what, deadline, async () => ((await value(expr)) ?? -1) >= min || undefined);

    // A provider heartbeat through the API's webhook gateway (webhook_requests_total), then the resource fails.
    const now = Date.now();
    const body = JSON.stringify({
      event_id: `heartbeat-${randomUUID()}`,
      event_type: "provider.heartbeat",
      provider_name: "sanity",
    });
    const t = Math.floor(now / 1000);
    const signature = createHmac("sha256", GENERIC_SECRET).update(`${t}.${body}`).digest("hex");
    const hook = await fetch(`${apiUrl}/webhooks/generic`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-blackwell-client": CLIENT,
        "x-blackwell-signature": `t=${t},v1=${signature}`,
      },
      body,
    });
    expect(hook.status, await hook.text()).toBe(202);
    await h.produce("resource-events", "ResourceEvent", CLIENT, [
      resourceEventValue({
        client_id: CLIENT,
        environment: "prod",
        resource_name: "db",
        status: "unhealthy",
        at: new Date(now + 1000),
      }),
    ]);
    const deadline = Date.now() + 90_000;
    await atLeast("the drift, as Prometheus sees it", 'sum(drift_detected_total{drift_type="resource"})', 1, deadline);
    await atLeast("the rebuild's success", 'sum(auto_heal_success_total{action="resource.rebuild"})', 1, deadline);
    await atLeast("the notification", 'sum(notifications_total{outcome="sent"})', 1, deadline);
    expect(notified.length).toBeGreaterThanOrEqual(1);
    // Healthy again, observed after the heal: the drift resolves.
    await h.produce("resource-events", "ResourceEvent", CLIENT, [
      resourceEventValue({
        client_id: CLIENT,
        environment: "prod",
        resource_name: "db",
        status: "healthy",
        at: new Date(Date.now() + 60_000),
      }),
    ]);
    await atLeast("the drift resolved", 'sum(drift_resolved_total{drift_type="resource"})', 1, deadline);
    await atLeast("webhook requests counted", "sum(webhook_requests_total)", 1, deadline);
    // The info alerts fire on the first drift and the first heal (the counters start at 0, not at 1).
    for (const alert of ["BlackwellDriftDetected", "BlackwellAutoHealSucceeded"])
      await atLeast(`${alert} firing`, `count(ALERTS{alertname="${alert}", alertstate="firing"})`, 1, deadline);

    // Every panel's query: valid, and at least one series. Retried until a deadline (rates need two samples in
    // their window); what still fails is reported all at once.
    const dashboards = loadDashboards();
    const queries: Array<PanelQuery & { promql: string }> = dashboards.flatMap(({ file, dashboard }) =>
      panelQueries(file, dashboard).map((q) => ({ ...q, promql: substitute(q.expr, variableValues(dashboard)) })),
    );
    expect(queries.length).toBeGreaterThan(40);
    const results = new Map<string, Sample[]>();
    const failures: string[] = [];
    const queryDeadline = Date.now() + 60_000;
    for (const q of queries) {
      expect(q.promql, `${q.file} ${q.panel} ${q.refId}: a variable left unsubstituted`).not.toContain("$");
      let problem = "";
      for (;;) {
        const r = await p.query(q.promql);
        if (r.status !== "success") problem = `invalid: ${r.errorType}: ${r.error}`;
        else if (r.data.result.length === 0) problem = "no series";
        else {
          results.set(`${q.file}|${q.panel}|${q.refId}`, r.data.result);
          problem = "";
        }
        // An invalid query stays invalid: no retry.
        if (!problem || problem.startsWith("invalid") || Date.now() > queryDeadline) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (problem) failures.push(`${q.file} "${q.panel}" ${q.refId}: ${problem}\n    ${q.promql}`);
    }
    // Every metric a query names has series (a name hidden behind `or vector(0)` included).
    const names = [...new Set(queries.flatMap((q) => metricNames(q.promql)))].sort();
    for (const name of names)
      if (((await value(`count({__name__="${name}"})`)) ?? 0) < 1) failures.push(`metric ${name}: no series`);
    expect(failures, failures.join("\n")).toEqual([]);

    // Every query variable lists values.
    for (const { file, dashboard } of dashboards)
      for (const v of (dashboard.templating?.list ?? []).filter((x) => x.type === "query")) {
        const [, metric, label] = /^label_values\(\s*([\w:]+)\s*,\s*(\w+)\s*\)$/.exec(variableQuery(v)) ?? [];
        const r = await p.api<string[]>(`label/${label}/values`, { "match[]": metric! });
        expect(r.data.length, `${file} $${v.name}`).toBeGreaterThan(0);
      }

    // What the dashboards show of this traffic.
    const shown = (file: string, panel: string, refId = "A") => {
      const r = results.get(`${file}|${panel}|${refId}`);
      return r ? Number(r[0]!.value[1]) : undefined;
    };
    expect(shown("client-health.json", "Drifts opened")).toBeGreaterThan(0.5);
    expect(shown("client-health.json", "Drifts resolved")).toBeGreaterThan(0.5);
    expect(shown("client-health.json", "Resource rebuilds succeeded")).toBeGreaterThan(0.5);
    expect(shown("reconciliation.json", "Auto-heal success rate")).toBe(1);
    expect(
      results.get("system-overview.json|Firing alerts|A")!.map((s) => s.metric.alertname),
      "the Firing alerts table",
    ).toEqual(expect.arrayContaining(["BlackwellDriftDetected", "BlackwellAutoHealSucceeded"]));
    expect(
      results
        .get("system-overview.json|Roles up|A")!
        .map((s) => s.metric.job)
        .sort(),
    ).toEqual(["api", "executor", "notifier", "reconciler"]);

    // The API-only gauges come from the API alone (prometheus.yml drops the other roles' zeros).
    const consistency = await p.query("count by (job) (state_consistency_score)");
    expect(consistency.data.result.map((s) => s.metric.job)).toEqual(["api"]);

    // The alert rules are loaded and evaluate without error.
    const rules = await p.api<{
      groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }>;
    }>("rules");
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all).toHaveLength(8);
    for (const r of all) expect(r.health, `${r.name}: ${r.lastError ?? ""}`).toBe("ok");
  }, 240_000);
});
