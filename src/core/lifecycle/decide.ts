/**
 * decide(state, context) -> state + outputs: one level-based reconciliation
 * pass over every stack of a client. Drift is recomputed from the whole
 * observed state and compared with the open drifts, so each drift is opened
 * once, updated only when expected/observed/severity change and resolved only
 * when the observation matches again.
 */
import { nextWeighing, weigh } from "./confidence.js";
import { findPrecursors } from "../predict/precursors.js";
import { predictionStep, type PredictionStepResult } from "../predict/prediction-step.js";
import { preempt, type Preempted } from "../predict/preempt.js";
import { componentObservedAt, consistencyScore, observedComponents } from "./consistency.js";
import { canonicalJson } from "../canonical-json.js";
import { findDrifts, type Finding } from "../diff/find-drifts.js";
import { promotionDrift } from "../diff/promotion.js";
import { verifyPromotion } from "./promotion-verify.js";
import { observedHash } from "../diff/observed-composition.js";
import { observedView, type ObservedView } from "../diff/observed-view.js";
import { parseDuration } from "../duration.js";
import { derivedId, driftId } from "../ids.js";
import { emptyClient, emptyHeal, type ClientState, type OpenDrift, type StackEntry } from "../model/client-state.js";
import { DEFAULT_GUARDS } from "../model/desired.js";
import type { CommandIssued } from "../model/inputs.js";
import type { AuditOutput, DriftTransition, PassOutputs, StackStateView, TransitionKind } from "../model/outputs.js";
import { autoHealEligible } from "../policy/eligibility.js";
import { healStep, stackStatus } from "./heal-step.js";
import { healActionFor } from "../model/vocabulary.js";
import { own } from "../own-key.js";

export interface DecideContext {
  /** Stream time of this pass (epoch ms). */
  now: number;
  /** Deterministic id of this pass, derived from the input position. */
  reconciliation_id: string;
  /** What caused the pass, for the audit trail (`provider-events/3@120`, `tick`). */
  trigger: string;
  /** The operator command being processed, if any. */
  command?: CommandIssued;
  /** A desired state applied by this input: who applied it, and who approved it where a promotion needed that. */
  applied?: { stack_id: string; state_version: string; applied_by: string; approved_by?: string };
  /**
   * The observation scope the input changed (`*`, `env:x`, `stack:y`). Only
   * stacks that see that scope are re-evaluated; the others cannot have
   * changed. Absent: every stack (desired state, commands, schedule).
   */
  scope?: string;
}

/** Default of the policy's `schedule.interval`: the full re-evaluation that also refreshes last_verified. */
const DEFAULT_SCHEDULE_MS = 5 * 60_000;

export interface Decision {
  state: ClientState;
  outputs: PassOutputs;
}

export function decide(state: ClientState, ctx: DecideContext): Decision {
  if (ctx.command?.command === "offboard") return offboard(state, ctx, ctx.command);
  const outputs: PassOutputs = { transitions: [], stackStates: [], audits: [], healCommands: [], reevaluateAt: null };
  const stacks: Record<string, StackEntry> = {};
  const judged = new Set<string>();
  // Earlier environments first (a promotion chain's stacks after the stack they are promoted from), so a later stack
  // sees what this pass made of the earlier one; otherwise in the order the stacks came.
  for (const [stack_id, stack] of inChainOrder(state.stacks)) {
    if (stack.removed) {
      removeStack(state.client_id, stack_id, stack, ctx, outputs);
      continue;
    }
    const from = stack.desired.promotion?.from;
    const affected =
      ctx.scope === undefined ||
      seesScope(ctx.scope, stack_id, stack.desired.environment) ||
      (stack.deadline !== null && stack.deadline <= ctx.now) ||
      // What happens to the earlier stack can change this one's promotion drift and coordinated heals.
      (from !== undefined && judged.has(from));
    // The earlier stack as this pass left it (only a promoted stack needs it: no copy on the common path).
    const seen = from !== undefined ? own(stacks, from) : undefined;
    const client = seen ? { ...state, stacks: { ...state.stacks, [from!]: seen } } : state;
    const next = affected ? reconcileStack(client, stack_id, stack, ctx, outputs) : stack;
    if (affected) judged.add(stack_id);
    stacks[stack_id] = next;
    if (next.deadline !== null) outputs.reevaluateAt = Math.min(outputs.reevaluateAt ?? next.deadline, next.deadline);
  }
  auditInputs(state, ctx, outputs);
  return { state: { ...state, stacks }, outputs };
}

