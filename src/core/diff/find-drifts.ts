/**
 * The diff: compares one stack's desired composition with its observed view at
 * stream time `now` and lists every drift it finds, plus the next time the
 * answer could change without a new event (a staleness window running out).
 */
import type { Evidence, Finding } from "../model/client-state.js";
import { ROLES, type DesiredStack } from "../model/desired.js";
import { defaultSeverity, driftTypeOf, type DriftKind } from "../model/vocabulary.js";
import { configsMatch, stripIgnored } from "./json-compare.js";
import { ABSENCE_BASE, DEGRADED_BASE, OBSERVED_BASE } from "../lifecycle/confidence.js";
import type { ObservedView } from "./observed-view.js";
import { own } from "../own-key.js";
import { isoTime } from "../iso-time.js";

export type { Finding };

export interface DiffResult {
  findings: Finding[];
  /** Earliest stream time after `now` at which a window expires; null if none. */
  nextDeadline: number | null;
}

/** A finding of `kind`: its type and severity come from the vocabulary table, never from here. */
function finding(
  kind: DriftKind,
  component: string,
  expected: unknown,
  observed: unknown,
  evidence: Evidence,
): Finding {
  return { type: driftTypeOf(kind), kind, component, expected, observed, severity: defaultSeverity(kind), evidence };
}

/** Evidence reported at `at` (with the weight of one report). */
const reported = (at: number, base = OBSERVED_BASE): Evidence => ({ at, base, every_ms: null });
/** A window of `seconds` that ran out at `at` with nothing heard. */
const silence = (at: number, seconds: number): Evidence => ({ at, base: ABSENCE_BASE, every_ms: seconds * 1000 });

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
      const kind = role === "cms" ? "cms_provider_change" : "provider_change";
      // Every event from the provider that replaced the declared one reports the change again.
      const at = Math.max(active.since, own(view.seen, active.name) ?? active.since);
      findings.push(finding(kind, role, expected, active.name, reported(at)));
      continue;
    }
    const lastSeen = own(view.seen, expected);
    const disconnectedAt = own(view.disconnected, expected);
    const disconnected = disconnectedAt !== undefined && (lastSeen === undefined || disconnectedAt >= lastSeen);
    const silentSince = lastSeen ?? appliedMs;
    const silentUntil = silentSince + s.provider_silence_seconds * 1000;
    if (disconnected) {
      findings.push(finding("provider_missing", role, expected, "missing", reported(disconnectedAt!)));
    } else if (due(silentUntil)) {
      const evidence = silence(silentUntil, s.provider_silence_seconds);
      findings.push(finding("provider_missing", role, expected, "missing", evidence));
    }
  }

  for (const resource of desired.resources) {
    const seen = own(view.resources, resource.name);
    const expiresAt = (seen?.at ?? appliedMs) + s.resource_ttl_seconds * 1000;
    if (seen && seen.status !== "healthy") {
      const evidence = reported(seen.at, seen.status === "degraded" ? DEGRADED_BASE : OBSERVED_BASE);
      findings.push(finding("resource_unhealthy", resource.name, "healthy", seen.status, evidence));
    } else if (due(expiresAt)) {
      const evidence = silence(expiresAt, s.resource_ttl_seconds);
      findings.push(finding("resource_unhealthy", resource.name, "healthy", "unknown", evidence));
    }
  }

  for (const integration of desired.integrations) {
    const seen = own(view.integrations, integration.name);
    // An integration never reported is not drift: absence of evidence is not a mismatch.
    if (seen?.config && !configsMatch(integration.config, seen.config.value, integration.ignore_paths)) {
      const expected = stripIgnored(integration.config, integration.ignore_paths);
      const observed = stripIgnored(seen.config.value, integration.ignore_paths);
      findings.push(finding("integration_config", integration.name, expected, observed, reported(seen.config.at)));
    }
    const webhook = seen?.webhook;
    if (webhook && webhook.failures >= s.webhook_failure_threshold) {
      const failingSince = webhook.first_failure === null ? null : isoTime(webhook.first_failure);
      const component = `${integration.name}/webhook`;
      const observed = { failing_since: failingSince };
      findings.push(finding("webhook_broken", component, "delivering", observed, reported(webhook.at)));
    }
  }

  let staleSince = Infinity;
  for (const type of desired.content_types) {
    const oldest = own(view.pending, type)?.[0];
    if (oldest !== undefined && oldest < staleSince) staleSince = oldest;
  }
  const graceUntil = staleSince + s.content_grace_seconds * 1000;
  if (Number.isFinite(staleSince) && due(graceUntil)) {
    const covers = view.covers === null ? null : isoTime(view.covers);
    const component = desired.build_project ?? "site";
    const evidence = silence(graceUntil, s.content_grace_seconds);
    findings.push(
      finding("site_stale", component, { built_after: isoTime(staleSince) }, { last_build_covers: covers }, evidence),
    );
  }

  return { findings, nextDeadline: deadlines.length > 0 ? Math.min(...deadlines) : null };
}
