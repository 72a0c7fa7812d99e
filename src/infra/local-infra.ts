/**
 * Local infrastructure without Docker: a single-node Apache Kafka (KRaft,
 * combined broker + controller) and an Apicurio schema registry, both started
 * as plain Java processes from jars fetched from Maven Central by the pinned
 * poms under `infra/`.
 *
 * Everything a run owns lives under one directory (`.blackwell/local` by
 * default): data, logs, generated configs and `infra.json`, which records the
 * pids and ports so `up` is idempotent and `down` stops exactly what `up`
 * started.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { dirname, join, parse, resolve, sep } from "node:path";
import { createServer } from "node:net";
import { countBrokers } from "../adapters/kafka/probe.js";
import { BlackwellError } from "../errors.js";
import { freePort } from "./free-port.js";

export interface LocalInfraInfo {
  /** `host:port` of the broker's PLAINTEXT listener. */
  brokers: string;
  /** Base URL of the Confluent-compatible API of the registry. */
  registryUrl: string;
  kafkaPid: number;
  registryPid: number;
  /** Base URL of the local AWS API emulator (moto server): CodeBuild for the executors. */
  awsEndpoint: string;
  motoPid: number;
  motoPort: number;
  kafkaPort: number;
  controllerPort: number;
  registryPort: number;
  registryManagementPort: number;
  dir: string;
  /** `host:port` of the SASL_PLAINTEXT listener, when asked for. */
  saslBrokers?: string;
  saslPort?: number;
  /** `host:port` of the SSL listener, when asked for. */
  tlsBrokers?: string;
  tlsPort?: number;
}

export interface LocalInfraOptions {
  /** Project root, where `infra/` lives. */
  root: string;
  /** State directory of this instance. Default `<root>/.blackwell/local`. */
  dir?: string;
  /** Progress messages. Default: silent. */
  log?: (message: string) => void;
  /** How long to wait for each service to answer. Default 120 s. */
  startTimeoutMs?: number;
  /** Also open a SASL_PLAINTEXT (PLAIN) listener with these users (security tests). */
  saslUsers?: Record<string, string>;
  /** Also open an SSL listener with this PKCS12 keystore (security tests). */
  tlsKeystore?: { path: string; password: string };
}

const KAFKA_POM = "infra/kafka/pom.xml";
const REGISTRY_MANIFEST = "infra/registry/registry.json";
const MOTO_LOCK = "infra/moto/requirements.lock.txt";

interface RegistryManifest {
  version: string;
  url: string;
  sha1: string;
  runner: string;
}

export function defaultInfraDir(root: string): string {
  return process.env.BLACKWELL_HOME ?? join(root, ".blackwell", "local");
}

/**
 * Fetches the pinned Kafka and registry artifacts unless the copy on disk was
 * made from the same poms. Fast and idempotent on re-runs.
 */
export async function ensureArtifacts(root: string, log: (m: string) => void = () => {}): Promise<void> {
  await fetchOnce(root, KAFKA_POM, "infra/kafka/target/lib", ["dependency:copy-dependencies"], log);
  await fetchRegistry(root, log);
  await ensureMoto(root, log);
}