/**
 * Offboarding: every stack goes as if its desired state were removed (open drifts resolved, StateRecord
 * tombstoned), and the client's whole state is forgotten; audited once, with the stacks it had.
 */
function offboard(state: ClientState, ctx: DecideContext, command: CommandIssued): Decision {
  const outputs: PassOutputs = {
    transitions: [],
    stackStates: [],
    audits: [],
    healCommands: [],
    reevaluateAt: null,
    forget: true,
  };
  const stacks = Object.keys(state.stacks).sort();
  for (const stack_id of stacks) {
    const stack = state.stacks[stack_id]!;
    for (const open of Object.values(stack.drifts)) {
      const numbered = { ...open, transitions: open.transitions + 1 };
      outputs.transitions.push(
        transitionOf(state.client_id, stack_id, stack, numbered, "resolved", ctx, "client offboarded"),
      );
    }
    outputs.stackStates.push({ client_id: state.client_id, stack_id, state: null });
  }
  outputs.audits.push(
    audit(
      ctx,
      "client_offboarded",
      state.client_id,
      null,
      null,
      true,
      { command_id: command.command_id, stacks },
      command.reason,
      command.issued_by,
    ),
  );
  return { state: emptyClient(state.client_id), outputs };
}

/** Stacks by their depth in a promotion chain (a stack after the one it is promoted from), stable otherwise. */
function inChainOrder(stacks: Record<string, StackEntry>): Array<[string, StackEntry]> {
  const entries = Object.entries(stacks);
  if (entries.every(([, s]) => s.desired.promotion === undefined)) return entries;
  const depth = (id: string): number => {
    let d = 0;
    for (let at = own(stacks, id)?.desired.promotion?.from; at !== undefined && d < entries.length; d++)
      at = own(stacks, at)?.desired.promotion?.from;
    return d;
  };
  return entries
    .map((e, i) => [e, depth(e[0]), i] as const)
    .sort((a, b) => a[1] - b[1] || a[2] - b[2])
    .map(([e]) => e);
}

/** Whether a stack sees observations of `scope` (`*`, `env:<its environment>`, `stack:<its id>`), without building the keys. */
function seesScope(scope: string, stack_id: string, environment: string): boolean {
  return scope === "*" || isScope(scope, "env:", environment) || isScope(scope, "stack:", stack_id);
}

function isScope(scope: string, prefix: string, name: string): boolean {
  return scope.length === prefix.length + name.length && scope.startsWith(prefix) && scope.endsWith(name);
}

