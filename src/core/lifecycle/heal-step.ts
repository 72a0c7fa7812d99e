/**
 * The healing part of a pass: for every drift still open after the lifecycle
 * step, ask the policy what to do; issue a heal command (deterministic key),
 * or audit why not, once per decision. A drift that resolved in this pass is
 * no longer open here, so it can never get a command.
 */
import { derivedId } from "../ids.js";
import { emptyHeal, type OpenDrift, type StackEntry } from "../model/client-state.js";
import { DEFAULT_GUARDS, type Severity } from "../model/desired.js";
import type { AuditOutput, HealCommandOutput } from "../model/outputs.js";
import { decideHeal } from "../policy/heal-decision.js";
import type { HealAction, HealActionWithParams } from "../model/vocabulary.js";
import { isoTime } from "../iso-time.js";

export interface HealStepResult {
  drifts: Record<string, OpenDrift>;
  commands: HealCommandOutput[];
  audits: AuditOutput[];
  /** Drift events to emit with a note (breaker opened: note; severity escalated: updated), once each. */
  notes: Array<{ drift_id: string; note: string; transition?: "note" | "updated" }>;
  /** Earliest time a waiting heal may proceed, for re-evaluation. */
  deadline: number | null;
  heal_log: number[];
  breaker_opened_at: number | null;
}

export interface HealStepContext {
  client_id: string;
  stack_id: string;
  now: number;
  reconciliation_id: string;
  /** Newest unbuilt content change, for the rebuild's quiet period. */
  latestContentAt?: number | null;
  /** Coordinated healing: why `drift` must wait for the earlier environment's same drift (null: it need not). */
  earlierFirst?: (drift: OpenDrift) => string | null;
}

/** The action with the parameters an executor needs for it on `drift`, from the declared composition. */
export function withParams(action: HealAction, drift: OpenDrift, stack: StackEntry): HealActionWithParams {
  const { desired } = stack;
  switch (action) {
    case "resource.rebuild": {
      const resource = desired.resources.find((r) => r.name === drift.component);
      const reason = `resource ${drift.component} is ${JSON.stringify(drift.observed)}`;
      const arn = resource?.arn ?? null;
      return { action, params: { resource: drift.component, arn, project: desired.build_project, reason } };
    }
    case "site.rebuild": {
      const reason = "tracked content published after the last successful build";
      return { action, params: { project: desired.build_project ?? drift.component, reason } };
    }
    case "provider.register":
      // A provider drift's expected value is the declared provider's name.
      return { action, params: { provider_type: drift.component, provider_name: String(drift.expected) } };
    case "desired.rollback":
      // Issued by a promotion's verification (promotion-verify.ts), never for a drift kind.
      throw new Error("desired.rollback is not a drift's heal action");
    case "integration.configure": {
      const name = drift.component.replace(/\/webhook$/, "");
      const configuration = desired.integrations.find((i) => i.name === name)?.config ?? null;
      return { action, params: { integration: name, configuration } };
    }
  }
}

