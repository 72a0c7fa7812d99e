/**
 * /healthz, /readyz and /metrics for roles without the API (reconciler,
 * executor, notifier), on `BLACKWELL_OPS_PORT`. Also reports each consumer
 * group's lag (records behind the end of its input topics) at scrape time.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { KafkaAdmin } from "../adapters/kafka/port.js";
import { Gauge } from "prom-client";
import { errorMessage } from "../errors.js";
import type { Metrics } from "./metrics.js";

export interface OpsOptions {
  port: number;
  host?: string;
  metrics: Metrics;
  admin: KafkaAdmin;
  /** Consumer groups of this process and the topics they read. */
  groups: LaggingGroup[];
  /** Ready: connected and caught up enough to serve (e.g. the reconciler's stores restored). */
  ready: () => boolean;
}

export interface LaggingGroup {
  groupId: string;
  topics: string[];
  /**
   * Where the group started reading a partition it has committed nothing on yet. A group that starts at the
   * end (the notifier on drift-events) commits a partition only once a record arrives there; counted from 0,
   * such a partition showed its whole history as lag (the notifier's gauge stayed at 20 while caught up).
   * Default: 0 (a group that reads from the beginning).
   */
  startOffsets?: (topic: string) => ReadonlyMap<number, bigint> | undefined;
}

const lagGauges = new WeakMap<Metrics, Gauge<"group" | "topic">>();

/** Records behind per topic of `group`: sum over partitions of (end offset - committed or start offset). */
export async function consumerLag(admin: KafkaAdmin, group: LaggingGroup): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const topic of group.topics) {
    const committed = await admin.committedOffsets(group.groupId, topic);
    const started = group.startOffsets?.(topic);
    let lag = 0n;
    for (const { partition, high } of await admin.endOffsets(topic)) {
      const at = committed.get(partition) ?? started?.get(partition) ?? 0n;
      if (high > at) lag += high - at;
    }
    out.set(topic, Number(lag));
  }
  return out;
}

export async function startOpsServer(o: OpsOptions): Promise<{ url: string; close: () => Promise<void> }> {
  let gauge = lagGauges.get(o.metrics);
  if (!gauge) {
    gauge = new Gauge({
      name: "kafka_consumer_group_lag",
      help: "Records behind the end of each input topic, per consumer group",
      labelNames: ["group", "topic"],
      registers: [o.metrics.registry],
    });
    lagGauges.set(o.metrics, gauge);
  }
  const lagGauge = gauge;
  const server: Server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) =>
      res.writeHead(status, { "content-type": type }).end(body);
    if (req.url === "/healthz") return send(200, "application/json", JSON.stringify({ status: "ok" }));
    if (req.url === "/readyz") {
      const ready = o.ready();
      return send(ready ? 200 : 503, "application/json", JSON.stringify({ ready }));
    }
    if (req.url === "/metrics") {
      void (async () => {
        for (const g of o.groups) {
          try {
            for (const [topic, lag] of await consumerLag(o.admin, g)) lagGauge.set({ group: g.groupId, topic }, lag);
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
