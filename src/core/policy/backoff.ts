/** The policy's heal backoff: delay before attempt `attempt` (2, 3, ...) after a failed or unverified one. */
import type { ReconciliationPolicy } from "../model/desired.js";

export function backoffMs(policy: ReconciliationPolicy["auto_heal"], attempt: number): number {
  if (attempt <= 1) return 0;
  const base = policy.backoff_base_seconds * 1000;
  const cap = policy.backoff_cap_seconds * 1000;
  const raw = policy.backoff_strategy === "linear" ? base * (attempt - 1) : base * 2 ** (attempt - 2);
  return Math.min(raw, cap);
}
