/**
 * A stack's state consistency score: the share of its declared components that were verified matching their desired
 * state at the last evaluation. Declared components are every provider role with a provider, every resource, every
 * integration (its webhook included) and, when the stack declares content types, the site build. A component is
 * verified matching when no drift is open on it; staleness counts as a mismatch, since the diff opens a drift on a
 * resource whose report aged past its TTL, a webhook that keeps failing, and a site whose build falls behind its
 * content. 1 when nothing is declared. Pure: the reconciler computes it into every StateRecord.
 */
import type { DesiredStack } from "../model/desired.js";
import type { DriftType } from "../model/vocabulary.js";

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

function declaredComponents(desired: DesiredStack): Set<string> {
  const keys = new Set<string>();
  for (const [role, name] of Object.entries(desired.providers)) if (name) keys.add(`provider:${role}`);
  for (const r of desired.resources) keys.add(`resource:${r.name}`);
  for (const i of desired.integrations) keys.add(`integration:${i.name}`);
  if (desired.content_types.length > 0) keys.add("site");
  return keys;
}

export function consistencyScore(
  desired: DesiredStack,
  openDrifts: Iterable<{ type: DriftType; component: string }>,
): number {
  const declared = declaredComponents(desired);
  if (declared.size === 0) return 1;
  const drifting = new Set<string>();
  for (const d of openDrifts) {
    const key = componentKey(d.type, d.component);
    if (declared.has(key)) drifting.add(key);
  }
  return (declared.size - drifting.size) / declared.size;
}
