import type { ReconciliationPolicy } from "../model/desired.js";

/** Whether policy lets a drift of `kind` be healed without a human. */
export function autoHealEligible(policy: ReconciliationPolicy, kind: string): boolean {
  const p = policy.auto_heal;
  return p.enabled && p.allowed_drift_types.includes(kind) && !p.require_approval.includes(kind);
}
