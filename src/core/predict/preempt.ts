/**
 * Acting on a prediction before the drift opens (policy `auto_heal.preempt`): a heal command for a predicted drift of
 * a kind the policy names, when the prediction is sure enough, auto-healing is on, the stack is not paused, the kind
 * needs no approval and the stack's circuit breaker is closed. Audited `heal_preempted`; the prediction is marked, so
 * its expiry says the drift was prevented rather than wrongly predicted.
 */
import { derivedId } from "../ids.js";
import type { OpenDrift, OpenPrediction, StackEntry } from "../model/client-state.js";
import { DEFAULT_GUARDS, type Role } from "../model/desired.js";
import type { AuditOutput, HealCommandOutput } from "../model/outputs.js";
import { healActionFor } from "../model/vocabulary.js";
import { withParams } from "../lifecycle/heal-step.js";
import { isoTime } from "../iso-time.js";

export interface PreemptContext {
  client_id: string;
  stack_id: string;
  now: number;
  reconciliation_id: string;
  /** Heal times in the circuit breaker's window, this pass's included. */
  heal_log: number[];
}

export interface Preempted {
  commands: HealCommandOutput[];
  audits: AuditOutput[];
  /** Drift ids of the predictions acted on. */
  acted: string[];
}

export function preempt(stack: StackEntry, made: readonly OpenPrediction[], ctx: PreemptContext): Preempted {
  const out: Preempted = { commands: [], audits: [], acted: [] };
  const policy = stack.desired.policy.auto_heal;
  const rule = policy.preempt;
  if (!rule || !policy.enabled || stack.paused) return out;
  const breaker = policy.circuit_breaker ?? DEFAULT_GUARDS.circuit_breaker;
  const heals = ctx.heal_log.filter((t) => t > ctx.now - breaker.window_seconds * 1000).length;
  let room = breaker.max_heals - heals;
  for (const p of made) {
    const action = healActionFor(p.kind);
    if (
      action === null ||
      p.confidence < rule.min_confidence ||
      !rule.drift_types.includes(p.kind) ||
      policy.require_approval.includes(p.kind) ||
      room <= 0
    )
      continue;
    room--;
    const predicted: OpenDrift = {
      drift_id: p.drift_id,
      type: p.type,
      kind: p.kind,
      component: p.component,
      expected: p.type === "provider" ? stack.desired.providers[p.component as Role] : "healthy",
      observed: `predicted (${p.precursor})`,
      severity: "low",
      detected_at: p.predicted_at,
      acknowledged: false,
      ack_emitted: false,
      transitions: 0,
    };
    const command: HealCommandOutput = {
      command_key: derivedId("heal", "preempt", p.drift_id, p.predicted_at),
      client_id: ctx.client_id,
      stack_id: ctx.stack_id,
      drift_id: p.drift_id,
      reconciliation_id: ctx.reconciliation_id,
      ...withParams(action, predicted, stack),
      attempt: 1,
      not_before: ctx.now,
      issued_at: ctx.now,
      approved_by: null,
    };
    out.commands.push(command);
    out.acted.push(p.drift_id);
    out.audits.push({
      audit_id: derivedId("aud", ctx.reconciliation_id, "heal_preempted", p.drift_id),
      at: ctx.now,
      action: "heal_preempted",
      client_id: ctx.client_id,
      stack_id: ctx.stack_id,
      drift_id: p.drift_id,
      triggered_by: "policy",
      success: true,
      changes_made: {
        action: command.action,
        command_key: command.command_key,
        prediction: {
          precursor: p.precursor,
          confidence: p.confidence,
          expected_at: isoTime(p.expected_at),
        },
      },
      approval_required: false,
      approver: null,
      reason: `${p.kind} on ${p.component} predicted with confidence ${p.confidence} (at least ${rule.min_confidence}): ${p.evidence}`,
    });
  }
  return out;
}
