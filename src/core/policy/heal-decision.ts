/**
 * The policy engine: for one open drift, alert only, wait for approval, wait
 * for the backoff, give up, or heal now. Pure: time, attempts and approvals
 * are inputs. Order: off/paused/rejected/flapping -> approval -> allowed ->
 * confidence (unless approved) -> attempts and backoff -> heal window ->
 * circuit breaker -> the earlier environment first -> content quiet period.
 */
import type { ReconciliationPolicy } from "../model/desired.js";
import { DEFAULT_GUARDS } from "../model/desired.js";
import { backoffMs } from "./backoff.js";
import { nextOpening, windowBlock } from "./heal-windows.js";
import { healActionFor, type DriftKind, type HealAction } from "../model/vocabulary.js";
import { isoTime } from "../iso-time.js";

export interface HealHistory {
  /** Attempts issued so far for this opening of the drift. */
  attempts: number;
  /** When the last attempt was issued (stream time), if any. */
  lastIssuedAt: number | null;
  /** Approved by this person (an `approve` command), if any. */
  approvedBy: string | null;
  /** Rejected by an operator: never heal this opening. */
  rejected: boolean;
  /** Why this drift is considered flapping (alert only), if it is. */
  flapping?: string | null;
  /** How sure the reconciler is of the drift, 0..1 (absent: not known, which no min_confidence accepts). */
  confidence?: number;
}

export type HealDecision =
  | { decision: "alert_only"; reason: string }
  | { decision: "await_approval"; reason: string }
  | { decision: "wait_confidence"; reason: string }
  | { decision: "wait_earlier"; reason: string }
  | { decision: "wait_backoff"; reason: string; notBefore: number }
  | { decision: "wait_window" | "wait_breaker" | "wait_quiet"; reason: string; notBefore: number }
  | { decision: "exhausted"; reason: string }
  | { decision: "heal_now"; reason: string; action: HealAction; attempt: number; notBefore: number };

export interface HealContext {
  now: number;
  paused: boolean;
  /** The stack's circuit breaker is open until then. */
  breakerOpenUntil?: number | null;
  /** Content is still being published: a site rebuild waits until then. */
  contentQuietAt?: number | null;
  /**
   * Coordinated healing (promotion.coordinate_heals): why the same drift must first be healed, and verified, in the
   * earlier environment (null: it is not open there).
   */
  earlierFirst?: string | null;
}

export function decideHeal(
  policy: ReconciliationPolicy,
  kind: DriftKind,
  history: HealHistory,
  ctx: HealContext,
): HealDecision {
  const p = policy.auto_heal;
  const action = healActionFor(kind);
  if (!p.enabled) return { decision: "alert_only", reason: "auto-heal is off in the policy" };
  if (ctx.paused) return { decision: "alert_only", reason: "reconciliation is paused for this stack" };
  if (action === null) return { decision: "alert_only", reason: `no heal action exists for ${kind}` };
  if (history.rejected) return { decision: "alert_only", reason: "an operator rejected healing this drift" };
  if (history.flapping) return { decision: "alert_only", reason: history.flapping };
  const needsApproval = p.require_approval.includes(kind);
  if (needsApproval && history.approvedBy === null)
    return { decision: "await_approval", reason: `${kind} requires approval` };
  if (!needsApproval && !p.allowed_drift_types.includes(kind))
    return { decision: "alert_only", reason: `${kind} is not in allowed_drift_types` };
  // An approval is a person's judgment that the drift is real; without one, the evidence has to be strong enough.
  const minConfidence = p.min_confidence ?? 0;
  if (!needsApproval && minConfidence > 0 && (history.confidence ?? 0) < minConfidence)
    return {
      decision: "wait_confidence",
      reason: `confidence ${history.confidence ?? "unknown"} is below the policy's min_confidence ${minConfidence}: waits for more evidence`,
    };
  const attempt = history.attempts + 1;
  if (history.attempts >= p.max_attempts) {
    // The last attempt gets the same verification window as any other before we give up.
    const verifiedAt = (history.lastIssuedAt ?? ctx.now) + backoffMs(p, attempt);
    if (verifiedAt > ctx.now)
      return {
        decision: "wait_backoff",
        reason: `verifying attempt ${history.attempts}, the last one allowed`,
        notBefore: verifiedAt,
      };
    return { decision: "exhausted", reason: `${history.attempts} of ${p.max_attempts} attempts made` };
  }
  const notBefore = history.lastIssuedAt === null ? ctx.now : history.lastIssuedAt + backoffMs(p, attempt);
  if (notBefore > ctx.now)
    return {
      decision: "wait_backoff",
      reason: `attempt ${attempt} waits for the ${p.backoff_strategy} backoff`,
      notBefore,
    };
  const windows = p.windows ?? DEFAULT_GUARDS.windows;
  const blocked = windows.length > 0 ? windowBlock(windows, kind, ctx.now) : null;
  if (blocked) {
    const opens = nextOpening(windows, kind, ctx.now);
    if (opens === null) return { decision: "alert_only", reason: `${blocked}, and no window opens within 8 days` };
    return {
      decision: "wait_window",
      reason: `${blocked}; waits until ${isoTime(opens)}`,
      notBefore: opens,
    };
  }
  if (ctx.breakerOpenUntil != null && ctx.breakerOpenUntil > ctx.now) {
    return {
      decision: "wait_breaker",
      reason: `the stack's circuit breaker is open until ${isoTime(ctx.breakerOpenUntil)}`,
      notBefore: ctx.breakerOpenUntil,
    };
  }
  if (ctx.earlierFirst) return { decision: "wait_earlier", reason: ctx.earlierFirst };
  if (action === "site.rebuild" && ctx.contentQuietAt != null && ctx.contentQuietAt > ctx.now) {
    return {
      decision: "wait_quiet",
      reason: "content is still being published; one rebuild once it has been quiet for the quiet period",
      notBefore: ctx.contentQuietAt,
    };
  }
  return {
    decision: "heal_now",
    reason: needsApproval ? `approved by ${history.approvedBy}` : `${kind} is allowed to auto-heal`,
    action,
    attempt,
    notBefore,
  };
}
