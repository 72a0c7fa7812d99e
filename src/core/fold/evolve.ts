/**
 * evolve(state, input) -> state: folds one input into a client's state. Pure
 * and level-based: it only records what was observed (newest timestamp wins,
 * so duplicates and reordering are harmless); drift is derived later, from the
 * whole state, by `decide`.
 */
import {
  emptyHeal,
  emptyScope,
  type ClientState,
  type ObservationScope,
  type OpenDrift,
} from "../model/client-state.js";
import type {
  CommandIssued,
  DesiredStateApplied,
  InputRecord,
  ProviderEventObserved,
  ResourceEventObserved,
} from "../model/inputs.js";
import { roleOfProvider } from "../model/provider-roles.js";
import { scopeOf } from "./scopes.js";
import { dict, own } from "../own-key.js";
import { parseIsoTime } from "../iso-time.js";

/** Bounds that keep one client's state small whatever a provider sends. */
export const LIMITS = {
  pendingContentPerType: 16,
  contentTypes: 200,
  buildsInFlight: 32,
  /** Event times kept per provider, for the gaps between them. */
  beatsPerProvider: 4,
  /** Build durations kept, for how long the next build takes. */
  buildDurations: 5,
  /** Webhook failure streaks are counted by length up to this (longer ones with it). */
  streakLengths: 10,
} as const;

export function evolve(state: ClientState, input: InputRecord): ClientState {
  switch (input.kind) {
    case "DesiredStateApplied":
      return applyDesired(state, input);
    case "DesiredStateRemoved": {
      const stack = own(state.stacks, input.stack_id);
      if (!stack || stack.removed) return state;
      return {
        ...state,
        stacks: { ...state.stacks, [input.stack_id]: { ...stack, removed: true, updated_ms: input.at } },
      };
    }
    case "ProviderEventObserved":
      return withScope(state, scopeOf(input.stack_id, input.environment), (scope) =>
        observeProvider(state, scope, input),
      );
    case "ResourceEventObserved":
      return withScope(state, scopeOf(input.stack_id, input.environment), (scope) => observeResource(scope, input));
    case "CommandIssued":
      return applyCommand(state, input);
    case "HealResultReported":
      // Recorded for the policy (retry after failure); a result alone never resolves a drift.
      return updateDrift(state, input.stack_id, input.drift_id, (d) => {
        const heal = d.heal ?? emptyHeal();
        return input.attempt === heal.attempts ? { ...d, heal: { ...heal, last_result: input.status } } : d;
      });
  }
}

function applyDesired(state: ClientState, input: DesiredStateApplied): ClientState {
  const desired = input.desired;
  const existing = own(state.stacks, desired.stack_id);
  if (
    existing &&
    existing.desired.desired_hash === desired.desired_hash &&
    existing.desired.state_version === desired.state_version
  ) {
    return state; // redelivery of the same apply
  }
  const stack = existing
    ? { ...existing, desired, applied_ms: input.at, updated_ms: input.at, removed: false }
    : {
        desired,
        applied_ms: input.at,
        created_ms: input.at,
        updated_ms: input.at,
        last_verified_ms: input.at,
        drifts: {},
        paused: false,
        removed: false,
        deadline: null,
        emitted: null,
      };
  return { ...state, stacks: { ...state.stacks, [desired.stack_id]: stack } };
}

function updateDrift(
  state: ClientState,
  stack_id: string | null,
  drift_id: string,
  change: (d: OpenDrift) => OpenDrift,
): ClientState {
  for (const [id, stack] of Object.entries(state.stacks)) {
    const drift = own(stack.drifts, drift_id);
    if (!drift || (stack_id && stack_id !== id)) continue;
    const changed = change(drift);
    if (changed === drift) return state;
    return {
      ...state,
      stacks: { ...state.stacks, [id]: { ...stack, drifts: { ...stack.drifts, [drift_id]: changed } } },
    };
  }
  return state;
}

