/**
 * A real Prometheus server (the Debian package's /usr/bin/prometheus) for one test: its own config, data directory
 * and loopback port, stopped (and its directory removed) by `stop`, or killed when the test worker exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/infra/free-port.js";

export interface PrometheusServer {
  url: string;
  pid: number;
  output: () => string;
  /** GET /api/v1/<path> with `params`; the parsed body, whatever the status (errors carry `error`). */
  api: <T = unknown>(path: string, params?: Record<string, string | string[]>) => Promise<ApiAnswer<T>>;
  /** An instant query. */
  query: (expr: string) => Promise<ApiAnswer<{ resultType: string; result: Sample[] }>>;
  stop: () => Promise<void>;
}

export interface ApiAnswer<T> {
  httpStatus: number;
  status: "success" | "error";
  data: T;
  errorType?: string;
  error?: string;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});

/**
 * Starts Prometheus with `config` (YAML text; rule files by absolute path) on `o.port` (default: a free one) and
 * waits until it answers /-/ready.
 */
export async function startPrometheus(
  config: string,
  o: { port?: number; timeoutMs?: number } = {},
): Promise<PrometheusServer> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), "blackwell-test-prometheus-"));
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(configFile, config);
  const port = o.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const proc = spawn(
    "prometheus",
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=1h",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(proc);
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  const exited = new Promise<void>((res) =>
    proc.on("exit", () => {
      running.delete(proc);
      res();
    }),
  );
  const alive = () => proc.exitCode === null && proc.signalCode === null;

  const stop = async () => {
    if (alive()) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => alive() && proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const api = async <T>(path: string, params: Record<string, string | string[]> = {}): Promise<ApiAnswer<T>> => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) search.append(k, one);
    const res = await fetch(`${url}/api/v1/${path}?${search}`);
    const body = (await res.json()) as Omit<ApiAnswer<T>, "httpStatus">;
    return { httpStatus: res.status, ...body };
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) {
      await stop();
      throw new Error(`prometheus exited during start-up:\n${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: proc.pid!,
    output: () => output,
    api,
    query: (expr) => api("query", { query: expr }),
    stop,
  };
}
