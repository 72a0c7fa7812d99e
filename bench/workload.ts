/**
 * Seeded workload generator: many clients with one or two stacks each, and a
 * realistic event mix (content updates of tracked and untracked types,
 * provider heartbeats, resource health, integration events, builds). About 1%
 * of events open a drift; most of those drifts are resolved later by a
 * matching observation. Two runs with the same seed produce the same stream,
 * and the generator knows how many drifts open and resolve.
 */
import type { DesiredStack } from "../src/core/model/desired.js";

export interface WorkloadOptions {
  events: number;
  clients: number;
  seed: number;
  /** Event time of event 0; each event is 1 ms after the previous unless `timestamps` overrides. */
  baseTime: number;
  /** Share of events that open a drift. Default 0.01. */
  driftRate?: number;
  /** Share of opened drifts that are resolved later in the stream. Default 0.8. */
  resolveRate?: number;
}

export type DriftKind = "resource" | "webhook" | "integration" | "provider";

export interface GeneratedEvent {
  topic: "provider-events" | "resource-events";
  key: string;
  value: Record<string, unknown>;
  /** Set on the event that makes a drift open (for latency measurement). */
  opens?: string;
}

export interface Expected {
  opened: number;
  resolved: number;
}

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400;
const CONFIG = {
  "catalog-hook": {
    url: "https://hooks.example/catalog",
    topics: ["products/update", "products/create"],
    format: "json",
  },
  "orders-hook": { url: "https://hooks.example/orders", topics: ["orders/create"], format: "json" },
  "search-hook": { url: "https://hooks.example/search", topics: ["collections/update"], format: "json" },
} as const;

export interface Stack {
  client_id: string;
  stack_id: string;
  environment: string;
}

export function clientId(i: number): string {
  return `client-${String(i).padStart(6, "0")}`;
}

/** One or two stacks per client (prod always, staging for about half). */
export function stacksOf(options: Pick<WorkloadOptions, "clients" | "seed">): Stack[] {
  const random = rng(options.seed ^ 0x51ac);
  const stacks: Stack[] = [];
  for (let i = 0; i < options.clients; i++) {
    const client_id = clientId(i);
    stacks.push({ client_id, stack_id: "web-prod", environment: "prod" });
    if (random() < 0.5) stacks.push({ client_id, stack_id: "web-staging", environment: "staging" });
  }
  return stacks;
}

export function desiredFor(stack: Stack, appliedAt: number): DesiredStack {
  return {
    ...stack,
    state_version: "v1.0.0",
    previous_versions: [],
    desired_hash: `bench-${stack.environment}`,
    applied_at: new Date(appliedAt).toISOString(),
    applied_by: "bench",
    source: "bench",
    providers: { cms: "sanity", ecommerce: "shopify", ssg: "codebuild" },
    integrations: Object.entries(CONFIG).map(([name, config]) => ({ name, config, ignore_paths: [] })),
    resources: [
      { name: "db", arn: `arn:aws:rds:eu-west-1:1:db:${stack.client_id}`, ignore_paths: [] },
      { name: "cdn", arn: `arn:aws:cloudfront::1:distribution/${stack.client_id}`, ignore_paths: [] },
    ],
    build_project: `site-${stack.client_id}-${stack.environment}`,
    content_types: ["product", "page"],
    // Windows longer than the stream: only injected drifts open.
    staleness: {
      provider_silence_seconds: DAY,
      resource_ttl_seconds: DAY,
      content_grace_seconds: DAY,
      webhook_failure_threshold: 3,
    },
    policy: {
      schedule: { interval: "1d", timezone: "UTC" },
      auto_heal: {
        enabled: false,
        max_attempts: 3,
        backoff_strategy: "exponential",
        backoff_base_seconds: 30,
        backoff_cap_seconds: 900,
        allowed_drift_types: [],
        require_approval: [],
      },
      notifications: { channels: [] },
      observability: { metrics_retention: "30d", detailed_logging: false, performance_tracking: false },
    },
  };
}

/**
 * The event stream. `at(i)` gives event i's time (default baseTime + i ms).
 * `expected` is filled in as the generator runs; read it after exhausting it,
 * or call `countExpected` for the numbers up front.
 */
