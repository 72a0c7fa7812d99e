/**
 * Promotion drift: a stack promoted from an earlier environment's stack
 * (staging -> prod) must match it in the parts its promotion names, minus the
 * environment-specific fields. A difference is a drift
 * - at once when the later stack changed last (it was edited on its own), and
 * - after `max_lag` when the earlier stack changed last (its newer version is
 *   waiting to be promoted).
 * It resolves when the parts match again (a promotion). Pure.
 */
import { canonicalJson } from "../canonical-json.js";
import type { ClientState, Finding, StackEntry } from "../model/client-state.js";
import type { DesiredStack, PromotionSpec } from "../model/desired.js";
import { OBSERVED_BASE } from "../lifecycle/confidence.js";
import { defaultSeverity, driftTypeOf } from "../model/vocabulary.js";
import { own } from "../own-key.js";
import { stripIgnored } from "./json-compare.js";

/** The parts of `desired` a promotion compares and carries, environment-specific fields left out. */
export function promotedParts(desired: DesiredStack, spec: PromotionSpec): Record<string, unknown> {
  const parts: Record<string, unknown> = {};
  for (const part of spec.match) {
    if (part === "integrations")
      parts.integrations = Object.fromEntries(
        desired.integrations.map((i) => [i.name, { config: i.config, ignore: i.ignore_paths }]),
      );
    else if (part === "resources")
      parts.resources = Object.fromEntries(
        desired.resources.map((r) => [r.name, { arn: r.arn, ignore: r.ignore_paths }]),
      );
    else parts[part] = desired[part];
  }
  return stripIgnored(JSON.parse(JSON.stringify(parts)), spec.ignore_paths) as Record<string, unknown>;
}

/** Where two part documents differ: the top two levels, as JSON pointers (at most 10). */
export function differingPointers(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const out: string[] = [];
  const keys = (x: unknown) => (x !== null && typeof x === "object" ? Object.keys(x) : []);
  for (const k of [...new Set([...keys(a), ...keys(b)])].sort()) {
    const [x, y] = [a[k], b[k]];
    if (canonicalJson(x) === canonicalJson(y)) continue;
    const inner = [...new Set([...keys(x), ...keys(y)])].sort();
    const deeper = inner.filter(
      (j) => canonicalJson((x as Record<string, unknown>)?.[j]) !== canonicalJson((y as Record<string, unknown>)?.[j]),
    );
    if (deeper.length === 0 || typeof x !== "object" || typeof y !== "object" || Array.isArray(x)) out.push(`/${k}`);
    else out.push(...deeper.map((j) => `/${k}/${j}`));
  }
  return out.slice(0, 10);
}

export interface PromotionCheck {
  finding: Finding | null;
  /** When the lag runs out without a new event (null: no deadline). */
  nextDeadline: number | null;
}

const NONE: PromotionCheck = { finding: null, nextDeadline: null };

export function promotionDrift(client: ClientState, stack: StackEntry, now: number): PromotionCheck {
  const spec = stack.desired.promotion;
  if (!spec) return NONE;
  const earlier = own(client.stacks, spec.from);
  if (!earlier || earlier.removed) return NONE;
  const want = promotedParts(earlier.desired, spec);
  const have = promotedParts(stack.desired, spec);
  if (canonicalJson(want) === canonicalJson(have)) return NONE;
  // The later stack changed last: edited on its own, a drift now. Else the earlier one's version waits for promotion.
  const since =
    stack.applied_ms >= earlier.applied_ms ? stack.applied_ms : earlier.applied_ms + spec.max_lag_seconds * 1000;
  if (since > now) return { finding: null, nextDeadline: since };
  const kind = "promotion_drift";
  return {
    finding: {
      type: driftTypeOf(kind),
      kind,
      component: spec.from,
      expected: { stack: spec.from, state_version: earlier.desired.state_version },
      observed: { state_version: stack.desired.state_version, differs_at: differingPointers(want, have) },
      severity: defaultSeverity(kind),
      evidence: { at: since, base: OBSERVED_BASE, every_ms: null },
    },
    nextDeadline: null,
  };
}