export function healStep(stack: StackEntry, drifts: Record<string, OpenDrift>, ctx: HealStepContext): HealStepResult {
  const policy = stack.desired.policy;
  const breaker = policy.auto_heal.circuit_breaker ?? DEFAULT_GUARDS.circuit_breaker;
  const windowMs = breaker.window_seconds * 1000;
  const quietMs = (policy.auto_heal.content_quiet_period_seconds ?? DEFAULT_GUARDS.content_quiet_period_seconds) * 1000;
  const out: HealStepResult = {
    drifts: {},
    commands: [],
    audits: [],
    notes: [],
    deadline: null,
    heal_log: (stack.heal_log ?? []).filter((t) => t > ctx.now - windowMs),
    breaker_opened_at: stack.breaker_opened_at ?? null,
  };
  const stackAudit = (action: string, changes: unknown, reason: string): AuditOutput => ({
    audit_id: derivedId("aud", ctx.reconciliation_id, action, ctx.stack_id),
    at: ctx.now,
    action,
    client_id: ctx.client_id,
    stack_id: ctx.stack_id,
    drift_id: null,
    triggered_by: "policy",
    success: true,
    changes_made: changes,
    approval_required: false,
    approver: null,
    reason,
  });
  const openUntil = () =>
    out.heal_log.length >= breaker.max_heals ? out.heal_log[out.heal_log.length - breaker.max_heals]! + windowMs : null;
  if (out.breaker_opened_at !== null && openUntil() === null) {
    out.audits.push(
      stackAudit(
        "circuit_breaker_closed",
        { heals_in_window: out.heal_log.length, max_heals: breaker.max_heals },
        "fewer heals than the limit in the window: healing resumes",
      ),
    );
    out.breaker_opened_at = null;
  }
  const wait = (at: number) => {
    out.deadline = Math.min(out.deadline ?? at, at);
  };

  for (const [id, drift] of Object.entries(drifts)) {
    const heal = drift.heal ?? emptyHeal();
    const history = {
      attempts: heal.attempts,
      lastIssuedAt: heal.last_issued_at,
      approvedBy: heal.approved_by,
      rejected: heal.rejected,
      flapping: heal.flapping ?? null,
      ...(drift.confidence ? { confidence: drift.confidence.value } : {}),
    };
    const quiet = ctx.latestContentAt != null ? ctx.latestContentAt + quietMs : null;
    const decision = decideHeal(policy, drift.kind, history, {
      now: ctx.now,
      paused: stack.paused,
      breakerOpenUntil: openUntil(),
      contentQuietAt: quiet,
      earlierFirst: ctx.earlierFirst?.(drift) ?? null,
    });
    const audit = (action: string, success: boolean, changes: unknown, approver: string | null): AuditOutput => ({
      audit_id: derivedId("aud", ctx.reconciliation_id, action, id, heal.attempts),
      at: ctx.now,
      action,
      client_id: ctx.client_id,
      stack_id: ctx.stack_id,
      drift_id: id,
      triggered_by: approver ?? "policy",
      success,
      changes_made: changes,
      approval_required: policy.auto_heal.require_approval.includes(drift.kind),
      approver,
      reason: decision.reason,
    });
    if (decision.decision === "heal_now") {
      const command: HealCommandOutput = {
        command_key: derivedId("heal", id, drift.detected_at, decision.attempt),
        client_id: ctx.client_id,
        stack_id: ctx.stack_id,
        drift_id: id,
        reconciliation_id: ctx.reconciliation_id,
        ...withParams(decision.action, drift, stack),
        attempt: decision.attempt,
        not_before: decision.notBefore,
        issued_at: ctx.now,
        approved_by: heal.approved_by,
      };
      out.commands.push(command);
      out.audits.push(
        audit(
          "heal_command_issued",
          true,
          { action: command.action, attempt: command.attempt, command_key: command.command_key },
          heal.approved_by,
        ),
      );
      out.drifts[id] = {
        ...drift,
        heal: {
          ...heal,
          attempts: decision.attempt,
          last_issued_at: ctx.now,
          last_result: null,
          last_decision: "heal_now",
        },
      };
      out.heal_log.push(ctx.now);
      const until = openUntil();
      if (until !== null && out.breaker_opened_at === null) {
        out.breaker_opened_at = ctx.now;
        const reason = `${out.heal_log.length} heals within ${breaker.window_seconds}s reached the limit of ${breaker.max_heals}: no more heal commands for this stack until ${isoTime(until)}`;
        out.audits.push(
          stackAudit(
            "circuit_breaker_opened",
            {
              heals_in_window: out.heal_log.length,
              max_heals: breaker.max_heals,
              open_until: isoTime(until),
            },
            reason,
          ),
        );
        out.notes.push({ drift_id: id, note: `circuit breaker opened: ${reason}` });
      }
      // Still open after the backoff: the next attempt is due then.
      const next = decideHeal(
        policy,
        drift.kind,
        { ...history, attempts: decision.attempt, lastIssuedAt: ctx.now },
        { now: ctx.now, paused: stack.paused },
      );
      if (next.decision === "wait_backoff") wait(next.notBefore);
      continue;
    }
    if (
      decision.decision === "wait_backoff" ||
      decision.decision === "wait_window" ||
      decision.decision === "wait_breaker" ||
      decision.decision === "wait_quiet"
    )
      wait(decision.notBefore);
    const key = `${decision.decision}:${decision.reason}`;
    // Backoff and quiet-period waits are routine; every other decision is audited once per distinct reason.
    if (decision.decision === "exhausted" && heal.last_decision !== key) {
      // Out of attempts: a person has to look. Raise the severity one level (pages reach more people) and say so.
      const raised = escalate(drift.severity);
      out.audits.push(audit("heal_exhausted", false, { severity: { from: drift.severity, to: raised } }, null));
      out.drifts[id] = {
        ...drift,
        severity: raised,
        heal: { ...heal, last_decision: key, escalated_from: heal.escalated_from ?? drift.severity },
      };
      if (raised !== drift.severity)
        out.notes.push({
          drift_id: id,
          transition: "updated",
          note: `heal attempts exhausted (${decision.reason}): severity escalated from ${drift.severity} to ${raised}`,
        });
    } else if (
      decision.decision !== "wait_backoff" &&
      decision.decision !== "wait_quiet" &&
      heal.last_decision !== key
    ) {
      out.audits.push(audit(`heal_${decision.decision}`, decision.decision !== "exhausted", {}, null));
      out.drifts[id] = { ...drift, heal: { ...heal, last_decision: key } };
    } else {
      out.drifts[id] = drift;
    }
  }
  return out;
}

const LEVELS: readonly Severity[] = ["low", "medium", "high", "critical"];
const escalate = (s: Severity): Severity => LEVELS[Math.min(LEVELS.indexOf(s) + 1, LEVELS.length - 1)]!;

/** A stack is `error` when a drift ran out of heal attempts, `reconciling` while heals are in flight. */
export function stackStatus(
  drifts: Record<string, OpenDrift>,
  maxAttempts: number,
): "healthy" | "drift_detected" | "reconciling" | "error" {
  const open = Object.values(drifts);
  if (open.length === 0) return "healthy";
  if (open.some((d) => (d.heal?.attempts ?? 0) >= maxAttempts && d.heal?.last_decision?.startsWith("exhausted")))
    return "error";
  if (open.some((d) => (d.heal?.attempts ?? 0) > 0)) return "reconciling";
  return "drift_detected";
}