function reconcileStack(
  client: ClientState,
  stack_id: string,
  stack: StackEntry,
  ctx: DecideContext,
  outputs: PassOutputs,
): StackEntry {
  const { desired } = stack;
  const view = observedView(client, stack_id, desired.environment);
  const diff = findDrifts(desired, view, ctx.now, stack.applied_ms);
  const found = new Map<string, Finding>();
  for (const f of diff.findings) found.set(driftId(client.client_id, stack_id, f.type, f.component), f);
  const promotion = promotionDrift(client, stack, ctx.now);
  if (promotion.finding) {
    const f = promotion.finding;
    found.set(driftId(client.client_id, stack_id, f.type, f.component), f);
  }

  const drifts: Record<string, OpenDrift> = {};
  const emit = (drift: OpenDrift, transition: TransitionKind, note: string | null = null, evidenceAt?: number) => {
    const numbered = { ...drift, transitions: drift.transitions + 1 };
    outputs.transitions.push(
      transitionOf(client.client_id, stack_id, stack, numbered, transition, ctx, note, evidenceAt ?? null),
    );
    return numbered;
  };

  const flapPolicy = desired.policy.auto_heal.flap_detection ?? DEFAULT_GUARDS.flap_detection;
  const flaps: Record<string, number[]> = {};
  for (const [id, times] of Object.entries(stack.flaps ?? {})) {
    const recent = times.filter((t) => t > ctx.now - flapPolicy.window_seconds * 1000);
    if (recent.length > 0) flaps[id] = recent;
  }
  const notes: Array<{ drift_id: string; note: string; transition?: "note" | "updated" }> = [];
  let weighAgainAt: number | null = null;
  const opened = new Set<string>();

  for (const [id, finding] of found) {
    const open = stack.drifts[id];
    const confidence = weigh(finding.evidence, ctx.now, open?.confidence);
    const again = nextWeighing(finding.evidence, confidence);
    if (again !== null) weighAgainAt = Math.min(weighAgainAt ?? again, again);
    if (!open) {
      const openings = [...(flaps[id] ?? []), ctx.now];
      flaps[id] = openings;
      // A component that keeps going back and forth is fought over (often by a heal): stop healing it, say why.
      const healable =
        desired.policy.auto_heal.enabled &&
        healActionFor(finding.kind) !== null &&
        (desired.policy.auto_heal.allowed_drift_types.includes(finding.kind) ||
          desired.policy.auto_heal.require_approval.includes(finding.kind));
      const flapping =
        healable && openings.length >= flapPolicy.max_flips
          ? `flapping: opened ${openings.length} times within ${flapPolicy.window_seconds}s (limit ${flapPolicy.max_flips}); healing this drift is switched to alert-only until it stays resolved for that long`
          : null;
      const openedDrift: OpenDrift = {
        drift_id: id,
        type: finding.type,
        kind: finding.kind,
        component: finding.component,
        expected: finding.expected,
        observed: finding.observed,
        severity: finding.severity,
        detected_at: ctx.now,
        acknowledged: false,
        ack_emitted: false,
        transitions: 0,
        confidence,
        ...(flapping ? { heal: { ...emptyHeal(), flapping } } : {}),
      };
      drifts[id] = emit(openedDrift, "opened", null, finding.evidence.at);
      opened.add(id);
      if (flapping) notes.push({ drift_id: id, note: flapping });
    } else if (!sameFinding({ ...open, severity: open.heal?.escalated_from ?? open.severity }, finding)) {
      // An escalated severity stays escalated for this opening.
      const severity = open.heal?.escalated_from ? open.severity : finding.severity;
      drifts[id] = emit(
        { ...open, kind: finding.kind, expected: finding.expected, observed: finding.observed, severity, confidence },
        "updated",
      );
    } else if (!sameConfidence(open.confidence, confidence)) {
      // More evidence of the same finding: carried by the state and the next transition, not a transition of its own.
      drifts[id] = { ...open, confidence };
    } else {
      drifts[id] = open;
    }
    const current = drifts[id]!;
    if (current.acknowledged && !current.ack_emitted)
      drifts[id] = emit({ ...current, ack_emitted: true }, "acknowledged");
  }
  for (const [id, open] of Object.entries(stack.drifts)) {
    if (!found.has(id)) emit(open, "resolved");
  }

  let latestContentAt: number | null = null;
  for (const type of desired.content_types) {
    const at = own(view.latest, type);
    if (at !== undefined && (latestContentAt === null || at > latestContentAt)) latestContentAt = at;
  }
  const heal = healStep(stack, drifts, {
    client_id: client.client_id,
    stack_id,
    now: ctx.now,
    reconciliation_id: ctx.reconciliation_id,
    latestContentAt,
    ...(desired.promotion?.coordinate_heals ? { earlierFirst: earlierFirst(client, desired.promotion.from) } : {}),
  });
  outputs.healCommands.push(...heal.commands);
  outputs.audits.push(...heal.audits);
  for (const { drift_id, note, transition } of [...notes, ...heal.notes]) {
    const d = heal.drifts[drift_id];
    if (d) heal.drifts[drift_id] = emit(d, transition ?? "note", note);
  }

  // StateRecords go out on change, on an explicit reconcile, and on the policy's
  // schedule (the scheduled full re-evaluation that refreshes last_verified).
  const schedule = parseDuration(desired.policy.schedule.interval) ?? DEFAULT_SCHEDULE_MS;
  // Guard memory is kept only while it holds something: most stacks never heal, and the changelog carries every stack.
  // Field by field, not `{ ...rest }` of a destructured stack: that copy was the costliest line of a judgment. A new
  // optional field of StackEntry must be carried over here too.
  let next: StackEntry = {
    desired,
    applied_ms: stack.applied_ms,
    created_ms: stack.created_ms,
    updated_ms: stack.updated_ms,
    last_verified_ms: ctx.now,
    drifts: heal.drifts,
    paused: stack.paused,
    removed: stack.removed,
    deadline: stack.deadline,
    emitted: stack.emitted,
  };
  if (stack.rolled_back !== undefined) next.rolled_back = stack.rolled_back;
  const rollback = verifyPromotion(next, opened, heal.drifts, {
    client_id: client.client_id,
    stack_id,
    now: ctx.now,
    reconciliation_id: ctx.reconciliation_id,
  });
  if (rollback) {
    outputs.healCommands.push(rollback.command);
    outputs.audits.push(rollback.audit);
    next.rolled_back = desired.state_version;
  }
  if (heal.heal_log.length > 0) next.heal_log = heal.heal_log;
  if (heal.breaker_opened_at !== null) next.breaker_opened_at = heal.breaker_opened_at;
  if (Object.keys(flaps).length > 0) next.flaps = flaps;
  const openings = recordOpenings(stack.openings, opened, heal.drifts, ctx.now);
  if (openings) next.openings = openings;
  const precursors = findPrecursors(client, stack_id, stack, view, ctx.now, openings);
  // Most judgments have nothing to predict and no prediction open: nothing to build.
  const predicted =
    precursors.candidates.length === 0 && stack.predictions === undefined
      ? NO_PREDICTIONS
      : predictionStep(stack.predictions ?? {}, precursors.candidates, {
          client_id: client.client_id,
          stack_id,
          now: ctx.now,
          reconciliation_id: ctx.reconciliation_id,
          opened,
          open: new Set(Object.keys(heal.drifts)),
        });
  const early =
    predicted.made.length === 0
      ? NO_PREEMPTION
      : preempt(next, predicted.made, {
          client_id: client.client_id,
          stack_id,
          now: ctx.now,
          reconciliation_id: ctx.reconciliation_id,
          heal_log: next.heal_log ?? [],
        });
  if (early.commands.length > 0) {
    outputs.healCommands.push(...early.commands);
    outputs.audits.push(...early.audits);
    next.heal_log = [...(next.heal_log ?? []), ...early.commands.map(() => ctx.now)];
    for (const id of early.acted) predicted.predictions[id] = { ...predicted.predictions[id]!, preempted: true };
    for (const t of predicted.transitions) if (early.acted.includes(t.drift_id)) t.preempted = true;
  }
  if (predicted.transitions.length > 0) (outputs.predictions ??= []).push(...predicted.transitions);
  if (Object.keys(predicted.predictions).length > 0) next.predictions = predicted.predictions;
  const print = `${stateFingerprint(next)}|observed:${observedComponents(desired, view)}`;
  const forced = ctx.command?.command === "reconcile";
  if (forced || !stack.emitted || stack.emitted.fingerprint !== print || ctx.now - stack.emitted.at >= schedule) {
    // The full view (with its observed hash) is built only when a StateRecord goes out.
    outputs.stackStates.push({
      client_id: client.client_id,
      stack_id,
      state: stateView(client.client_id, stack_id, next, view),
    });
    next = { ...next, emitted: { fingerprint: print, at: ctx.now } };
  }
  const deadlines = [next.emitted!.at + schedule];
  if (diff.nextDeadline !== null) deadlines.push(diff.nextDeadline);
  if (promotion.nextDeadline !== null) deadlines.push(promotion.nextDeadline);
  if (heal.deadline !== null) deadlines.push(heal.deadline);
  if (weighAgainAt !== null) deadlines.push(weighAgainAt);
  if (precursors.nextAt !== null) deadlines.push(precursors.nextAt);
  if (predicted.nextAt !== null) deadlines.push(predicted.nextAt);
  return { ...next, deadline: Math.min(...deadlines) };
}

