/** A policy in the document form people write (the format of a stack's `policy:` in blackwell.yaml). Pure. */
import type { ReconciliationPolicy } from "../model/desired.js";

type Row = Record<string, unknown>;

export function policyDocument(policy: ReconciliationPolicy): Row {
  const p = policy as unknown as Row & { auto_heal: Row; notifications: { channels: Row[] } };
  const ah = p.auto_heal;
  return {
    schedule: p.schedule,
    auto_heal: {
      enabled: ah.enabled,
      max_attempts: ah.max_attempts,
      backoff_strategy: ah.backoff_strategy,
      backoff_base: `${String(ah.backoff_base_seconds)}s`,
      backoff_cap: `${String(ah.backoff_cap_seconds)}s`,
      allowed_drift_types: ah.allowed_drift_types,
      require_approval: ah.require_approval,
      ...(ah.circuit_breaker
        ? {
            circuit_breaker: {
              max_heals: (ah.circuit_breaker as Row).max_heals,
              window: `${String((ah.circuit_breaker as Row).window_seconds)}s`,
            },
          }
        : {}),
      ...(ah.flap_detection
        ? {
            flap_detection: {
              max_flips: (ah.flap_detection as Row).max_flips,
              window: `${String((ah.flap_detection as Row).window_seconds)}s`,
            },
          }
        : {}),
      ...(ah.windows ? { windows: ah.windows } : {}),
      ...(ah.content_quiet_period_seconds !== undefined
        ? { content_quiet_period: `${String(ah.content_quiet_period_seconds)}s` }
        : {}),
      ...(typeof ah.min_confidence === "number" && ah.min_confidence > 0 ? { min_confidence: ah.min_confidence } : {}),
      ...(ah.preempt ? { preempt: ah.preempt } : {}),
    },
    notifications: {
      channels: p.notifications.channels.map((c) =>
        Object.fromEntries(Object.entries(c).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0))),
      ),
    },
    observability: p.observability,
  };
}
