/**
 * The diff: compares one stack's desired composition with its observed view at
 * stream time `now` and lists every drift it finds, plus the next time the
 * answer could change without a new event (a staleness window running out).
 */
import type { Finding } from "../model/client-state.js";
import { ROLES, type DesiredStack } from "../model/desired.js";
import { defaultSeverity, driftTypeOf, type DriftKind } from "../model/vocabulary.js";
import { configsMatch, stripIgnored } from "./json-compare.js";
import type { ObservedView } from "./observed-view.js";
import { own } from "../own-key.js";

export type { Finding };

export interface DiffResult {
  findings: Finding[];
  /** Earliest stream time after `now` at which a window expires; null if none. */
  nextDeadline: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A finding of `kind`: its type and severity come from the vocabulary table, never from here. */
function finding(kind: DriftKind, component: string, expected: unknown, observed: unknown): Finding {
  return { type: driftTypeOf(kind), kind, component, expected, observed, severity: defaultSeverity(kind) };
}

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
      findings.push(finding(role === "cms" ? "cms_provider_change" : "provider_change", role, expected, active.name));
      continue;
    }
    const lastSeen = own(view.seen, expected);
    const disconnectedAt = own(view.disconnected, expected);
    const disconnected = disconnectedAt !== undefined && (lastSeen === undefined || disconnectedAt >= lastSeen);
    const silentSince = lastSeen ?? appliedMs;
    if (disconnected || due(silentSince + s.provider_silence_seconds * 1000)) {
      findings.push(finding("provider_missing", role, expected, "missing"));
    }
  }

  for (const resource of desired.resources) {
    const seen = own(view.resources, resource.name);
    if (seen && seen.status !== "healthy") {
      findings.push(finding("resource_unhealthy", resource.name, "healthy", seen.status));
    } else if (due((seen?.at ?? appliedMs) + s.resource_ttl_seconds * 1000)) {
      findings.push(finding("resource_unhealthy", resource.name, "healthy", "unknown"));
    }
  }

  for (const integration of desired.integrations) {
    const seen = own(view.integrations, integration.name);
    // An integration never reported is not drift: absence of evidence is not a mismatch.
    if (seen?.config && !configsMatch(integration.config, seen.config.value, integration.ignore_paths)) {
      const expected = stripIgnored(integration.config, integration.ignore_paths);
      const observed = stripIgnored(seen.config.value, integration.ignore_paths);
      findings.push(finding("integration_config", integration.name, expected, observed));
    }
    const webhook = seen?.webhook;
    if (webhook && webhook.failures >= s.webhook_failure_threshold) {
      const failingSince = webhook.first_failure === null ? null : iso(webhook.first_failure);
      const component = `${integration.name}/webhook`;
      findings.push(finding("webhook_broken", component, "delivering", { failing_since: failingSince }));
    }
  }

  let staleSince = Infinity;
  for (const type of desired.content_types) {
    const oldest = own(view.pending, type)?.[0];
    if (oldest !== undefined && oldest < staleSince) staleSince = oldest;
  }
  if (Number.isFinite(staleSince) && due(staleSince + s.content_grace_seconds * 1000)) {
    const covers = view.covers === null ? null : iso(view.covers);
    const component = desired.build_project ?? "site";
    findings.push(finding("site_stale", component, { built_after: iso(staleSince) }, { last_build_covers: covers }));
  }

  return { findings, nextDeadline: deadlines.length > 0 ? Math.min(...deadlines) : null };
}
