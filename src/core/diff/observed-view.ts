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
  const scopes = scopesOfStack(stack_id, environment)
    .map((k) => client.scopes[k])
    .filter((s): s is ObservationScope => s !== undefined);
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
  for (const scope of scopes) {
    for (const [role, active] of Object.entries(scope.active) as Array<[Role, ActiveProvider]>) {
      const current = view.active[role];
      if (!current || active.since >= current.since) view.active[role] = active;
    }
    for (const [name, at] of Object.entries(scope.seen)) view.seen[name] = Math.max(own(view.seen, name) ?? at, at);
    for (const [name, at] of Object.entries(scope.disconnected))
      view.disconnected[name] = Math.max(own(view.disconnected, name) ?? at, at);
    for (const [name, r] of Object.entries(scope.resources))
      view.resources[name] = newer(own(view.resources, name), r)!;
    for (const [name, i] of Object.entries(scope.integrations)) {
      const current = own(view.integrations, name) ?? {};
      view.integrations[name] = { config: newer(current.config, i.config), webhook: newer(current.webhook, i.webhook) };
    }
    if (scope.builds.covers !== null) view.covers = Math.max(view.covers ?? scope.builds.covers, scope.builds.covers);
  }
  for (const scope of scopes) {
    for (const [type, c] of Object.entries(scope.content)) {
      const unbuilt = c.pending.filter((t) => view.covers === null || t > view.covers);
      if (unbuilt.length > 0)
        view.pending[type] = [...(own(view.pending, type) ?? []), ...unbuilt].sort((a, b) => a - b);
      if (unbuilt.length > 0) view.latest[type] = Math.max(own(view.latest, type) ?? c.latest, c.latest);
    }
  }
  return view;
}