/** Coordinated healing: a drift waits while the earlier stack has the same one (kind and component) open. */
function earlierFirst(client: ClientState, from: string): (drift: OpenDrift) => string | null {
  const earlier = own(client.stacks, from);
  return (drift) => {
    if (!earlier || earlier.removed) return null;
    const same = Object.values(earlier.drifts).find((d) => d.kind === drift.kind && d.component === drift.component);
    return same
      ? `${from} has the same ${drift.kind} on ${drift.component} open: it is healed and verified there first`
      : null;
  };
}

const NO_PREDICTIONS: PredictionStepResult = Object.freeze({
  predictions: {},
  transitions: [],
  made: [],
  nextAt: null,
}) as PredictionStepResult;
const NO_PREEMPTION: Preempted = Object.freeze({ commands: [], audits: [], acted: [] }) as Preempted;

/** Openings kept per drift, and for how long: enough to see a schedule, bounded. */
const OPENINGS_KEPT = 6;
const OPENINGS_FOR_MS = 30 * 86_400_000;

/** The stack's opening history with this pass's openings added (undefined when it holds none). */
function recordOpenings(
  before: StackEntry["openings"],
  opened: ReadonlySet<string>,
  drifts: Record<string, OpenDrift>,
  now: number,
): StackEntry["openings"] {
  if (opened.size === 0) return before && Object.keys(before).length > 0 ? before : undefined;
  const out: NonNullable<StackEntry["openings"]> = {};
  for (const [id, h] of Object.entries(before ?? {})) {
    const times = h.times.filter((t) => t > now - OPENINGS_FOR_MS);
    if (times.length > 0) out[id] = { ...h, times };
  }
  for (const id of opened) {
    const d = drifts[id];
    if (!d) continue;
    const times = [...(out[id]?.times ?? []), now].slice(-OPENINGS_KEPT);
    out[id] = { kind: d.kind, component: d.component, times };
  }
  return out;
}