/** Seconds since `t0`, for progress lines. */
function since(t0: number): string {
  const s = (Date.now() - t0) / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

/** How often a long step says it is still at work. */
const PROGRESS_EVERY_MS = 15_000;

/**
 * Runs a set-up tool with its output captured: the caller's progress lines say what happens, every `PROGRESS_EVERY_MS`
 * `progress()` says it is still at work, and the output is shown only when the tool fails.
 */
function runQuietly(
  cmd: string,
  args: string[],
  cwd: string,
  progress: (output: string) => void,
): Promise<{ ok: boolean; exit: string; output: string }> {
  return new Promise((res) => {
    let output = "";
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 1_000_000) output = output.slice(-500_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setInterval(() => progress(output), PROGRESS_EVERY_MS);
    const done = (ok: boolean, exit: string) => {
      clearInterval(timer);
      res({ ok, exit, output });
    };
    child.once("error", (err) => done(false, err.message));
    child.once("close", (code, signal) => done(code === 0, String(code ?? signal)));
  });
}

function lastLines(output: string, n = 30): string {
  return output.trimEnd().split("\n").slice(-n).join("\n");
}

/** moto's command line cannot carry our dir; its program name and port identify it. */
function motoMarks(port: number): string[] {
  return ["moto_server", `-p ${port}`];
}

function motoServer(root: string): string {
  return join(root, "infra/moto/target/venv/bin/moto_server");
}

/** A Python virtualenv with the pinned moto server (every transitive version locked). */
async function ensureMoto(root: string, log: (m: string) => void): Promise<void> {
  const lock = join(root, MOTO_LOCK);
  const venv = join(root, "infra/moto/target/venv");
  const stamp = join(root, "infra/moto/target/.lock-sha256");
  const text = readFileSync(lock, "utf8");
  const digest = createHash("sha256").update(text).digest("hex");
  if (existsSync(motoServer(root)) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest) return;
  const packages = text.split("\n").filter((l) => /^[A-Za-z0-9]/.test(l)).length;
  const t0 = Date.now();
  log(`installing the moto server (${packages} Python packages pinned in ${MOTO_LOCK}) into a virtualenv...`);
  rmSync(join(root, "infra/moto/target"), { recursive: true, force: true });
  const python = process.env.PYTHON ?? "python3";
  const mk = spawnSync(python, ["-m", "venv", venv], { stdio: "inherit" });
  if (mk.status !== 0)
    throw new Error(`${python} -m venv failed (exit ${mk.status ?? mk.signal}); is Python 3 with venv installed?`);
  // pip says "Collecting <name>" once per package while it resolves and fetches, then installs them all at once.
  const pip = await runQuietly(
    join(venv, "bin/pip"),
    ["install", "--disable-pip-version-check", "--progress-bar", "off", "-r", lock],
    root,
    (output) => {
      const collected = output.match(/^Collecting /gm)?.length ?? 0;
      const phase = /^Installing collected packages/m.test(output)
        ? "installing them"
        : `${Math.min(collected, packages)} of ${packages} packages fetched`;
      log(`  still installing the moto server: ${phase} (${since(t0)})`);
    },
  );
  if (!pip.ok || !existsSync(motoServer(root)))
    throw new Error(
      `pip install -r ${MOTO_LOCK} failed (exit ${pip.exit}); is PyPI reachable? pip said:\n${lastLines(pip.output)}`,
    );
  writeFileSync(stamp, digest);
  log(`moto server installed in ${since(t0)}`);
}

function registryManifest(root: string): RegistryManifest {
  return JSON.parse(readFileSync(join(root, REGISTRY_MANIFEST), "utf8")) as RegistryManifest;
}

function registryRunner(root: string): string {
  const manifest = registryManifest(root);
  return join(root, "infra/registry/target", manifest.version, manifest.runner);
}

/** Downloads and unpacks the pinned registry distribution, verifying its SHA-1. */
async function fetchRegistry(root: string, log: (m: string) => void): Promise<void> {
  const manifest = registryManifest(root);
  if (existsSync(registryRunner(root))) return;
  const t0 = Date.now();
  const res = await fetch(manifest.url);
  if (!res.ok || !res.body) throw new Error(`download of ${manifest.url} failed: HTTP ${res.status}`);
  const total = Number(res.headers.get("content-length")) || 0;
  log(
    `fetching Apicurio Registry ${manifest.version} (${total ? megabytes(total) : "about 100 MB"}) from Maven Central...`,
  );
  const target = join(root, "infra/registry/target", manifest.version);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const archive = join(target, "dist.tar.gz");
  const hash = createHash("sha1");
  const fd = openSync(archive, "w");
  let received = 0;
  let lastLine = Date.now();
  let lastTenth = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      writeSync(fd, chunk);
      received += chunk.length;
      // A line per tenth, at most one every 3 s (a fast link prints few), and at least one every 10 s.
      const tenth = total ? Math.floor((received / total) * 10) : 0;
      const quiet = Date.now() - lastLine;
      if ((tenth > lastTenth && quiet >= 3_000) || quiet >= 10_000) {
        const share = total ? `${Math.floor((received / total) * 100)}%, ` : "";
        log(`  registry download ${share}${megabytes(received)} (${since(t0)})`);
        lastLine = Date.now();
        lastTenth = tenth;
      }
    }
  } finally {
    closeSync(fd);
  }
  const sha1 = hash.digest("hex");
  if (sha1 !== manifest.sha1) {
    rmSync(target, { recursive: true, force: true });
    throw new Error(`${manifest.url}: SHA-1 ${sha1} does not match the pinned ${manifest.sha1}`);
  }
  const tar = spawnSync("tar", ["xzf", archive, "-C", target], { stdio: "inherit" });
  rmSync(archive);
  if (tar.status !== 0 || !existsSync(registryRunner(root))) throw new Error(`unpacking ${manifest.url} failed`);
  log(`registry fetched: ${megabytes(received)} in ${since(t0)}`);
}