export function* generateEvents(
  options: WorkloadOptions,
  expected: Expected,
  at: (i: number) => number = (i) => options.baseTime + i,
): Generator<GeneratedEvent> {
  const random = rng(options.seed);
  const stacks = stacksOf(options);
  const driftRate = options.driftRate ?? 0.01;
  const resolveRate = options.resolveRate ?? 0.8;
  const open = new Set<string>();
  /** Event index at which a drift's resolving events are emitted. */
  const resolves = new Map<number, Array<{ id: string; events: GeneratedEvent[] }>>();
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  let i = 0;
  let serial = 0;

  const provider = (
    s: Stack,
    provider_name: string,
    event_type: string,
    extra: Record<string, unknown> = {},
  ): GeneratedEvent => ({
    topic: "provider-events",
    key: s.client_id,
    value: {
      event_id: `e-${options.seed}-${serial++}`,
      client_id: s.client_id,
      stack_id: null,
      environment: s.environment,
      provider_name,
      provider_role: null,
      event_type,
      content_id: null,
      content_type: null,
      integration: null,
      timestamp: new Date(at(i)).toISOString(),
      payload_json: "{ }",
      ...extra,
    },
  });
  const resource = (s: Stack, resource_name: string, status: string): GeneratedEvent => ({
    topic: "resource-events",
    key: s.client_id,
    value: {
      event_id: `e-${options.seed}-${serial++}`,
      client_id: s.client_id,
      stack_id: null,
      environment: s.environment,
      resource_name,
      resource_arn: null,
      status,
      source: "bench",
      timestamp: new Date(at(i)).toISOString(),
      details_json: "{ }",
    },
  });
  const configured = (s: Stack, name: keyof typeof CONFIG, configuration: unknown) =>
    provider(s, "shopify", "integration.configured", {
      integration: name,
      payload_json: JSON.stringify({ configuration }),
    });

  const emit = (e: GeneratedEvent): GeneratedEvent => ({
    ...e,
    value: { ...e.value, timestamp: new Date(at(i)).toISOString() },
  });
  while (i < options.events) {
    const due = [...resolves.keys()].find((when) => when <= i);
    if (due !== undefined) {
      const closing = resolves.get(due)!;
      resolves.delete(due);
      for (const c of closing) {
        for (const e of c.events) {
          if (i >= options.events) return;
          yield emit(e);
          i++;
        }
        expected.resolved++;
        open.delete(c.id);
      }
      continue;
    }
    const s = pick(stacks);
    if (random() < driftRate) {
      const kind = pick<DriftKind>(["resource", "webhook", "integration", "provider"]);
      const id = `${s.client_id}/${s.stack_id}/${kind}`;
      if (!open.has(id)) {
        const [opening, closing] = driftEvents(kind, s);
        if (i + opening.length > options.events) return;
        for (const [n, e] of opening.entries()) {
          yield { ...emit(e), ...(n === opening.length - 1 ? { opens: id } : {}) };
          i++;
        }
        expected.opened++;
        open.add(id);
        if (random() < resolveRate) {
          const when = i + 100 + Math.floor(random() * 5000);
          resolves.set(when, [...(resolves.get(when) ?? []), { id, events: closing }]);
        }
        continue;
      }
    }
    const r = random();
    let e: GeneratedEvent;
    if (r < 0.25)
      e = provider(s, "sanity", "content.updated", {
        content_type: pick(["product", "page"]),
        content_id: `doc-${Math.floor(random() * 1e6)}`,
      });
    else if (r < 0.4)
      e = provider(s, "sanity", "content.updated", {
        content_type: "note",
        content_id: `doc-${Math.floor(random() * 1e6)}`,
      });
    else if (r < 0.6) e = provider(s, pick(["sanity", "shopify", "codebuild"]), "provider.heartbeat");
    else if (r < 0.8) e = resource(s, "cdn", "healthy");
    else if (r < 0.85) e = provider(s, "shopify", "webhook.delivered", { integration: "search-hook" });
    else if (r < 0.9) e = configured(s, "search-hook", CONFIG["search-hook"]);
    else
      e = provider(s, "codebuild", random() < 0.5 ? "build.started" : "build.succeeded", {
        payload_json: JSON.stringify({ build_id: `b-${s.client_id}-${Math.floor(i / 1000)}` }),
      });
    yield emit(e);
    i++;
  }

  function driftEvents(kind: DriftKind, s: Stack): [GeneratedEvent[], GeneratedEvent[]] {
    switch (kind) {
      case "resource":
        return [[resource(s, "db", "unhealthy")], [resource(s, "db", "healthy")]];
      case "webhook":
        return [
          [0, 1, 2].map(() => provider(s, "shopify", "webhook.failed", { integration: "orders-hook" })),
          [provider(s, "shopify", "webhook.delivered", { integration: "orders-hook" })],
        ];
      case "integration":
        return [
          [configured(s, "catalog-hook", { ...CONFIG["catalog-hook"], topics: ["products/update"] })],
          [configured(s, "catalog-hook", CONFIG["catalog-hook"])],
        ];
      case "provider":
        return [
          [provider(s, "contentful", "provider.connected", { provider_role: "cms" })],
          [provider(s, "sanity", "provider.connected", { provider_role: "cms" })],
        ];
    }
  }
}

/** Runs the generator once without keeping events, for the expected drift counts. */
export function countExpected(options: WorkloadOptions): Expected & { events: number } {
  const expected: Expected = { opened: 0, resolved: 0 };
  let events = 0;
  for (const _ of generateEvents(options, expected)) events++;
  return { ...expected, events };
}
