/**
 * The predictor: drifts a stack is heading for, read from precursors in its
 * own history, with when each is expected and how sure the prediction is.
 * Pure and deterministic (statistics over the state, no model): the same state
 * at the same stream time always predicts the same.
 *
 * Precursors:
 * - `heartbeat_gaps`: the gaps between a provider's events kept growing (the
 *   next one, as they grow, outlasts its silence window), and it has now been
 *   silent for most of that window;
 * - `silence`: a provider has been silent for most of its window;
 * - `resource_aging`: a resource's last report has aged past most of its TTL;
 * - `webhook_failures`: deliveries failing, below the threshold (1 and 2 of 3);
 * - `build_late`: content waits for a build, and none can finish within the
 *   grace period any more, going by how long the builds seen so far took;
 * - `recurring`: the drift opened at a steady interval before (every night at
 *   02:00), and its next opening is near.
 * A resource reporting `degraded` is not a precursor here: it already opens
 * the resource drift (with a lower confidence, src/core/lifecycle/confidence.ts).
 */
import type { ClientState, DriftKind, StackEntry } from "../model/client-state.js";
import { ROLES } from "../model/desired.js";
import type { ObservedView } from "../diff/observed-view.js";
import { scopesOfStack } from "../fold/scopes.js";
import { driftId } from "../ids.js";
import { driftTypeOf, type DriftType } from "../model/vocabulary.js";
import { own } from "../own-key.js";
import { isoTime } from "../iso-time.js";

/** Every precursor the predictor names (a prediction's `precursor`). */
export const PRECURSORS = [
  "heartbeat_gaps",
  "silence",
  "resource_aging",
  "webhook_failures",
  "build_late",
  "recurring",
] as const;

/** Share of a window after which silence or age is a precursor. */
export const AGING_SHARE = 0.8;
/** Gaps each at least this much longer than the one before are growing. */
const GROWTH = 1.5;
/** Intervals between openings agreeing within this share (or 5 minutes) are a schedule. */
const RECURRENCE_TOLERANCE = 0.05;
const MINUTE = 60_000;

export interface PredictionCandidate {
  drift_id: string;
  type: DriftType;
  kind: DriftKind;
  component: string;
  precursor: string;
  expected_at: number;
  /** After this, a drift that has not opened makes the prediction expire. */
  horizon_until: number;
  confidence: number;
  evidence: string;
}

export interface Precursors {
  candidates: PredictionCandidate[];
  /** The earliest later stream time at which a precursor appears without a new event (null: none). */
  nextAt: number | null;
}