function applyCommand(state: ClientState, input: CommandIssued): ClientState {
  if ((input.command === "approve" || input.command === "reject") && input.drift_id) {
    return updateDrift(state, input.stack_id, input.drift_id, (d) => {
      const heal = d.heal ?? emptyHeal();
      // An approval after a rejection is refused (see decide's audit of it), so it is not recorded either.
      if (input.command === "approve" && heal.rejected) return d;
      return input.command === "approve"
        ? { ...d, heal: { ...heal, approved_by: heal.approved_by ?? input.issued_by } }
        : { ...d, heal: { ...heal, rejected: true } };
    });
  }
  if (input.command !== "acknowledge" && input.command !== "pause" && input.command !== "resume") return state;
  const stacks = { ...state.stacks };
  for (const [id, stack] of Object.entries(stacks)) {
    if (input.stack_id && input.stack_id !== id) continue;
    if (input.command === "acknowledge") {
      const drift = input.drift_id ? own(stack.drifts, input.drift_id) : undefined;
      if (drift && !drift.acknowledged)
        stacks[id] = { ...stack, drifts: { ...stack.drifts, [drift.drift_id]: { ...drift, acknowledged: true } } };
    } else {
      stacks[id] = { ...stack, paused: input.command === "pause" };
    }
  }
  return { ...state, stacks };
}

function withScope(
  state: ClientState,
  key: string,
  change: (scope: ObservationScope) => ObservationScope,
): ClientState {
  const scope = own(state.scopes, key) ?? emptyScope();
  return { ...state, scopes: { ...state.scopes, [key]: change(scope) } };
}

function observeProvider(state: ClientState, scope: ObservationScope, e: ProviderEventObserved): ObservationScope {
  // Computed keys, never `map[name] = v`: assigning "__proto__" would set the prototype and drop the provider.
  const next: ObservationScope = { ...scope };
  const name = e.provider_name;
  if (e.event_type === "provider.disconnected") {
    next.disconnected = { ...scope.disconnected, [name]: Math.max(own(scope.disconnected, name) ?? e.at, e.at) };
  } else {
    const last = own(scope.seen, name);
    next.seen = { ...scope.seen, [name]: Math.max(last ?? e.at, e.at) };
    // Gaps between a provider's events are the predictor's sign of one falling silent: newer events only.
    if (last === undefined || e.at > last) {
      const beats = scope.beats === undefined ? undefined : own(scope.beats, name);
      const kept =
        beats === undefined
          ? [e.at]
          : beats.length < LIMITS.beatsPerProvider
            ? [...beats, e.at]
            : [...beats.slice(1 - LIMITS.beatsPerProvider), e.at];
      next.beats = { ...scope.beats, [name]: kept };
    }
    const role = roleOfProvider(name, e.provider_role);
    const active = role ? scope.active[role] : undefined;
    // Only an explicit connect switches an already-active role, and only if newer:
    // a late heartbeat from the old provider must not switch it back. A connect of the
    // provider that is already active here is still news: it became active again at
    // `e.at`, and the stack's view picks the newest `since` across scopes. Keeping the old
    // time let an older connect in a narrower scope (a heal's report) win over it.
    const newer = active && (active.name !== name ? e.at >= active.since : e.at > active.since);
    if (role && (!active || (e.event_type === "provider.connected" && newer))) {
      next.active = { ...scope.active, [role]: { name, since: e.at } };
    }
  }
  switch (e.event_type) {
    case "integration.configured":
    case "webhook.delivered":
    case "webhook.failed":
      return e.integration ? observeIntegration(next, e) : next;
    case "content.created":
    case "content.updated":
    case "content.deleted":
    case "content.published":
      return e.content_type ? observeContent(next, e.content_type, e.at, isTracked(state, e.content_type)) : next;
    case "build.started":
    case "build.succeeded":
    case "build.failed":
      return observeBuild(next, e);
    case "provider.connected":
    case "provider.disconnected":
    case "provider.heartbeat":
      return next;
  }
}

