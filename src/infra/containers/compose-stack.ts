/**
 * The compose stack (docker-compose.yml) driven from outside, as a user would: build its images on the base images,
 * bring it up under its own project name with its ports published on free loopback ports, wait until every service
 * is healthy, and take it down with its volumes.
 */
import { freePort } from "../free-port.js";
import { localAwsEnv } from "../connect.js";
import type { BaseImages } from "./base-images.js";
import { composeCommand, mustAsync, runAsync, type ComposeCommand, type Log } from "./docker-engine.js";

/** The services that keep running, each with a health check; `init` runs once and exits. */
export const LONG_RUNNING = [
  "kafka",
  "registry",
  "moto",
  "reconciler",
  "executor",
  "api",
  "notifier",
  "integration-api",
] as const;

export interface StackPorts {
  kafka: number;
  registry: number;
  moto: number;
  api: number;
}

export interface ComposeStack {
  root: string;
  project: string;
  ports: StackPorts;
  compose: ComposeCommand;
  env: NodeJS.ProcessEnv;
}

export async function defineStack(root: string, project: string, images: BaseImages): Promise<ComposeStack> {
  const compose = composeCommand();
  if (!compose) throw new Error("neither `docker compose` nor `docker-compose` is installed");
  const ports = { kafka: await freePort(), registry: await freePort(), moto: await freePort(), api: await freePort() };
  return {
    root,
    project,
    ports,
    compose,
    env: {
      ...process.env,
      COMPOSE_PROJECT_NAME: project,
      BLACKWELL_DEBIAN_IMAGE: images.debian,
      BLACKWELL_NODE_IMAGE: images.node,
      BLACKWELL_HOST_KAFKA_PORT: String(ports.kafka),
      BLACKWELL_HOST_REGISTRY_PORT: String(ports.registry),
      BLACKWELL_HOST_MOTO_PORT: String(ports.moto),
      BLACKWELL_HOST_API_PORT: String(ports.api),
    },
  };
}

/** What a client on this machine sets to reach the stack through its published ports. */
export function clientEnv(stack: ComposeStack): Record<string, string> {
  return {
    KAFKA_BROKERS: `127.0.0.1:${stack.ports.kafka}`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${stack.ports.registry}/apis/ccompat/v7`,
    ...localAwsEnv(`http://127.0.0.1:${stack.ports.moto}`),
  };
}

export function apiUrl(stack: ComposeStack): string {
  return `http://127.0.0.1:${stack.ports.api}`;
}

function composeArgs(stack: ComposeStack, args: string[]): string[] {
  return [...stack.compose.args, "-f", `${stack.root}/docker-compose.yml`, "-p", stack.project, ...args];
}

// Every command here runs without blocking the event loop: compose up, build and down take minutes on a loaded
// machine, and the stack's test runs in a vitest worker that must keep answering vitest meanwhile.

export async function compose(stack: ComposeStack, args: string[], what: string): Promise<void> {
  await mustAsync(stack.compose.command, composeArgs(stack, args), what, { env: stack.env });
}

async function composeOutput(stack: ComposeStack, args: string[]): Promise<string> {
  const r = await runAsync(stack.compose.command, composeArgs(stack, args), { env: stack.env });
  return r.status === 0 ? r.stdout : "";
}

/** Builds every image of the stack (cached layers make a rebuild quick). */
export async function buildStack(stack: ComposeStack, log: Log): Promise<void> {
  const t0 = Date.now();
  log("building the images (Kafka, registry, moto, product)...");
  // The build's own output is long (apt, npm, Maven): kept, and its end shown only when the build fails.
  const r = await runAsync(stack.compose.command, composeArgs(stack, ["build"]), { env: stack.env });
  if (r.status !== 0) {
    const tail = r.output.split("\n").slice(-60).join("\n");
    throw new Error(`compose build failed (exit ${r.status ?? r.signal}); its last lines:\n${tail}`);
  }
  log(`images built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

export interface ServiceState {
  service: string;
  status: string;
  health: string | null;
  exitCode: number;
}

export async function serviceStates(stack: ComposeStack): Promise<ServiceState[]> {
  const states: ServiceState[] = [];
  for (const service of [...LONG_RUNNING, "init"]) {
    const id = (await composeOutput(stack, ["ps", "-a", "-q", service])).trim().split("\n")[0];
    if (!id) continue;
    const r = await runAsync("docker", [
      "inspect",
      "--format",
      "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.ExitCode}}",
      id,
    ]);
    const [status = "unknown", health = "-", exitCode = "0"] = r.stdout.trim().split(" ");
    states.push({ service, status, health: health === "-" ? null : health, exitCode: Number(exitCode) });
  }
  return states;
}

/** Starts the stack and waits until `init` has succeeded and every long-running service is healthy. */
export async function upAndHealthy(stack: ComposeStack, log: Log, timeoutMs = 600_000): Promise<ServiceState[]> {
  const t0 = Date.now();
  log(
    `starting the stack (project ${stack.project}, Kafka on 127.0.0.1:${stack.ports.kafka}, API on ${apiUrl(stack)})...`,
  );
  await compose(stack, ["up", "-d"], "compose up");
  const deadline = t0 + timeoutMs;
  let states: ServiceState[] = [];
  while (Date.now() < deadline) {
    states = await serviceStates(stack);
    const init = states.find((s) => s.service === "init");
    if (init && init.status === "exited" && init.exitCode !== 0)
      throw new Error(`init exited with ${init.exitCode}:\n${await logs(stack, ["init"])}`);
    const healthy = LONG_RUNNING.every((svc) => states.find((s) => s.service === svc)?.health === "healthy");
    if (healthy && init?.status === "exited") {
      log(`every service healthy in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      return states;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  const unhealthy = LONG_RUNNING.filter((svc) => states.find((s) => s.service === svc)?.health !== "healthy");
  throw new Error(
    `not healthy within ${timeoutMs / 1000} s: ${unhealthy.join(", ")}\n${await logs(stack, [...unhealthy, "init"])}`,
  );
}

/** The last lines each service logged. */
export function logs(stack: ComposeStack, services: string[], tail = 40): Promise<string> {
  return composeOutput(stack, ["logs", "--no-color", "--tail", String(tail), ...services]);
}

/** Stops and removes the stack's containers, network and volumes. */
export async function downStack(stack: ComposeStack): Promise<void> {
  await compose(stack, ["down", "-v", "--remove-orphans", "-t", "20"], "compose down");
}

/** Sizes of the stack's images, in bytes. */
export async function imageSizes(stack: ComposeStack): Promise<Record<string, number>> {
  const config = await composeOutput(stack, ["config"]);
  const images = [...new Set([...config.matchAll(/^\s+image: (\S+)$/gm)].map((m) => m[1]!))];
  const sizes: Record<string, number> = {};
  for (const image of images) {
    const r = await runAsync("docker", ["image", "inspect", "--format", "{{.Size}}", image]);
    if (r.status === 0) sizes[image] = Number(r.stdout.trim());
  }
  return sizes;
}
