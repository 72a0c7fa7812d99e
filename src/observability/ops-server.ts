/**
 * /healthz, /readyz and /metrics for roles without the API (reconciler,
 * executor, notifier), on `BLACKWELL_OPS_PORT`. Also reports each consumer
 * group's lag (records behind the end of its input topics) at scrape time.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Admin } from "kafkajs";
import { Gauge } from "prom-client";
import { errorMessage } from "../errors.js";
import type { Metrics } from "./metrics.js";

export interface OpsOptions {
  port: number;
  host?: string;
  metrics: Metrics;
  admin: Admin;
  /** Consumer groups of this process and the topics they read. */
  groups: Array<{ groupId: string; topics: string[] }>;
  /** Ready: connected and caught up enough to serve (e.g. the reconciler's stores restored). */
  ready: () => boolean;
}

const lagGauges = new WeakMap<Metrics, Gauge<"group" | "topic">>();

/** Records behind per group and topic: sum over partitions of (end offset - committed offset). */
export async function consumerLag(admin: Admin, groupId: string, topics: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const committed = await admin.fetchOffsets({ groupId, topics });
  for (const t of committed) {
    const ends = new Map((await admin.fetchTopicOffsets(t.topic)).map((o) => [o.partition, BigInt(o.high)]));
    let lag = 0n;
    for (const p of t.partitions) {
      const end = ends.get(p.partition) ?? 0n;
      const at = BigInt(p.offset) < 0n ? 0n : BigInt(p.offset);
      if (end > at) lag += end - at;
    }
    out.set(t.topic, Number(lag));
  }
  return out;
}

export async function startOpsServer(o: OpsOptions): Promise<{ url: string; close: () => Promise<void> }> {
  let gauge = lagGauges.get(o.metrics);
  if (!gauge) {
    gauge = new Gauge({ name: "kafka_consumer_group_lag", help: "Records behind the end of each input topic, per consumer group", labelNames: ["group", "topic"], registers: [o.metrics.registry] });
    lagGauges.set(o.metrics, gauge);
  }
  const lagGauge = gauge;
  const server: Server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => res.writeHead(status, { "content-type": type }).end(body);
    if (req.url === "/healthz") return send(200, "application/json", JSON.stringify({ status: "ok" }));
    if (req.url === "/readyz") {
      const ready = o.ready();
      return send(ready ? 200 : 503, "application/json", JSON.stringify({ ready }));
    }
    if (req.url === "/metrics") {
      void (async () => {
        for (const g of o.groups) {
          try {
            for (const [topic, lag] of await consumerLag(o.admin, g.groupId, g.topics)) lagGauge.set({ group: g.groupId, topic }, lag);
          } catch (err) {
            // Lag is best effort; the rest of the metrics still answer.
            res.setHeader("x-blackwell-lag-error", errorMessage(err).slice(0, 200));
          }
        }
        send(200, o.metrics.registry.contentType, await o.metrics.registry.metrics());
      })();
      return;
    }
    send(404, "application/json", JSON.stringify({ error: "not found" }));
  });
  await new Promise<void>((r) => server.listen(o.port, o.host ?? "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${o.host ?? "127.0.0.1"}:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