function observeIntegration(scope: ObservationScope, e: ProviderEventObserved): ObservationScope {
  const name = e.integration!;
  const current = own(scope.integrations, name) ?? {};
  let updated = current;
  if (e.event_type === "integration.configured") {
    if (!current.config || e.at >= current.config.at) {
      updated = { ...current, config: { value: e.payload.configuration ?? e.payload, at: e.at } };
    }
  } else if (!current.webhook || e.at >= current.webhook.at) {
    const failed = e.event_type === "webhook.failed";
    const prev = current.webhook;
    const failures = failed ? (prev?.failures ?? 0) + 1 : 0;
    const webhook: NonNullable<typeof current.webhook> = {
      failures,
      first_failure: failed ? (prev?.first_failure ?? e.at) : null,
      at: e.at,
    };
    let ended = prev?.ended;
    if (!failed && prev && prev.failures > 0) {
      // A streak of failures ended: remember its length, for how often one goes on.
      ended = [...(ended ?? [])];
      const k = Math.min(prev.failures, LIMITS.streakLengths) - 1;
      while (ended.length <= k) ended.push(0);
      ended[k]! += 1;
    }
    if (ended) webhook.ended = ended;
    updated = { ...current, webhook };
  }
  return updated === current ? scope : { ...scope, integrations: { ...scope.integrations, [name]: updated } };
}

/** Whether any stack of the client tracks `type` (untracked types keep only their latest change: nothing waits on them). */
function isTracked(state: ClientState, type: string): boolean {
  const stacks = Object.values(state.stacks);
  return stacks.length === 0 || stacks.some((s) => s.desired.content_types.includes(type));
}

function observeContent(scope: ObservationScope, type: string, at: number, tracked: boolean): ObservationScope {
  const covers = scope.builds.covers;
  const current = own(scope.content, type);
  if (!current && Object.keys(scope.content).length >= LIMITS.contentTypes) return scope;
  const latest = Math.max(current?.latest ?? at, at);
  let pending = current?.pending ?? [];
  if (tracked && (covers === null || at > covers) && !pending.includes(at)) {
    // Keep the earliest changes: the oldest unbuilt one decides how stale the site is.
    pending = [...pending, at].sort((a, b) => a - b).slice(0, LIMITS.pendingContentPerType);
  }
  return { ...scope, content: { ...scope.content, [type]: { pending, latest } } };
}

function observeBuild(scope: ObservationScope, e: ProviderEventObserved): ObservationScope {
  const buildId = typeof e.payload.build_id === "string" ? e.payload.build_id : null;
  const started: Record<string, number> = Object.assign(dict<number>(), scope.builds.started);
  if (e.event_type === "build.started") {
    if (buildId) started[buildId] = e.at;
    const ids = Object.keys(started);
    if (ids.length > LIMITS.buildsInFlight) delete started[ids.sort((a, b) => started[a]! - started[b]!)[0]!];
    return { ...scope, builds: { ...scope.builds, started } };
  }
  const startedAt = (buildId ? own(started, buildId) : undefined) ?? parseTime(e.payload.started_at) ?? e.at;
  if (buildId) delete started[buildId];
  if (e.event_type === "build.failed") return { ...scope, builds: { ...scope.builds, started } };
  const covers = Math.max(scope.builds.covers ?? startedAt, startedAt);
  const content: ObservationScope["content"] = dict();
  for (const [type, c] of Object.entries(scope.content))
    content[type] = { ...c, pending: c.pending.filter((t) => t > covers) };
  const builds: ObservationScope["builds"] = { covers, started };
  const durations = scope.builds.durations ?? [];
  if (e.at > startedAt) builds.durations = [...durations, e.at - startedAt].slice(-LIMITS.buildDurations);
  else if (durations.length > 0) builds.durations = durations;
  return { ...scope, content, builds };
}

function parseTime(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const ms = parseIsoTime(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function observeResource(scope: ObservationScope, e: ResourceEventObserved): ObservationScope {
  const current = scope.resources[e.resource_name];
  if (current && current.at > e.at) return scope; // an older report never overrides a newer one
  return { ...scope, resources: { ...scope.resources, [e.resource_name]: { status: e.status, at: e.at } } };
}
