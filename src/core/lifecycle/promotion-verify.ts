/**
 * Automatic rollback of a promotion: a version published by a promotion is
 * watched for its verification window; when a drift of a kind its promotion
 * names (`verify.rollback_on`) opens on the stack within the window, the
 * reconciler issues one `desired.rollback` command (an executor publishes the
 * previous version again) with the drifts that caused it, and audits
 * `promotion_rolled_back`. Once per promoted version. Pure.
 */
import { derivedId } from "../ids.js";
import type { OpenDrift, StackEntry } from "../model/client-state.js";
import type { AuditOutput, HealCommandOutput } from "../model/outputs.js";

export interface VerifyContext {
  client_id: string;
  stack_id: string;
  now: number;
  reconciliation_id: string;
}

export interface Rollback {
  command: HealCommandOutput;
  audit: AuditOutput;
}

export function verifyPromotion(
  stack: StackEntry,
  opened: ReadonlySet<string>,
  drifts: Readonly<Record<string, OpenDrift>>,
  ctx: VerifyContext,
): Rollback | null {
  const { desired } = stack;
  const spec = desired.promotion;
  const from = desired.promoted_from;
  const previous = desired.previous_versions[0];
  if (!spec || !from || previous === undefined || stack.rolled_back === desired.state_version) return null;
  if (ctx.now > stack.applied_ms + spec.verify_window_seconds * 1000) return null;
  const causes = [...opened].filter((id) => drifts[id] && spec.rollback_on.includes(drifts[id].kind)).sort();
  if (causes.length === 0) return null;
  const params = { to_version: previous, from_version: desired.state_version, drifts: causes };
  const command: HealCommandOutput = {
    command_key: derivedId("rollback", ctx.client_id, ctx.stack_id, desired.state_version),
    client_id: ctx.client_id,
    stack_id: ctx.stack_id,
    drift_id: causes[0]!,
    reconciliation_id: ctx.reconciliation_id,
    action: "desired.rollback",
    params,
    attempt: 1,
    not_before: ctx.now,
    issued_at: ctx.now,
    approved_by: null,
  };
  const kinds = causes.map((id) => drifts[id]!.kind);
  return {
    command,
    audit: {
      audit_id: derivedId("aud", ctx.reconciliation_id, "promotion_rolled_back", ctx.stack_id),
      at: ctx.now,
      action: "promotion_rolled_back",
      client_id: ctx.client_id,
      stack_id: ctx.stack_id,
      drift_id: causes[0]!,
      triggered_by: "policy",
      success: true,
      changes_made: { ...params, promoted_from: from, command_key: command.command_key },
      approval_required: false,
      approver: null,
      reason: `${[...new Set(kinds)].join(", ")} opened within ${spec.verify_window_seconds}s of promoting ${from.stack_id} ${from.state_version}: a rollback to ${previous} is issued (command ${command.command_key})`,
    },
  };
}