/** Runs `goals` on `pom` unless `product` exists and was made from this very pom. */
async function fetchOnce(
  root: string,
  pom: string,
  product: string,
  goals: string[],
  log: (m: string) => void,
): Promise<void> {
  const pomPath = join(root, pom);
  const stamp = join(dirname(pomPath), "target", ".pom-sha256");
  const digest = createHash("sha256").update(readFileSync(pomPath)).digest("hex");
  if (existsSync(join(root, product)) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest) return;
  const t0 = Date.now();
  log(`fetching the jars pinned in ${pom} with Maven (about 45 MB on a first run; Maven caches them in ~/.m2)...`);
  // The whole target dir: the dependency plugin's markers would otherwise skip the unpack.
  rmSync(join(dirname(pomPath), "target"), { recursive: true, force: true });
  const mvn = await runQuietly("mvn", ["-q", "-B", "-f", pomPath, ...goals], root, () =>
    log(`  still fetching with Maven (${since(t0)})`),
  );
  if (!mvn.ok) {
    throw new Error(
      `mvn ${goals.join(" ")} -f ${pom} failed (exit ${mvn.exit}); is Maven installed and Maven Central reachable? Maven said:\n${lastLines(mvn.output)}`,
    );
  }
  writeFileSync(stamp, digest);
  const jars = existsSync(join(root, product))
    ? readdirSync(join(root, product)).filter((f) => f.endsWith(".jar"))
    : [];
  const bytes = jars.reduce((sum, f) => sum + statSync(join(root, product, f)).size, 0);
  log(`${jars.length} jars (${megabytes(bytes)}) in ${product} in ${since(t0)}`);
}

export function javaBinary(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, "bin", "java") : "java";
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * True when `pid` is still one of our processes for `dir`: a recorded pid may
 * have been reused by an unrelated process since, and we must never signal that.
 */
function ownedBy(pid: number, ...marks: string[]): boolean {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    return marks.every((m) => cmdline.includes(m));
  } catch {
    return true; // no procfs: fall back to liveness
  }
}

function infoPath(dir: string): string {
  return join(dir, "infra.json");
}

/** The instance recorded in `dir`, if both of its processes are still alive. */
export function readRunningInfra(dir: string): LocalInfraInfo | undefined {
  if (!existsSync(infoPath(dir))) return undefined;
  const info = JSON.parse(readFileSync(infoPath(dir), "utf8")) as LocalInfraInfo;
  const alive =
    ownedBy(info.kafkaPid, info.dir) &&
    ownedBy(info.registryPid, info.dir) &&
    info.motoPid !== undefined &&
    ownedBy(info.motoPid, ...motoMarks(info.motoPort));
  return alive ? info : undefined;
}