function removeStack(
  client_id: string,
  stack_id: string,
  stack: StackEntry,
  ctx: DecideContext,
  outputs: PassOutputs,
): void {
  for (const open of Object.values(stack.drifts)) {
    outputs.transitions.push(
      transitionOf(
        client_id,
        stack_id,
        stack,
        { ...open, transitions: open.transitions + 1 },
        "resolved",
        ctx,
        "desired state removed",
      ),
    );
  }
  outputs.stackStates.push({ client_id, stack_id, state: null });
  outputs.audits.push(
    audit(
      ctx,
      "desired_state_removed",
      client_id,
      stack_id,
      null,
      true,
      { state_version: stack.desired.state_version },
      null,
    ),
  );
}

function sameConfidence(a: OpenDrift["confidence"], b: NonNullable<OpenDrift["confidence"]>): boolean {
  return a !== undefined && a.value === b.value && a.observations === b.observations && a.evidence_at === b.evidence_at;
}

function sameFinding(
  a: { expected: unknown; observed: unknown; severity: string },
  b: { expected: unknown; observed: unknown; severity: string },
): boolean {
  if (a.severity !== b.severity) return false;
  const same = (x: unknown, y: unknown) =>
    x === y ||
    (typeof x === "object" &&
      typeof y === "object" &&
      x !== null &&
      y !== null &&
      canonicalJson(x) === canonicalJson(y));
  return same(a.expected, b.expected) && same(a.observed, b.observed);
}

