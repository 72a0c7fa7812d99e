/**
 * The diff: compares one stack's desired composition with its observed view at
 * stream time `now` and lists every drift it finds, plus the next time the
 * answer could change without a new event (a staleness window running out).
 */
import type { Finding } from "../model/client-state.js";
import { ROLES, type DesiredStack } from "../model/desired.js";
import { configsMatch, stripIgnored } from "./json-compare.js";
import type { ObservedView } from "./observed-view.js";

export type { Finding };

export interface DiffResult {
  findings: Finding[];
  /** Earliest stream time after `now` at which a window expires; null if none. */
  nextDeadline: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function findDrifts(desired: DesiredStack, view: ObservedView, now: number, appliedMs: number): DiffResult {
  const findings: Finding[] = [];
  const deadlines: number[] = [];
  const due = (at: number) => {
    if (at > now) deadlines.push(at);
    return at <= now;
  };
  const s = desired.staleness;

  for (const role of ROLES) {
    const expected = desired.providers[role];
    if (!expected) continue;
    const active = view.active[role];
    if (active && active.name !== expected) {
      findings.push({ type: "provider", kind: role === "cms" ? "cms_provider_change" : "provider_change", component: role, expected, observed: active.name, severity: "critical" });
      continue;
    }
    const lastSeen = view.seen[expected];
    const disconnectedAt = view.disconnected[expected];
    const disconnected = disconnectedAt !== undefined && (lastSeen === undefined || disconnectedAt >= lastSeen);
    const silentSince = lastSeen ?? appliedMs;
    if (disconnected || due(silentSince + s.provider_silence_seconds * 1000)) {
      findings.push({ type: "provider", kind: "provider_missing", component: role, expected, observed: "missing", severity: "critical" });
    }
  }

  for (const resource of desired.resources) {
    const seen = view.resources[resource.name];
    if (seen && seen.status !== "healthy") {
      findings.push({ type: "resource", kind: "resource_unhealthy", component: resource.name, expected: "healthy", observed: seen.status, severity: "high" });
    } else if (due((seen?.at ?? appliedMs) + s.resource_ttl_seconds * 1000)) {
      findings.push({ type: "resource", kind: "resource_unhealthy", component: resource.name, expected: "healthy", observed: "unknown", severity: "high" });
    }
  }

  for (const integration of desired.integrations) {
    const seen = view.integrations[integration.name];
    // An integration never reported is not drift: absence of evidence is not a mismatch.
    if (seen?.config && !configsMatch(integration.config, seen.config.value, integration.ignore_paths)) {
      findings.push({
        type: "integration", kind: "integration_config", component: integration.name,
        expected: stripIgnored(integration.config, integration.ignore_paths),
        observed: stripIgnored(seen.config.value, integration.ignore_paths), severity: "medium",
      });
    }
    const webhook = seen?.webhook;
    if (webhook && webhook.failures >= s.webhook_failure_threshold) {
      findings.push({
        type: "integration", kind: "webhook_broken", component: `${integration.name}/webhook`,
        expected: "delivering", observed: { failing_since: webhook.first_failure === null ? null : iso(webhook.first_failure) }, severity: "medium",
      });
    }
  }

  const staleSince = Math.min(...desired.content_types.map((t) => view.pending[t]?.[0] ?? Infinity));
  if (Number.isFinite(staleSince) && due(staleSince + s.content_grace_seconds * 1000)) {
    findings.push({
      type: "content", kind: "site_stale", component: desired.build_project ?? "site",
      expected: { built_after: iso(staleSince) }, observed: { last_build_covers: view.covers === null ? null : iso(view.covers) }, severity: "medium",
    });
  }

  return { findings, nextDeadline: deadlines.length > 0 ? Math.min(...deadlines) : null };
}