/** Kafka's Uuid text form: 16 random bytes, URL-safe base64 without padding. */
export function kafkaClusterId(): string {
  // base64url may start with "-", which kafka-storage's argument parser takes for an option (seen in CI): draw again.
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

async function portOr(previous: number | undefined): Promise<number> {
  if (previous !== undefined) {
    const free = await new Promise<boolean>((res) => {
      const s = createServer();
      s.once("error", () => res(false));
      s.listen(previous, "127.0.0.1", () => s.close(() => res(true)));
    });
    if (free) return previous;
  }
  return freePort();
}

function writeServerProperties(
  dir: string,
  kafkaPort: number,
  controllerPort: number,
  sasl?: { port: number; users: Record<string, string> },
  tls?: { port: number; path: string; password: string },
): string {
  const path = join(dir, "kafka", "server.properties");
  const saslListener =
    (sasl ? `,SASL_PLAINTEXT://127.0.0.1:${sasl.port}` : "") + (tls ? `,SSL://127.0.0.1:${tls.port}` : "");
  const lines = [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${kafkaPort},CONTROLLER://127.0.0.1:${controllerPort}${saslListener}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${kafkaPort}${saslListener}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${sasl ? ",SASL_PLAINTEXT:SASL_PLAINTEXT" : ""}${tls ? ",SSL:SSL" : ""}`,
    ...(tls
      ? [
          `ssl.keystore.location=${tls.path}`,
          `ssl.keystore.password=${tls.password}`,
          "ssl.keystore.type=PKCS12",
          `ssl.key.password=${tls.password}`,
          "ssl.client.auth=none",
        ]
      : []),
    ...(sasl
      ? [
          "listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN",
          `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${Object.entries(
            sasl.users,
          )
            .map(([u, p]) => `user_${u}="${p}"`)
            .join(" ")};`,
        ]
      : []),
    `log.dirs=${join(dir, "kafka", "data")}`,
    "num.partitions=6",
    // Topics are created by our bootstrap with explicit settings; a typo must not create one.
    "auto.create.topics.enable=false",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=6",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=6",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "log.segment.bytes=67108864",
    "log.cleaner.dedupe.buffer.size=16777216",
  ];
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

export function spawnDetached(
  cmd: string,
  args: string[],
  logFile: string,
  cwd: string,
  env: Record<string, string> = {},
): number {
  const fd = openSync(logFile, "a");
  const child = spawn(cmd, args, { cwd, detached: true, stdio: ["ignore", fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  return child.pid;
}

export async function waitFor(
  what: string,
  timeoutMs: number,
  pid: number,
  logFile: string,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      throw new Error(`${what} exited during start-up; last log lines:\n${tail(logFile, 30)}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer within ${timeoutMs} ms; last log lines:\n${tail(logFile, 30)}`);
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
}

export async function kafkaAnswers(brokers: string): Promise<boolean> {
  return (await countBrokers([brokers])) > 0;
}

async function motoAnswers(url: string): Promise<boolean> {
  const res = await fetch(`${url}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

async function registryAnswers(url: string): Promise<boolean> {
  const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

/**
 * Starts Kafka and the registry under `dir`, or returns the instance already
 * running there. Ports are reused from the previous run when still free.
 */
/** Classpath and log4j option of the pinned Kafka jars. */
export function kafkaJava(root: string): { java: string; classpath: string; jvmLog: string } {
  const libDir = join(root, "infra/kafka/target/lib");
  return {
    java: javaBinary(),
    classpath: readdirSync(libDir)
      .filter((f) => f.endsWith(".jar"))
      .map((f) => join(libDir, f))
      .join(":"),
    jvmLog: `-Dlog4j2.configurationFile=${join(root, "infra/kafka/log4j2.properties")}`,
  };
}

export async function startLocalInfra(options: LocalInfraOptions): Promise<LocalInfraInfo> {
  const root = resolve(options.root);
  const dir = resolve(options.dir ?? defaultInfraDir(root));
  const log = options.log ?? (() => {});
  const timeout = options.startTimeoutMs ?? 120_000;
  const running = readRunningInfra(dir);
  if (running) {
    log(`already running: kafka ${running.brokers}, registry ${running.registryUrl}`);
    return running;
  }
  await ensureArtifacts(root, log);
  const previous = existsSync(infoPath(dir))
    ? (JSON.parse(readFileSync(infoPath(dir), "utf8")) as Partial<LocalInfraInfo>)
    : {};
  await stopPids(previous); // half-dead leftovers of an earlier run
  for (const sub of ["kafka/data", "registry", "logs"]) mkdirSync(join(dir, sub), { recursive: true });

  const kafkaPort = await portOr(previous.kafkaPort);
  const controllerPort = await portOr(previous.controllerPort);
  const registryPort = await portOr(previous.registryPort);
  const registryManagementPort = await portOr(previous.registryManagementPort);
  const motoPort = await portOr(previous.motoPort);
  const saslPort = options.saslUsers ? await portOr(previous.saslPort) : undefined;
  const tlsPort = options.tlsKeystore ? await portOr(previous.tlsPort) : undefined;

  const java = javaBinary();
  const libDir = join(root, "infra/kafka/target/lib");
  const classpath = readdirSync(libDir)
    .filter((f) => f.endsWith(".jar"))
    .map((f) => join(libDir, f))
    .join(":");
  const jvmLog = `-Dlog4j2.configurationFile=${join(root, "infra/kafka/log4j2.properties")}`;
  const props = writeServerProperties(
    dir,
    kafkaPort,
    controllerPort,
    options.saslUsers && saslPort ? { port: saslPort, users: options.saslUsers } : undefined,
    options.tlsKeystore && tlsPort ? { port: tlsPort, ...options.tlsKeystore } : undefined,
  );
  if (!existsSync(join(dir, "kafka", "data", "meta.properties"))) {
    log("formatting KRaft storage...");
    const format = spawnSync(
      java,
      [jvmLog, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", kafkaClusterId(), "-c", props],
      { encoding: "utf8" },
    );
    if (format.status !== 0) throw new Error(`kafka storage format failed: ${format.stderr || format.stdout}`);
  }
  const kafkaLog = join(dir, "logs", "kafka.log");
  const kafkaPid = spawnDetached(
    java,
    ["-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true", jvmLog, "-cp", classpath, "kafka.Kafka", props],
    kafkaLog,
    dir,
  );

  const registryLog = join(dir, "logs", "registry.log");
  const registryPid = spawnDetached(
    java,
    [
      "-Xms128m",
      "-Xmx512m",
      `-Dquarkus.http.port=${registryPort}`,
      "-Dquarkus.http.host=127.0.0.1",
      `-Dquarkus.management.port=${registryManagementPort}`,
      "-Dquarkus.management.host=127.0.0.1",
      // File-backed H2 so registered schemas survive a restart, like the Kafka data beside them.
      `-Dapicurio.datasource.url=jdbc:h2:file:${join(dir, "registry", "db")};DB_CLOSE_ON_EXIT=FALSE`,
      "-Dquarkus.log.level=WARN",
      "-jar",
      registryRunner(root),
    ],
    registryLog,
    dir,
  );

  // The dir in the arguments lets `ownedBy` recognise the process as ours.
  const motoLog = join(dir, "logs", "moto.log");
  const motoPid = spawnDetached(motoServer(root), ["-H", "127.0.0.1", "-p", String(motoPort)], motoLog, dir);

  const info: LocalInfraInfo = {
    brokers: `127.0.0.1:${kafkaPort}`,
    registryUrl: `http://127.0.0.1:${registryPort}/apis/ccompat/v7`,
    awsEndpoint: `http://127.0.0.1:${motoPort}`,
    kafkaPid,
    registryPid,
    motoPid,
    kafkaPort,
    controllerPort,
    registryPort,
    registryManagementPort,
    motoPort,
    dir,
    ...(saslPort ? { saslBrokers: `127.0.0.1:${saslPort}`, saslPort } : {}),
    ...(tlsPort ? { tlsBrokers: `127.0.0.1:${tlsPort}`, tlsPort } : {}),
  };
  writeFileSync(infoPath(dir), JSON.stringify(info, null, 2));
  try {
    const t0 = Date.now();
    log(`starting Kafka on ${info.brokers}, the registry and the moto server (logs in ${join(dir, "logs")})...`);
    const ready = (what: string, wait: Promise<void>) => wait.then(() => log(`  ${what} ready in ${since(t0)}`));
    await Promise.all([
      ready(
        "Kafka",
        waitFor("kafka", timeout, kafkaPid, kafkaLog, () => kafkaAnswers(info.brokers)),
      ),
      ready(
        "schema registry",
        waitFor("schema registry", timeout, registryPid, registryLog, () => registryAnswers(info.registryUrl)),
      ),
      ready(
        "moto server",
        waitFor("moto server", timeout, motoPid, motoLog, () => motoAnswers(info.awsEndpoint)),
      ),
    ]);
  } catch (err) {
    await stopPids(info);
    throw err;
  }
  return info;
}

export async function stopPid(
  pid: number | undefined,
  marks: Array<string | undefined>,
  graceMs: number,
): Promise<void> {
  if (pid === undefined || marks.some((m) => m === undefined) || !ownedBy(pid, ...(marks as string[]))) return;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
}

async function stopPids(info: Partial<LocalInfraInfo>): Promise<void> {
  await Promise.all([
    stopPid(info.registryPid, [info.dir], 10_000),
    stopPid(info.kafkaPid, [info.dir], 30_000),
    stopPid(info.motoPid, info.motoPort === undefined ? [undefined] : motoMarks(info.motoPort), 5_000),
  ]);
}

/** Stops what `startLocalInfra` started under `dir` (true if something ran); `purge` also deletes its data, running or not. */
export async function stopLocalInfra(dir: string, purge = false): Promise<boolean> {
  const running = existsSync(infoPath(dir));
  if (running) await stopPids(JSON.parse(readFileSync(infoPath(dir), "utf8")) as LocalInfraInfo);
  if (purge) rmSync(dir, { recursive: true, force: true });
  return running;
}

/**
 * Deletes the roles' local stores (`stateDir`: the reconciler's SQLite task stores, the API's replica). `down --purge`
 * left them, so the next demo restored a store that no longer matched the fresh (empty) Kafka and failed. A path
 * that could hold more than ours (the file-system root, the home directory, the project or one of its parents) is
 * refused, since `BLACKWELL_STATE_DIR` can point anywhere. Returns whether something was deleted.
 */
export function purgeStateDir(stateDir: string, root: string): boolean {
  const dir = resolve(stateDir);
  const project = resolve(root);
  if (dir === parse(dir).root || dir === resolve(homedir()) || project === dir || project.startsWith(dir + sep))
    throw new BlackwellError(
      "BLACKWELL_ERR_CONFIG",
      `refusing to delete ${dir} (BLACKWELL_STATE_DIR): it holds more than Blackwell's state`,
    );
  if (!existsSync(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

/** Stops only the broker of the instance under `dir` (fault tests); `startLocalInfra` brings the set back on the same ports. */
export async function stopLocalKafka(dir: string): Promise<void> {
  if (!existsSync(infoPath(dir))) return;
  const info = JSON.parse(readFileSync(infoPath(dir), "utf8")) as LocalInfraInfo;
  await stopPid(info.kafkaPid, [info.dir], 30_000);
}