const minutes = (ms: number) => `${Math.round(ms / MINUTE)} min`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export function findPrecursors(
  client: ClientState,
  stack_id: string,
  stack: StackEntry,
  view: ObservedView,
  now: number,
  openings: StackEntry["openings"] = stack.openings,
): Precursors {
  const { desired } = stack;
  const s = desired.staleness;
  const found = new Map<string, PredictionCandidate>();
  const later: number[] = [];
  const add = (
    kind: DriftKind,
    component: string,
    c: Omit<PredictionCandidate, "drift_id" | "type" | "kind" | "component">,
  ) => {
    const type = driftTypeOf(kind);
    const drift_id = driftId(client.client_id, stack_id, type, component);
    const before = found.get(drift_id);
    // Times are whole milliseconds (they are stored as Avro longs): rates and medians make fractions.
    const times = { expected_at: Math.round(c.expected_at), horizon_until: Math.ceil(c.horizon_until) };
    if (!before || c.confidence > before.confidence)
      found.set(drift_id, { drift_id, type, kind, component, ...c, ...times });
  };
  /** Whether stream time has reached `at` (rounded up to a whole millisecond); if not, the pass is woken then. */
  const from = (at: number) => {
    const whole = Math.ceil(at);
    if (whole > now) later.push(whole);
    return whole <= now;
  };

  const scopes = scopesOfStack(stack_id, desired.environment);
  for (const role of ROLES) {
    const expected = desired.providers[role];
    if (!expected) continue;
    const active = view.active[role];
    if (active && active.name !== expected) continue;
    const lastSeen = own(view.seen, expected);
    if (lastSeen === undefined) continue;
    const windowMs = s.provider_silence_seconds * 1000;
    const missingAt = lastSeen + windowMs;
    if (missingAt <= now) continue; // already missing: the diff's business
    const horizon = missingAt + Math.max(5 * MINUTE, windowMs / 4);
    // Until most of the window has passed in silence there is nothing to say (and the pass is woken then): the
    // common case, a provider heard from lately, reads no history.
    if (!from(lastSeen + AGING_SHARE * windowMs)) continue;
    const times = beatsOf(client, scopes, expected);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Three gaps, each half again as long as the one before, the last already a quarter of the window: a trend,
    // not the irregular rhythm of content or build events.
    // A last gap longer than the window is a provider coming back from silence, not one slowing down.
    const growing = gaps.length >= 3 && gaps.every((g, i) => i === 0 || g >= GROWTH * gaps[i - 1]!);
    const lastGap = gaps[gaps.length - 1] ?? 0;
    const next = growing ? lastGap * Math.min(lastGap / gaps[gaps.length - 2]!, 4) : 0;
    const slowing = growing && lastGap >= windowMs / 4 && lastGap < windowMs && next >= windowMs;
    const usual = gaps.length > 0 ? median(gaps) : null;
    const silent = now - lastSeen;
    // Growing gaps alone came true 63% of the time on the benchmark's development seed (a slowing provider often
    // recovers within its window): below the floor. Growing gaps and then most of the window without a word is
    // two pieces of evidence, and is published.
    if (slowing)
      add("provider_missing", role, {
        precursor: "heartbeat_gaps",
        expected_at: missingAt,
        horizon_until: horizon,
        confidence: 0.85,
        evidence: `gaps between ${expected}'s events grew ${gaps.map(minutes).join(", ")} (the next, at that rate, about ${minutes(next)}, outlasts the ${minutes(windowMs)} silence window), and nothing has been heard for ${minutes(silent)}`,
      });
    else
      add("provider_missing", role, {
        precursor: "silence",
        expected_at: missingAt,
        horizon_until: horizon,
        confidence: usual !== null && silent > 3 * usual ? 0.85 : 0.7,
        evidence: `nothing heard from ${expected} for ${minutes(silent)} of its ${minutes(windowMs)} silence window${usual !== null ? ` (its events usually come ${minutes(usual)} apart)` : ""}`,
      });
  }

  for (const resource of desired.resources) {
    const seen = own(view.resources, resource.name);
    if (!seen || seen.status !== "healthy") continue;
    const ttlMs = s.resource_ttl_seconds * 1000;
    const expiresAt = seen.at + ttlMs;
    if (expiresAt <= now || !from(seen.at + AGING_SHARE * ttlMs)) continue;
    add("resource_unhealthy", resource.name, {
      precursor: "resource_aging",
      expected_at: expiresAt,
      horizon_until: expiresAt + Math.max(5 * MINUTE, ttlMs / 4),
      // Came true 69% of the time on the benchmark's development seed (reports come late but within the TTL too).
      confidence: 0.7,
      evidence: `${resource.name} last reported at ${isoTime(seen.at)}, ${minutes(now - seen.at)} of its ${minutes(ttlMs)} TTL ago`,
    });
  }

  for (const integration of desired.integrations) {
    const webhook = own(view.integrations, integration.name)?.webhook;
    const threshold = s.webhook_failure_threshold;
    if (!webhook || webhook.failures < 1 || webhook.failures >= threshold) continue;
    const f = webhook.failures;
    const spacing = f >= 2 && webhook.first_failure !== null ? (webhook.at - webhook.first_failure) / (f - 1) : null;
    const expected_at = webhook.at + (spacing ?? 10 * MINUTE) * (threshold - f);
    const odds = streakOdds(webhook.ended ?? [], f, threshold);
    add("webhook_broken", `${integration.name}/webhook`, {
      precursor: "webhook_failures",
      expected_at,
      horizon_until: expected_at + Math.max(10 * MINUTE, expected_at - now),
      confidence: odds.confidence,
      evidence: `${f} of ${threshold} webhook deliveries of ${integration.name} failed in a row${spacing !== null ? `, ${minutes(spacing)} apart` : ""}; ${odds.seen === 0 ? "no earlier streak this long to learn from" : `of ${odds.seen} earlier streaks this long, ${odds.reached} reached ${threshold}`}`,
    });
  }

  let oldest = Infinity;
  for (const type of desired.content_types) {
    const first = own(view.pending, type)?.[0];
    if (first !== undefined && first < oldest) oldest = first;
  }
  const durations = Number.isFinite(oldest) ? durationsOf(client, scopes) : [];
  if (Number.isFinite(oldest) && durations.length > 0) {
    const graceMs = s.content_grace_seconds * 1000;
    const staleAt = oldest + graceMs;
    const takes = median(durations);
    const inFlight = startedAfter(client, scopes, oldest);
    if (staleAt > now) {
      const confidence = durations.length >= 3 ? 0.8 : 0.65;
      const component = desired.build_project ?? "site";
      if (inFlight !== null) {
        if (inFlight + takes > staleAt)
          add("site_stale", component, {
            precursor: "build_late",
            expected_at: staleAt,
            horizon_until: staleAt + Math.max(5 * MINUTE, takes),
            confidence: confidence - 0.1,
            evidence: `the build started at ${isoTime(inFlight)} should take ${minutes(takes)} (median of ${durations.length}), finishing after the content's grace period ends at ${isoTime(staleAt)}`,
          });
      } else if (from(staleAt - takes)) {
        add("site_stale", component, {
          precursor: "build_late",
          expected_at: staleAt,
          horizon_until: staleAt + Math.max(5 * MINUTE, takes),
          confidence,
          evidence: `content published at ${isoTime(oldest)} waits for a build; none has started, and builds take ${minutes(takes)} (median of ${durations.length}): too late for the grace period ending at ${isoTime(staleAt)}`,
        });
      }
    }
  }

  for (const [id, history] of Object.entries(openings ?? {})) {
    if (own(stack.drifts, id)) continue;
    const t = history.times;
    if (t.length < 3) continue;
    const intervals = t
      .slice(1)
      .map((x, i) => x - t[i]!)
      .slice(-4);
    const period = intervals.reduce((a, b) => a + b, 0) / intervals.length;
    const tolerance = Math.max(5 * MINUTE, RECURRENCE_TOLERANCE * period);
    if (intervals.some((i) => Math.abs(i - period) > tolerance)) continue;
    const next = t[t.length - 1]! + period;
    const lead = Math.min(period / 4, 60 * MINUTE);
    if (next + tolerance <= now || !from(next - lead)) continue;
    add(history.kind, history.component, {
      precursor: "recurring",
      expected_at: next,
      horizon_until: next + Math.max(tolerance, lead),
      confidence: intervals.length >= 4 ? 0.9 : intervals.length === 3 ? 0.8 : 0.7,
      evidence: `opened ${t.length} times, every ${minutes(period)} (last at ${isoTime(t[t.length - 1]!)})`,
    });
  }

  return {
    candidates: [...found.values()].sort((a, b) => (a.drift_id < b.drift_id ? -1 : 1)),
    nextAt: later.length > 0 ? Math.min(...later) : null,
  };
}

