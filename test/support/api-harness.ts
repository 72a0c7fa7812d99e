/** Runs the HTTP API in the test process on a free port, over the harness's topics, with its own replica. */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import pino from "pino";
import { TokenAuth } from "../../src/api/auth.js";
import { Replica } from "../../src/api/replica.js";
import { buildApi } from "../../src/api/server.js";
import { createMetrics, type Metrics } from "../../src/observability/metrics.js";
import type { Harness } from "./reconciler-harness.js";
import type { WebhookConfig } from "../../src/gateway/webhook-config.js";

export interface TestApi {
  url: string;
  metrics: Metrics;
  replica: Replica;
  call: (
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
    headers?: Record<string, string>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of many shapes, asserted field by field
  ) => Promise<{ status: number; body: any; headers: Headers }>;
  stop: () => Promise<void>;
}

export async function startTestApi(
  h: Harness,
  tokens: string,
  options: {
    bodyLimit?: number;
    waitMs?: number;
    metrics?: Metrics;
    webhooks?: WebhookConfig;
    reconcilerGroup?: string;
  } = {},
): Promise<TestApi> {
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const replica = new Replica({
    kafka: h.ctx.kafka,
    admin: h.ctx.admin,
    serde: h.ctx.serde,
    names: h.ctx.names,
    log,
    path: join(h.stateDir, `api-${randomUUID()}.db`),
    groupId: `${h.config.topicPrefix}api-${randomUUID()}`,
  });
  await replica.start();
  const producer = await h.ctx.kafka.producer();
  const metrics = options.metrics ?? createMetrics();
  const { webhooks, ...rest } = options;
  const app = await buildApi({
    ctx: h.ctx,
    replica,
    auth: new TokenAuth(tokens),
    metrics,
    producer,
    log,
    ...rest,
    ...(webhooks ? { webhooks: { config: webhooks, producer } } : {}),
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    url,
    metrics,
    replica,
    call: async (method, path, token, body, headers = {}) => {
      const init: RequestInit = {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      };
      if (body !== undefined) {
        init.body = typeof body === "string" ? body : JSON.stringify(body);
        if (typeof body !== "string" && !headers["content-type"])
          (init.headers as Record<string, string>)["content-type"] = "application/json";
      }
      const res = await fetch(`${url}${path}`, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON: metrics text */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    stop: async () => {
      await app.close();
      await producer.disconnect();
      await replica.stop();
    },
  };
}
