/**
 * The prediction benchmark's workload: clients living over days of stream time (providers beating, resources
 * reporting, content published and built, webhooks delivering, with noise that looks like a precursor and is not:
 * a webhook delivery failing once or twice and then recovering), and injected incidents. A share of the incidents
 * come with a precursor (a provider slowing down before it falls silent, a resource that stops reporting, webhook
 * deliveries failing one after another, content no build is started for, a nightly job changing a webhook), the rest
 * without (a resource failing at once, a config changed at a random time, another CMS connected), and noise that
 * looks like a precursor and does not come true (a provider slowing down that recovers, a resource report late but
 * within its TTL, a webhook failing twice and recovering). The generator
 * knows each incident's drift id and whether it had a precursor. Seeded: the same seed gives the same workload.
 */
import { driftId } from "../src/core/ids.js";
import type { DesiredStack } from "../src/core/model/desired.js";
import type { InputRecord, ProviderEventObserved, ResourceEventObserved } from "../src/core/model/inputs.js";
import { driftTypeOf, type DriftKind } from "../src/core/model/vocabulary.js";
import { rng } from "./workload.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
export const STACK_ID = "web-prod";

export interface PredictWorkloadOptions {
  clients: number;
  days: number;
  seed: number;
  start: number;
}

/** An injected incident: the drift it opens, and whether anything announced it. */
export interface Incident {
  drift_id: string;
  client_id: string;
  kind: DriftKind;
  component: string;
  scenario: string;
  precursor: boolean;
  /** When the drift should open (from the generator's own timeline). */
  opens_at: number;
}

const HOOKS = {
  "orders-hook": { url: "https://hooks.example/orders", topics: ["orders/create"] },
  "catalog-hook": { url: "https://hooks.example/catalog", topics: ["products/update"] },
};