function transitionOf(
  client_id: string,
  stack_id: string,
  stack: StackEntry,
  drift: OpenDrift,
  transition: TransitionKind,
  ctx: DecideContext,
  note: string | null,
  evidenceAt: number | null = null,
): DriftTransition {
  return {
    event_id: derivedId("evt", drift.drift_id, drift.detected_at, drift.transitions, transition),
    reconciliation_id: ctx.reconciliation_id,
    client_id,
    stack_id,
    drift_id: drift.drift_id,
    transition,
    drift_type: drift.type,
    kind: drift.kind,
    component: drift.component,
    expected: drift.expected,
    observed: drift.observed,
    severity: drift.severity,
    detected_at: drift.detected_at,
    at: ctx.now,
    auto_heal_eligible: autoHealEligible(stack.desired.policy, drift.kind),
    auto_heal_attempted: (drift.heal?.attempts ?? 0) > 0,
    state_version: stack.desired.state_version,
    confidence: drift.confidence?.value ?? null,
    evidence_at: evidenceAt,
    note,
  };
}

function stateView(client_id: string, stack_id: string, stack: StackEntry, observed: ObservedView): StackStateView {
  const { desired } = stack;
  const drifts = Object.values(stack.drifts).sort((a, b) => (a.drift_id < b.drift_id ? -1 : 1));
  return {
    client_id,
    stack_id,
    desired_hash: desired.desired_hash,
    applied_hash: null,
    observed_hash: observedHash(observed),
    state_version: desired.state_version,
    observed_state_version: desired.state_version,
    previous_versions: desired.previous_versions,
    resources: {
      ...Object.fromEntries(desired.resources.map((r) => [r.name, r.arn])),
      ...(desired.build_project ? { build_project_name: desired.build_project } : {}),
    },
    last_applied: stack.applied_ms,
    last_verified: stack.last_verified_ms,
    created_at: stack.created_ms,
    updated_at: stack.updated_ms,
    status: stackStatus(stack.drifts, desired.policy.auto_heal.max_attempts),
    consistency_score: consistencyScore(desired, drifts),
    component_observed_at: componentObservedAt(desired, observed),
    drift_details: drifts.map((d) => ({
      drift_id: d.drift_id,
      type: d.type,
      component: d.component,
      expected: d.expected,
      observed: d.observed,
      severity: d.severity,
      detected_at: d.detected_at,
      acknowledged: d.acknowledged,
      confidence: d.confidence?.value ?? null,
    })),
    reconciliation_policy: {
      auto_heal: desired.policy.auto_heal.enabled,
      max_heal_attempts: desired.policy.auto_heal.max_attempts,
      heal_backoff: desired.policy.auto_heal.backoff_strategy,
      require_approval: desired.policy.auto_heal.require_approval,
    },
    observability: {
      metrics_endpoint: "",
      alert_channels: desired.policy.notifications.channels.map((c) => c.type),
    },
  };
}

/** What a StateRecord says apart from observation timestamps: emit when this changes. */
function stateFingerprint(stack: StackEntry): string {
  const drifts = Object.values(stack.drifts);
  const head = `${stack.desired.desired_hash}|${stack.desired.state_version}|${stackStatus(stack.drifts, stack.desired.policy.auto_heal.max_attempts)}`;
  if (drifts.length === 0) return head;
  return `${head}|${canonicalJson(drifts.sort((a, b) => (a.drift_id < b.drift_id ? -1 : 1)).map((d) => [d.drift_id, d.expected, d.observed, d.severity, d.acknowledged, d.confidence?.value ?? null]))}`;
}

