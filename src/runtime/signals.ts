import type { KafkaAdmin } from "../adapters/kafka/port.js";
import { processMetrics } from "../observability/metrics.js";
import { startOpsServer } from "../observability/ops-server.js";

export interface RoleOps {
  admin: KafkaAdmin;
  groups: Array<{ groupId: string; topics: string[] }>;
  ready: () => boolean;
}

/** /healthz, /readyz, /metrics for the roles of this process on BLACKWELL_OPS_PORT (none when unset). */
export async function serveOps(roles: RoleOps[]): Promise<{ url: string; close: () => Promise<void> } | null> {
  const raw = process.env.BLACKWELL_OPS_PORT;
  if (!raw || roles.length === 0) return null;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`BLACKWELL_OPS_PORT must be a port number, got ${JSON.stringify(raw)}`);
  const ops = await startOpsServer({
    port,
    host: process.env.BLACKWELL_OPS_HOST ?? "127.0.0.1",
    metrics: processMetrics(),
    admin: roles[0]!.admin,
    groups: roles.flatMap((r) => r.groups),
    ready: () => roles.every((r) => r.ready()),
  });
  console.error(`ops endpoints on ${ops.url} (/healthz /readyz /metrics)`);
  return ops;
}

/** Stops on SIGTERM/SIGINT; exits non-zero if that takes longer than `graceMs`. */
export function stopOnSignals(stop: () => Promise<void>, graceMs = 20_000): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => {
      console.error(`graceful stop after ${signal} took longer than ${graceMs} ms; exiting`);
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => handler("SIGTERM"));
  process.on("SIGINT", () => handler("SIGINT"));
}

/** A role's process entry: start it, serve its ops endpoints, stop both gracefully on SIGTERM/SIGINT. */
export async function runRole(start: () => Promise<{ stop: () => Promise<void>; ops?: RoleOps }>): Promise<void> {
  const app = await start();
  const ops = app.ops ? await serveOps([app.ops]) : null;
  stopOnSignals(async () => {
    await ops?.close();
    await app.stop();
  });
}
