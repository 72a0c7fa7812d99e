/**
 * The containers check: the compose stack built on the local base images, brought up on free loopback ports, the
 * demo scenario played against it from this machine through the published ports (`blackwell demo --external`), the
 * outcome read back through the stack's API, and everything taken down again.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ensureBaseImages, type BaseImages } from "./base-images.js";
import {
  apiUrl,
  buildStack,
  clientEnv,
  defineStack,
  downStack,
  imageSizes,
  logs,
  upAndHealthy,
  LONG_RUNNING,
  type ComposeStack,
} from "./compose-stack.js";
import { ensureDockerTools, ensureEngine, type Log } from "./docker-engine.js";

/** The token compose's API service accepts for acme-corp when BLACKWELL_API_TOKENS is not set. */
export const COMPOSE_ACME_TOKEN = "acme-local-token-0001";

/** Engine, tools and base images: everything before a build. */
export async function prepareContainers(root: string, log: Log): Promise<BaseImages> {
  ensureDockerTools(log, true);
  await ensureEngine(join(root, ".blackwell", "docker"), log);
  return ensureBaseImages(root, log);
}

export interface DemoRun {
  code: number | null;
  output: string;
}

/** `blackwell demo --external` against the stack, from this machine, through its published ports. */
export function playDemo(stack: ComposeStack, timeoutMs = 300_000): Promise<DemoRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...clientEnv(stack) };
  delete env.BLACKWELL_TOPIC_PREFIX;
  delete env.LOG_LEVEL;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(stack.root, "bin/blackwell.mjs"), "demo", "--external", "--api-url", apiUrl(stack)],
      { cwd: stack.root, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

interface StackStatus {
  stack_id: string;
  status: string;
}

/** The client's stacks as the stack's API answers them, once every one is healthy (or the deadline passes). */
export async function stacksFromApi(stack: ComposeStack, timeoutMs = 60_000): Promise<StackStatus[]> {
  const deadline = Date.now() + timeoutMs;
  let last: StackStatus[] = [];
  while (Date.now() < deadline) {
    const res = await fetch(`${apiUrl(stack)}/v1/clients/acme-corp/stacks`, {
      headers: { authorization: `Bearer ${COMPOSE_ACME_TOKEN}` },
      signal: AbortSignal.timeout(5000),
    }).catch(() => null);
    if (res?.ok) {
      const body = (await res.json()) as { stacks?: StackStatus[] } | StackStatus[];
      last = Array.isArray(body) ? body : (body.stacks ?? []);
      if (last.length > 0 && last.every((s) => s.status === "healthy")) return last;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return last;
}

export interface CheckReport {
  images: Record<string, number>;
  demo: DemoRun;
  stacks: StackStatus[];
  seconds: { prepare: number; build: number; up: number; demo: number; total: number };
}

/** The whole check; throws with the services' logs when a step fails. The stack is always taken down. */
export async function runContainersCheck(root: string, log: Log): Promise<CheckReport> {
  const t0 = Date.now();
  const images = await prepareContainers(root, log);
  const tPrepared = Date.now();
  const stack = await defineStack(root, `blackwell-check-${process.pid}`, images);
  try {
    await buildStack(stack, log);
    const tBuilt = Date.now();
    await upAndHealthy(stack, log);
    const tUp = Date.now();
    log(`playing the demo scenario against the stack (blackwell demo --external, API ${apiUrl(stack)})...`);
    const demo = await playDemo(stack);
    const tDemo = Date.now();
    if (demo.code !== 0)
      throw new Error(
        `the demo against the stack exited ${demo.code}:\n${demo.output}\n${await logs(stack, [...LONG_RUNNING])}`,
      );
    const stacks = await stacksFromApi(stack);
    return {
      images: await imageSizes(stack),
      demo,
      stacks,
      seconds: {
        prepare: (tPrepared - t0) / 1000,
        build: (tBuilt - tPrepared) / 1000,
        up: (tUp - tBuilt) / 1000,
        demo: (tDemo - tUp) / 1000,
        total: (Date.now() - t0) / 1000,
      },
    };
  } finally {
    log("taking the stack down (containers, network, volumes)...");
    await downStack(stack);
  }
}