function auditInputs(state: ClientState, ctx: DecideContext, outputs: PassOutputs): void {
  if (ctx.applied) {
    outputs.audits.push(
      audit(
        ctx,
        "desired_state_applied",
        state.client_id,
        ctx.applied.stack_id,
        null,
        true,
        { state_version: ctx.applied.state_version },
        null,
        ctx.applied.applied_by,
        ctx.applied.approved_by ?? null,
      ),
    );
  }
  const command = ctx.command;
  if (!command) return;
  const target = command.drift_id
    ? Object.entries(state.stacks).find(([, s]) => command.drift_id! in s.drifts)
    : undefined;
  switch (command.command) {
    case "acknowledge":
      outputs.audits.push(
        target
          ? audit(
              ctx,
              "drift_acknowledged",
              state.client_id,
              target[0],
              command.drift_id,
              true,
              { command_id: command.command_id },
              command.reason,
              command.issued_by,
            )
          : audit(
              ctx,
              "drift_acknowledged",
              state.client_id,
              command.stack_id,
              command.drift_id,
              false,
              { command_id: command.command_id },
              "no open drift with this id",
              command.issued_by,
            ),
      );
      return;
    case "pause":
    case "resume": {
      const missing = noSuchStack(state, command.stack_id);
      outputs.audits.push(
        audit(
          ctx,
          `stack_${command.command}`,
          state.client_id,
          command.stack_id,
          null,
          missing === null,
          { command_id: command.command_id },
          missing ?? command.reason,
          command.issued_by,
        ),
      );
      return;
    }
    case "reconcile": {
      // What the forced pass found, so whoever asked can read the outcome from the audit trail.
      const views = outputs.stackStates.flatMap((s) =>
        s.state !== null && (command.stack_id === null || s.stack_id === command.stack_id) ? [s.state] : [],
      );
      // Nothing reconciled (an unknown client or stack) is a refusal, so the operator is not told "done".
      const missing = noSuchStack(state, command.stack_id);
      outputs.audits.push(
        audit(
          ctx,
          "stack_reconcile",
          state.client_id,
          command.stack_id,
          null,
          missing === null,
          {
            command_id: command.command_id,
            reconciliation_id: ctx.reconciliation_id,
            stacks: Object.fromEntries(views.map((v) => [v.stack_id, v.status])),
            drift_count: views.reduce((n, v) => n + v.drift_details.length, 0),
            heal_commands_issued: outputs.healCommands.filter(
              (c) => command.stack_id === null || c.stack_id === command.stack_id,
            ).length,
          },
          missing ?? command.reason,
          command.issued_by,
        ),
      );
      return;
    }
    case "approve":
    case "reject": {
      const drift = target?.[1].drifts[command.drift_id!];
      // A rejection is final for this opening of the drift (the policy never heals it): an approval after it changes
      // nothing and must say so rather than report success.
      const refusal = !drift
        ? "no open drift with this id"
        : command.command === "approve" && drift.heal?.rejected
          ? "healing this drift was rejected: it stays alert-only until it resolves, and an approval cannot undo that"
          : null;
      outputs.audits.push(
        audit(
          ctx,
          `heal_${command.command === "approve" ? "approved" : "rejected"}`,
          state.client_id,
          target?.[0] ?? command.stack_id,
          command.drift_id,
          refusal === null,
          command.false_positive
            ? { command_id: command.command_id, false_positive: true }
            : { command_id: command.command_id },
          refusal ?? command.reason,
          command.issued_by,
          command.command === "approve" && refusal === null ? command.issued_by : null,
        ),
      );
      return;
    }
    case "rollback":
      outputs.audits.push(
        audit(
          ctx,
          command.command,
          state.client_id,
          command.stack_id,
          command.drift_id,
          false,
          {},
          "not supported by this reconciler version",
          command.issued_by,
        ),
      );
      return;
  }
}

/** Why a stack-addressed command has nothing to act on (an unknown client, or stack), or null if it has. */
function noSuchStack(state: ClientState, stack_id: string | null): string | null {
  const live = Object.keys(state.stacks).filter((id) => !state.stacks[id]!.removed);
  if (stack_id === null) return live.length > 0 ? null : `client ${state.client_id} has no stacks`;
  return live.includes(stack_id) ? null : `client ${state.client_id} has no stack ${stack_id}`;
}

function audit(
  ctx: DecideContext,
  action: string,
  client_id: string,
  stack_id: string | null,
  drift_id: string | null,
  success: boolean,
  changes: unknown,
  reason: string | null,
  by?: string,
  approver: string | null = null,
): AuditOutput {
  return {
    audit_id: derivedId("aud", ctx.reconciliation_id, action, stack_id, drift_id),
    at: ctx.now,
    action,
    client_id,
    stack_id,
    drift_id,
    triggered_by: by ?? ctx.trigger,
    success,
    changes_made: changes,
    approval_required: approver !== null,
    approver,
    reason,
  };
}