export function predictDesired(client_id: string, at: number): DesiredStack {
  return {
    client_id,
    stack_id: STACK_ID,
    environment: "prod",
    state_version: "v1.0.0",
    previous_versions: [],
    desired_hash: "predict-bench",
    applied_at: new Date(at).toISOString(),
    applied_by: "bench",
    source: "bench",
    providers: { cms: "sanity", ecommerce: "shopify", ssg: "codebuild" },
    integrations: Object.entries(HOOKS).map(([name, config]) => ({ name, config, ignore_paths: [] })),
    resources: [
      { name: "db", arn: `arn:aws:rds:eu-west-1:1:db:${client_id}`, ignore_paths: [] },
      { name: "cdn", arn: `arn:aws:cloudfront::1:distribution/${client_id}`, ignore_paths: [] },
    ],
    build_project: `site-${client_id}`,
    content_types: ["page"],
    staleness: {
      provider_silence_seconds: 3600,
      resource_ttl_seconds: 1800,
      content_grace_seconds: 1200,
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

export function predictWorkload(o: PredictWorkloadOptions): {
  records: InputRecord[];
  incidents: Incident[];
  noise: Array<{ client_id: string; at: number }>;
} {
  const random = rng(o.seed);
  const noise: Array<{ client_id: string; at: number }> = [];
  const records: InputRecord[] = [];
  // Event times are whole milliseconds, as record timestamps are.
  const push = (r: InputRecord) => records.push({ ...r, at: Math.round(r.at) } as InputRecord);
  const incidents: Incident[] = [];
  const end = o.start + o.days * DAY;
  let serial = 0;
  const jitter = (ms: number) => Math.round((random() - 0.5) * 2 * ms);

  for (let c = 0; c < o.clients; c++) {
    const client_id = `client-${String(c).padStart(5, "0")}`;
    const id = (kind: DriftKind, component: string) => driftId(client_id, STACK_ID, driftTypeOf(kind), component);
    const provider = (
      at: number,
      name: string,
      type: ProviderEventObserved["event_type"],
      extra: Partial<ProviderEventObserved> = {},
    ) =>
      push({
        kind: "ProviderEventObserved",
        at,
        event_id: `p-${o.seed}-${serial++}`,
        client_id,
        stack_id: null,
        environment: "prod",
        provider_name: name,
        provider_role: null,
        event_type: type,
        content_id: null,
        content_type: null,
        integration: null,
        payload: {},
        ...extra,
      });
    const resource = (at: number, name: string, status: ResourceEventObserved["status"]) =>
      push({
        kind: "ResourceEventObserved",
        at,
        event_id: `r-${o.seed}-${serial++}`,
        client_id,
        stack_id: null,
        environment: "prod",
        resource_name: name,
        status,
        source: "bench",
      });
    const configured = (at: number, name: keyof typeof HOOKS, config: unknown) =>
      provider(at, "shopify", "integration.configured", { integration: name, payload: { configuration: config } });
    const webhook = (at: number, name: string, ok: boolean) =>
      provider(at, "shopify", ok ? "webhook.delivered" : "webhook.failed", { integration: name });
    const incident = (kind: DriftKind, component: string, scenario: string, precursor: boolean, opens_at: number) =>
      incidents.push({
        drift_id: id(kind, component),
        client_id,
        kind,
        component,
        scenario,
        precursor,
        opens_at: Math.round(opens_at),
      });

    records.push({ kind: "DesiredStateApplied", at: o.start, desired: predictDesired(client_id, o.start) });

    // Quiet stretches (no baseline events) per provider or resource while an incident silences it.
    const quiet: Record<string, Array<[number, number]>> = {};
    const silence = (who: string, from: number, to: number) => (quiet[who] ??= []).push([from, to]);
    const silent = (who: string, at: number) => (quiet[who] ?? []).some(([a, b]) => at >= a && at < b);

    // Incidents: about one every three days, never two at once, the first after a day of history.
    const recurring = random() < 0.15;
    let at = o.start + DAY + random() * DAY;
    while (at < end - 6 * HOUR) {
      const draw = random();
      const precursor = draw < 0.55;
      if (draw >= 0.85) {
        // Noise that looks like a precursor and does not come true: a provider slowing down that recovers within
        // its window, or a resource report coming late but before its TTL.
        if (random() < 0.5) {
          let t = at;
          for (const gap of [5, 10, 20, 40]) {
            t += gap * MIN;
            provider(t, "shopify", "provider.heartbeat");
          }
          provider(t + 45 * MIN, "shopify", "provider.heartbeat");
          silence("shopify", at, t + 45 * MIN);
        } else {
          silence("db", at, at + 27 * MIN);
          resource(at, "db", "healthy");
          resource(at + 26 * MIN, "db", "healthy");
        }
        noise.push({ client_id, at });
      } else if (precursor) {
        const scenario = ["provider_slowing", "resource_stops", "webhook_failing", "build_late"][
          Math.floor(random() * 4)
        ]!;
        if (scenario === "provider_slowing") {
          // shopify's events: gaps of 5, 10, 20 and 40 minutes, then nothing for two hours.
          let t = at;
          for (const gap of [5, 10, 20, 40]) {
            t += gap * MIN;
            provider(t, "shopify", "provider.heartbeat");
          }
          silence("shopify", at, t + 2 * HOUR);
          incident("provider_missing", "ecommerce", scenario, true, t + HOUR);
        } else if (scenario === "resource_stops") {
          silence("db", at, at + 90 * MIN);
          resource(at, "db", "healthy");
          incident("resource_unhealthy", "db", scenario, true, at + 30 * MIN);
        } else if (scenario === "webhook_failing") {
          silence("orders-hook", at, at + HOUR);
          for (const k of [0, 1, 2]) webhook(at + k * 5 * MIN, "orders-hook", false);
          webhook(at + 45 * MIN, "orders-hook", true);
          incident("webhook_broken", "orders-hook/webhook", scenario, true, at + 10 * MIN);
        } else {
          // Published; no build is started for 40 minutes (grace 20).
          silence("builds", at - 30 * MIN, at + 2 * HOUR);
          provider(at, "sanity", "content.published", { content_type: "page", content_id: `doc-${serial}` });
          const b = `late-${serial}`;
          provider(at + 40 * MIN, "codebuild", "build.started", { payload: { build_id: b } });
          provider(at + 48 * MIN, "codebuild", "build.succeeded", { payload: { build_id: b } });
          incident("site_stale", `site-${client_id}`, scenario, true, at + 20 * MIN);
        }
      } else {
        const scenario = ["resource_sudden", "config_sudden", "provider_change"][Math.floor(random() * 3)]!;
        if (scenario === "resource_sudden") {
          silence("cdn", at, at + 20 * MIN);
          resource(at, "cdn", "unhealthy");
          resource(at + 20 * MIN, "cdn", "healthy");
          incident("resource_unhealthy", "cdn", scenario, false, at);
        } else if (scenario === "config_sudden") {
          configured(at, "catalog-hook", { ...HOOKS["catalog-hook"], topics: ["products/delete"] });
          configured(at + 30 * MIN, "catalog-hook", HOOKS["catalog-hook"]);
          incident("integration_config", "catalog-hook", scenario, false, at);
        } else {
          provider(at, "contentful", "provider.connected", { provider_role: "cms" });
          provider(at + 30 * MIN, "sanity", "provider.connected", { provider_role: "cms" });
          incident("cms_provider_change", "cms", scenario, false, at);
        }
      }
      at += DAY * (2 + random() * 2);
    }
    // A nightly job that rewrites orders-hook at 02:00 and is undone at 02:30: the first three nights cannot be
    // foreseen (nothing to learn from yet), the later ones can.
    if (recurring) {
      let night = 0;
      for (let day = Math.floor(o.start / DAY) * DAY + DAY + 2 * HOUR; day < end - HOUR; day += DAY, night++) {
        const t = day + jitter(2 * MIN);
        if (silent("shopify", t) || silent("shopify", t + 30 * MIN)) continue;
        configured(t, "orders-hook", { ...HOOKS["orders-hook"], url: "https://hooks.example/legacy" });
        configured(t + 30 * MIN, "orders-hook", HOOKS["orders-hook"]);
        incident("integration_config", "orders-hook", night < 3 ? "recurring_learning" : "recurring", night >= 3, t);
      }
    }

    // The baseline: every 10 minutes each provider beats and each resource reports; orders-hook delivers every
    // 20 minutes; configs are reported every 6
    // hours; a page is published every few hours and built within minutes. (About 3% of deliveries fail once and 0.1%
    // twice before recovering: a precursor that does not come true.)
    for (let t = o.start + random() * 10 * MIN; t < end; t += 10 * MIN) {
      for (const p of ["sanity", "shopify", "codebuild"])
        if (!silent(p, t)) provider(t + jitter(MIN), p, "provider.heartbeat");
      for (const r of ["db", "cdn"]) if (!silent(r, t)) resource(t + jitter(MIN), r, "healthy");
    }
    for (let t = o.start + random() * 20 * MIN; t < end; t += 20 * MIN) {
      if (silent("orders-hook", t) || silent("shopify", t)) continue;
      const r = random();
      const fails = r < 0.001 ? 2 : r < 0.031 ? 1 : 0;
      for (let k = 0; k < fails; k++) webhook(t + k * 3 * MIN, "orders-hook", false);
      webhook(t + fails * 3 * MIN, "orders-hook", true);
    }
    for (let t = o.start + HOUR; t < end; t += 6 * HOUR) {
      if (silent("shopify", t)) continue;
      configured(t, "catalog-hook", HOOKS["catalog-hook"]);
      if (!recurring || t % DAY < 2 * HOUR || t % DAY > 3 * HOUR)
        configured(t + MIN, "orders-hook", HOOKS["orders-hook"]);
    }
    for (let t = o.start + random() * 3 * HOUR; t < end; t += HOUR + random() * 4 * HOUR) {
      if (silent("builds", t)) continue;
      provider(t, "sanity", "content.published", { content_type: "page", content_id: `doc-${serial}` });
      const b = `b-${serial}`;
      const startAt = t + MIN + random() * 3 * MIN;
      provider(startAt, "codebuild", "build.started", { payload: { build_id: b } });
      provider(startAt + 6 * MIN + random() * 4 * MIN, "codebuild", "build.succeeded", { payload: { build_id: b } });
    }
  }
  records.sort((a, b) => a.at - b.at);
  return { records, incidents, noise };
}
