/**
 * The observed state of one stack: the observations of the scopes that apply
 * to it (whole client, its environment, the stack itself), newest wins.
 */
import type { ActiveProvider, ClientState, IntegrationObservation, ObservationScope } from "../model/client-state.js";
import type { Role } from "../model/desired.js";
import type { ResourceStatus } from "../model/inputs.js";
import { scopesOfStack } from "../fold/scopes.js";
import { dict, own } from "../own-key.js";

export interface ObservedView {
  active: Partial<Record<Role, ActiveProvider>>;
  seen: Record<string, number>;
  disconnected: Record<string, number>;
  resources: Record<string, { status: ResourceStatus; at: number }>;
  integrations: Record<string, IntegrationObservation>;
  /** Unbuilt content changes per type (after the newest covering build). */
  pending: Record<string, number[]>;
  /** Newest unbuilt content change per type, for the rebuild's quiet period. */
  latest: Record<string, number>;
  covers: number | null;
}

const newer = <T extends { at: number }>(a: T | undefined, b: T | undefined): T | undefined =>
  !a ? b : !b ? a : b.at >= a.at ? b : a;

export function observedView(client: ClientState, stack_id: string, environment: string): ObservedView {
  const view: ObservedView = {
    active: {},
    seen: dict(),
    disconnected: dict(),
    resources: dict(),
    integrations: dict(),
    pending: dict(),
    latest: dict(),
    covers: null,
  };
  // Asked for every stack an input touches: plain loops over own keys, no arrays of entries.
  const scopes: ObservationScope[] = [];
  for (const key of scopesOfStack(stack_id, environment)) {
    const scope = own(client.scopes, key);
    if (scope !== undefined) scopes.push(scope);
  }
  for (const scope of scopes) {
    for (const role of Object.keys(scope.active) as Role[]) {
      const active = scope.active[role]!;
      const current = view.active[role];
      if (!current || active.since >= current.since) view.active[role] = active;
    }
    maxInto(view.seen, scope.seen);
    maxInto(view.disconnected, scope.disconnected);
    for (const name of Object.keys(scope.resources))
      view.resources[name] = newer(own(view.resources, name), scope.resources[name])!;
    for (const name of Object.keys(scope.integrations)) {
      const i = scope.integrations[name]!;
      const current = own(view.integrations, name) ?? {};
      view.integrations[name] = { config: newer(current.config, i.config), webhook: newer(current.webhook, i.webhook) };
    }
    if (scope.builds.covers !== null) view.covers = Math.max(view.covers ?? scope.builds.covers, scope.builds.covers);
  }
  for (const scope of scopes) {
    for (const type of Object.keys(scope.content)) {
      const c = scope.content[type]!;
      const unbuilt = c.pending.filter((t) => view.covers === null || t > view.covers);
      if (unbuilt.length === 0) continue;
      const before = own(view.pending, type);
      view.pending[type] = (before === undefined ? unbuilt : [...before, ...unbuilt]).sort((a, b) => a - b);
      view.latest[type] = Math.max(own(view.latest, type) ?? c.latest, c.latest);
    }
  }
  return view;
}

/** Newest time per name, of `into` and `from`. */
function maxInto(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const name of Object.keys(from)) {
    const at = from[name]!;
    const current = own(into, name);
    into[name] = current === undefined || at > current ? at : current;
  }
}
