/**
 * A stack's state consistency score: the share of its declared components that were verified matching their desired
 * state at the last evaluation. Declared components are every provider role with a provider, every resource, every
 * integration (its webhook included) and, when the stack declares content types, the site build. A component is
 * verified matching when no drift is open on it; staleness counts as a mismatch, since the diff opens a drift on a
 * resource whose report aged past its TTL, a webhook that keeps failing, and a site whose build falls behind its
 * content. 1 when nothing is declared. Pure: the reconciler computes it into every StateRecord.
 */
import type { ObservedView } from "../diff/observed-view.js";
import type { DesiredStack } from "../model/desired.js";
import type { DriftType } from "../model/vocabulary.js";
import { own } from "../own-key.js";

/** The declared component a drift of `type` on `component` belongs to. */
function componentKey(type: DriftType, component: string): string {
  switch (type) {
    case "provider":
      return `provider:${component}`;
    case "resource":
      return `resource:${component}`;
    case "integration":
      return `integration:${component.split("/")[0]}`;
    case "content":
      return "site";
    default:
      return `other:${component}`;
  }
}

/** The key of a declared component: `provider:<role>`, `resource:<name>`, `integration:<name>` or `site`. */
export function declaredKey(kind: ComponentState["kind"], name: string): string {
  return kind === "site" ? "site" : `${kind}:${name}`;
}

/** One declared component of a stack and whether it was verified matching (no open drift on it). */
export interface ComponentState {
  kind: "provider" | "resource" | "integration" | "site";
  /** The provider role, resource or integration name, or the build project (`site` when none). */
  name: string;
  /** What the desired state declares for it. */
  desired: unknown;
  matching: boolean;
  /** The open drifts on it. */
  drift_ids: string[];
}

/** Every declared component of `desired`, in declaration order, with the open drifts on it. */
export function componentStates(
  desired: DesiredStack,
  openDrifts: Iterable<{ drift_id: string; type: DriftType; component: string }>,
): ComponentState[] {
  const components = new Map<string, ComponentState>();
  const add = (kind: ComponentState["kind"], name: string, value: unknown) =>
    components.set(kind === "site" ? "site" : declaredKey(kind, name), {
      kind,
      name,
      desired: value,
      matching: true,
      drift_ids: [],
    });
  for (const [role, name] of Object.entries(desired.providers)) if (name) add("provider", role, name);
  for (const r of desired.resources) add("resource", r.name, { arn: r.arn, status: "healthy" });
  for (const i of desired.integrations) add("integration", i.name, i.config);
  if (desired.content_types.length > 0)
    add("site", desired.build_project ?? "site", { content_types: desired.content_types });
  for (const d of openDrifts) {
    const c = components.get(componentKey(d.type, d.component));
    if (!c) continue;
    c.matching = false;
    c.drift_ids.push(d.drift_id);
  }
  return [...components.values()];
}

/**
 * Calls `visit` with each declared component's key and the time of its newest observation (the expected provider of a
 * role last heard from, a disconnect included; a resource's last report; an integration's last config or webhook
 * report; the newest build covering the content), skipping components never observed.
 */
function eachObserved(desired: DesiredStack, view: ObservedView, visit: (key: string, at: number) => void): void {
  const newest = (a: number | undefined, b: number | undefined) =>
    a === undefined ? b : b === undefined ? a : Math.max(a, b);
  const put = (key: string, at: number | undefined) => {
    if (at !== undefined) visit(key, at);
  };
  for (const role of Object.keys(desired.providers) as Array<keyof DesiredStack["providers"]>) {
    const name = desired.providers[role];
    if (name) put(declaredKey("provider", role), newest(own(view.seen, name), own(view.disconnected, name)));
  }
  for (const r of desired.resources) put(declaredKey("resource", r.name), own(view.resources, r.name)?.at);
  for (const i of desired.integrations) {
    const seen = own(view.integrations, i.name);
    put(declaredKey("integration", i.name), newest(seen?.config?.at, seen?.webhook?.at));
  }
  if (desired.content_types.length > 0) put(declaredKey("site", "site"), view.covers ?? undefined);
}

/** When each declared component was last observed, by the key `componentStates` joins on; a component never observed has no entry. */
export function componentObservedAt(desired: DesiredStack, view: ObservedView): Record<string, number> {
  const at: Record<string, number> = {};
  // Every key has a prefix, so no input name can be "__proto__" here.
  eachObserved(desired, view, (key, time) => (at[key] = time));
  return at;
}

/**
 * How many declared components have been observed at all. Part of a stack's emission fingerprint: a StateRecord goes
 * out when a component is observed for the first time, so no component reads "never observed" (until the schedule)
 * once it has been. Counted on every judgment, so no map is built.
 */
export function observedComponents(desired: DesiredStack, view: ObservedView): number {
  let n = 0;
  eachObserved(desired, view, () => n++);
  return n;
}

export function consistencyScore(
  desired: DesiredStack,
  openDrifts: Iterable<{ drift_id: string; type: DriftType; component: string }>,
): number {
  const components = componentStates(desired, openDrifts);
  if (components.length === 0) return 1;
  return components.filter((c) => c.matching).length / components.length;
}