/**
 * How likely a streak of `f` failures goes on to `threshold`, from how the webhook's earlier streaks ended: a prior of
 * f / threshold worth three streaks, updated with the streaks that reached `f` (how many of them reached the
 * threshold). A webhook whose double failures keep recovering earns little confidence in its next one.
 */
function streakOdds(ended: readonly number[], f: number, threshold: number) {
  let seen = 0;
  let reached = 0;
  ended.forEach((n, k) => {
    const length = k + 1;
    if (length >= f) seen += n;
    if (length >= threshold) reached += n;
  });
  const prior = f / threshold;
  const confidence = Math.round(((reached + 3 * prior) / (seen + 3)) * 100) / 100;
  return { seen, reached, confidence };
}

/**
 * A provider's event times in the stack's scopes (newest last, bounded): the one scope's array as it is when only one
 * has it (nearly always; no copy on the path every judgment takes), else merged.
 */
function beatsOf(client: ClientState, scopes: readonly string[], name: string): readonly number[] {
  let found: number[] | undefined;
  let merged: number[] | undefined;
  for (const key of scopes) {
    const beats = own(client.scopes, key)?.beats;
    const times = beats === undefined ? undefined : own(beats, name);
    if (times === undefined) continue;
    if (found === undefined) found = times;
    else merged = [...(merged ?? found), ...times];
  }
  if (merged === undefined) return found ?? [];
  return [...new Set(merged)].sort((a, b) => a - b).slice(-4);
}

function durationsOf(client: ClientState, scopes: readonly string[]): number[] {
  const out: number[] = [];
  for (const key of scopes) {
    const durations = own(client.scopes, key)?.builds.durations;
    if (durations !== undefined) out.push(...durations);
  }
  return out;
}

/** The latest start of a build in flight that started at or after `since` (it will cover that content), or null. */
function startedAfter(client: ClientState, scopes: readonly string[], since: number): number | null {
  let latest: number | null = null;
  for (const key of scopes) {
    const started = own(client.scopes, key)?.builds.started ?? {};
    for (const id of Object.keys(started)) {
      const at = started[id]!;
      if (at >= since && (latest === null || at > latest)) latest = at;
    }
  }
  return latest;
}
