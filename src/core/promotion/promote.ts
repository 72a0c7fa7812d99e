/**
 * Promotion, pure: whether an earlier environment's stack may be promoted
 * (its gates), and the later stack's next desired content: the earlier
 * stack's promoted parts, with the later stack's own values kept at the
 * environment-specific pointers.
 */
import { canonicalJson } from "../canonical-json.js";
import { parsePointer } from "../diff/json-compare.js";
import { promotedParts } from "../diff/promotion.js";
import type { DesiredStack, PromotionSpec } from "../model/desired.js";

/** What the gates know of the earlier stack, from the topics. */
export interface GateFacts {
  now: number;
  /** The earlier stack's version and when it was applied. */
  version: string;
  applied_at: number;
  /** Its latest StateRecord: the version it was judged under, its status and open drifts (null: never judged). */
  state: { state_version: string; status: string; open_drifts: number } | null;
  /** The last time any of its drifts opened or resolved (null: never). */
  last_drift_change: number | null;
}

/** Why the earlier stack may not be promoted now (empty: it may). */
export function gateRefusals(spec: PromotionSpec, facts: GateFacts): string[] {
  const out: string[] = [];
  const { state } = facts;
  if (state === null) return [`${spec.from} has not been judged by the reconciler yet`];
  if (state.state_version !== facts.version)
    out.push(
      `${spec.from} ${facts.version} has not been judged by the reconciler yet (it last judged ${state.state_version})`,
    );
  if (state.status !== "healthy" || state.open_drifts > 0)
    out.push(`${spec.from} is ${state.status} with ${state.open_drifts} open drift(s)`);
  const since = Math.max(facts.applied_at, facts.last_drift_change ?? Number.NEGATIVE_INFINITY);
  const soaked = facts.now - since;
  if (out.length === 0 && soaked < spec.soak_seconds * 1000)
    out.push(
      `${spec.from} has been healthy for ${Math.floor(Math.max(0, soaked) / 1000)}s of its ${spec.soak_seconds}s soak`,
    );
  return out;
}

type Doc = Record<string, unknown>;

/** The raw parts document (nothing stripped), in the shape `promotedParts` compares. */
function rawParts(desired: DesiredStack, spec: PromotionSpec): Doc {
  return promotedParts(desired, { ...spec, ignore_paths: [] });
}

function getAt(doc: unknown, path: readonly string[]): { found: boolean; value: unknown } {
  let v = doc;
  for (const k of path) {
    if (v === null || typeof v !== "object" || !Object.prototype.hasOwnProperty.call(v, k))
      return { found: false, value: undefined };
    v = (v as Doc)[k];
  }
  return { found: true, value: v };
}

function setAt(doc: Doc, path: readonly string[], found: boolean, value: unknown): void {
  let at: Doc = doc;
  for (const k of path.slice(0, -1)) {
    if (at[k] === null || typeof at[k] !== "object") {
      if (!found) return;
      at[k] = {};
    }
    at = at[k] as Doc;
  }
  const last = path[path.length - 1]!;
  if (found) at[last] = structuredClone(value);
  else delete at[last];
}

/**
 * The later stack's content after promoting the earlier one: each matched part from the earlier stack, the later
 * stack's own values at its `ignore` pointers. Null when that changes nothing.
 */
export function promotedContent(earlier: DesiredStack, later: DesiredStack, spec: PromotionSpec): DesiredStack | null {
  const doc = structuredClone(rawParts(earlier, spec));
  const own = rawParts(later, spec);
  for (const pointer of spec.ignore_paths) {
    const path = parsePointer(pointer);
    const mine = getAt(own, path);
    setAt(doc, path, mine.found, mine.value);
  }
  const next: DesiredStack = { ...later };
  for (const part of spec.match) {
    if (part === "integrations") {
      const list = (doc.integrations ?? {}) as Record<string, { config: unknown; ignore: string[] }>;
      next.integrations = Object.entries(list).map(([name, i]) => ({ name, config: i.config, ignore_paths: i.ignore }));
    } else if (part === "resources") {
      const list = (doc.resources ?? {}) as Record<string, { arn: string; ignore: string[] }>;
      next.resources = Object.entries(list).map(([name, r]) => ({ name, arn: r.arn, ignore_paths: r.ignore }));
    } else {
      (next as unknown as Doc)[part] = structuredClone(doc[part]);
    }
  }
  return canonicalJson(promotedParts(next, spec)) === canonicalJson(promotedParts(later, spec)) &&
    canonicalJson(rawParts(next, spec)) === canonicalJson(rawParts(later, spec))
    ? null
    : next;
}
