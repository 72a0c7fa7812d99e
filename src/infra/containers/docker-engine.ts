/**
 * A Docker engine for the containers check and the testcontainers suite. Installs what is missing from Debian's
 * packages (docker.io, docker-compose, debootstrap) and starts `dockerd` when none answers, both only as root (CI and
 * our machines); elsewhere it says what to install instead. Never touches an engine that already runs.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";

export type Log = (message: string) => void;

/** How compose is invoked here: the v2 plugin (`docker compose`) when present, else the v1 `docker-compose`. */
export interface ComposeCommand {
  command: string;
  args: string[];
}

function runs(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: "ignore", timeout: 30_000 });
  return r.status === 0;
}

export function engineAnswers(): boolean {
  return runs("docker", ["info"]);
}

export function composeCommand(): ComposeCommand | null {
  if (runs("docker", ["compose", "version"])) return { command: "docker", args: ["compose"] };
  if (runs("docker-compose", ["version"])) return { command: "docker-compose", args: [] };
  return null;
}

const isRoot = () => process.getuid?.() === 0;

function aptInstall(packages: string[], log: Log): void {
  if (packages.length === 0) return;
  if (!isRoot())
    throw new Error(
      `missing ${packages.join(", ")}: install them (Debian: apt-get install ${packages.join(" ")}) or run as root`,
    );
  log(`installing ${packages.join(", ")} from Debian's packages...`);
  const t0 = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-q"], { stdio: ["ignore", "ignore", "inherit"], env });
  if (update.status !== 0) throw new Error(`apt-get update failed (exit ${update.status ?? update.signal})`);
  const install = spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...packages], {
    stdio: ["ignore", "ignore", "inherit"],
    env,
  });
  if (install.status !== 0)
    throw new Error(`apt-get install ${packages.join(" ")} failed (exit ${install.status ?? install.signal})`);
  log(`installed ${packages.join(", ")} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

/** The tools the containers path needs, installed when missing; `withDebootstrap` when a base image must be made. */
export function ensureDockerTools(log: Log, withDebootstrap: boolean): void {
  const missing: string[] = [];
  if (!runs("docker", ["--version"]) || (!engineAnswers() && !runs("dockerd", ["--version"])))
    missing.push("docker.io");
  if (!composeCommand()) missing.push("docker-compose");
  if (withDebootstrap && !runs("debootstrap", ["--version"])) missing.push("debootstrap");
  aptInstall(missing, log);
}

/** Starts `dockerd` (logging under `stateDir`) unless an engine answers; waits until it does. */
export async function ensureEngine(stateDir: string, log: Log, timeoutMs = 120_000): Promise<void> {
  if (engineAnswers()) return;
  if (!isRoot())
    throw new Error("no Docker engine answers (docker info): start one (dockerd runs as root), or run this as root");
  mkdirSync(stateDir, { recursive: true });
  const logFile = join(stateDir, "dockerd.log");
  log(`starting dockerd (log ${logFile})...`);
  const fd = openSync(logFile, "a");
  // Published ports that name no address bind to loopback only (testcontainers names none).
  const child = spawn("dockerd", ["--ip", "127.0.0.1"], { detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (engineAnswers()) return;
    if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`dockerd did not answer within ${timeoutMs / 1000} s; see ${logFile}`);
}

/** Whether `image` exists in the engine. */
export function imageExists(image: string): boolean {
  return runs("docker", ["image", "inspect", image]);
}

/**
 * Runs a command without blocking the event loop (a test worker blocked for a minute by a synchronous `compose down`
 * missed its own RPC deadline to vitest); answers its exit status and output, of which only the last `keepBytes`.
 */
export function runAsync(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; inherit?: boolean; keepBytes?: number } = {},
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; output: string }> {
  const keep = options.keepBytes ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: options.inherit ? "inherit" : ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let output = "";
    const add = (text: string, both: boolean) => {
      output = (output + text).slice(-keep);
      if (both) stdout = (stdout + text).slice(-keep);
    };
    child.stdout?.on("data", (d: Buffer) => add(d.toString("utf8"), true));
    child.stderr?.on("data", (d: Buffer) => add(d.toString("utf8"), false));
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout, output }));
  });
}

/** `must`, without blocking the event loop. */
export async function mustAsync(
  command: string,
  args: string[],
  what: string,
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  const r = await runAsync(command, args, { ...options, inherit: true });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${command} ${args.join(" ")}`);
}

/** Runs a docker (or compose) command with its output on ours; throws with `what` when it fails. */
export function must(command: string, args: string[], what: string, options: { env?: NodeJS.ProcessEnv } = {}): void {
  const r = spawnSync(command, args, { stdio: "inherit", env: options.env ?? process.env });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${command} ${args.join(" ")}`);
}
