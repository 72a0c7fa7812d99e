/**
 * The spec's technical and business KPIs over a window, per client and for
 * the fleet, from the drift transitions and audit entries as the topics hold
 * them: the same records give the same report, so it can be rebuilt by replay.
 * Pure: the reading is the caller's.
 *
 * - time to detection: an opened drift's time minus its first evidence;
 * - time to recovery: a resolved drift's time minus its opening;
 * - auto-heal success rate: heal actions the executors finished successfully,
 *   of those they finished (succeeded or failed);
 * - false positives: openings an operator rejected as false
 *   (`reject --false-positive`), and openings that resolved within the
 *   transient window with no heal issued and no operator decision;
 * - manual interventions: operator decisions and actions that took effect;
 * - configuration compliance: the share of each stack's time in the window
 *   with no open drift.
 */
import { isoTime } from "../iso-time.js";

export interface ReportTransition {
  client_id: string;
  stack_id: string;
  drift_id: string;
  transition: string;
  drift_type: string;
  component: string;
  severity: string;
  /** When this opening of the drift opened (ms). */
  detected_at: number;
  /** When this transition happened (ms). */
  at: number;
  /** On `opened`: the first evidence (ms), or null for records written before it was recorded. */
  evidence_at: number | null;
  /** A `resolved` that closed the drift because its stack or client was removed, not because it was fixed. */
  closed_by_removal?: boolean;
}

export interface ReportAudit {
  client_id: string;
  stack_id: string | null;
  drift_id: string | null;
  action: string;
  at: number;
  triggered_by: string;
  success: boolean;
  approver: string | null;
  reason: string | null;
  changes: Record<string, unknown>;
}

export interface ReportWindow {
  from: number;
  to: number;
  /** An opening that resolves within this long with nothing done counts as a false positive (transient). */
  transient_ms: number;
}

export interface Spread {
  count: number;
  mean_seconds: number | null;
  p95_seconds: number | null;
}

export interface HealRecord {
  at: string;
  stack_id: string | null;
  drift_id: string | null;
  action: string;
  attempt: number | null;
  command_key: string | null;
  approver: string | null;
  triggered_by: string;
  outcome: "succeeded" | "failed" | "started" | "no outcome yet";
  outcome_at: string | null;
  error: string | null;
}

export interface Kpis {
  drifts_opened: number;
  drifts_resolved: number;
  time_to_detection: Spread;
  time_to_recovery: Spread;
  auto_heal: { issued: number; succeeded: number; failed: number; success_rate: number | null };
  false_positives: { rejected_as_false: number; transient: number; rate: number | null };
  manual_interventions: { total: number; by_action: Record<string, number> };
  /** Share of the stacks' time in the window with no open drift; null when no stack existed in the window. */
  configuration_compliance: number | null;
}

export interface ClientReport {
  client_id: string;
  kpis: Kpis;
  stacks: Array<{ stack_id: string; healthy_share: number; unhealthy_seconds: number }>;
  heals: HealRecord[];
}

export interface ComplianceReport {
  from: string;
  to: string;
  transient_seconds: number;
  fleet: Kpis;
  clients: ClientReport[];
}

/** Operator commands' audit actions: a person acted. */
export const MANUAL_ACTIONS = [
  "drift_acknowledged",
  "heal_approved",
  "heal_rejected",
  "stack_pause",
  "stack_resume",
  "stack_reconcile",
  "rollback",
] as const;

const openingKey = (drift_id: string, detected_at: number) => `${drift_id}@${detected_at}`;

export function complianceReport(
  transitions: readonly ReportTransition[],
  audits: readonly ReportAudit[],
  window: ReportWindow,
  onlyClient: string | null = null,
): ComplianceReport {
  // Grouped once: a fleet holds thousands of clients.
  const byClient = new Map<string, { transitions: ReportTransition[]; audits: ReportAudit[] }>();
  const of = (client_id: string) => {
    let g = byClient.get(client_id);
    if (!g) byClient.set(client_id, (g = { transitions: [], audits: [] }));
    return g;
  };
  for (const t of transitions)
    if (onlyClient === null || t.client_id === onlyClient) of(t.client_id).transitions.push(t);
  for (const a of audits) if (onlyClient === null || a.client_id === onlyClient) of(a.client_id).audits.push(a);
  const built = [...byClient.keys()]
    .sort()
    .map((client_id) =>
      clientReport(client_id, byClient.get(client_id)!.transitions, byClient.get(client_id)!.audits, window),
    );
  return {
    from: isoTime(window.from),
    to: isoTime(window.to),
    transient_seconds: window.transient_ms / 1000,
    fleet: fleetKpis(built, window),
    clients: built.map((b) => b.report),
  };
}

/** A client's report with the figures the fleet's are made of. */
interface Built {
  report: ClientReport;
  ttd: number[];
  ttr: number[];
  spans: { healthy: number; total: number };
}

function clientReport(
  client_id: string,
  transitions: readonly ReportTransition[],
  audits: readonly ReportAudit[],
  w: ReportWindow,
): Built {
  const inWindow = (at: number) => at >= w.from && at < w.to;
  const opened = transitions.filter((t) => t.transition === "opened" && inWindow(t.at));
  const resolved = transitions.filter((t) => t.transition === "resolved" && inWindow(t.at));
  const ttd = opened.flatMap((t) => (t.evidence_at === null ? [] : [Math.max(0, t.at - t.evidence_at)]));
  // A drift closed because its stack or client went away did not recover.
  const ttr = resolved.flatMap((t) => (t.closed_by_removal ? [] : [Math.max(0, t.at - t.detected_at)]));

  const issued = audits.filter((a) => a.action === "heal_command_issued");
  const outcomes = new Map<string, ReportAudit>();
  for (const a of audits) {
    const [, status] = a.action.split(":");
    const key = typeof a.changes.command_key === "string" ? a.changes.command_key : null;
    if (key === null || (status !== "succeeded" && status !== "failed" && status !== "started")) continue;
    const before = outcomes.get(key);
    // A finished outcome wins over `started`, whatever order the audit holds them in.
    if (!before || before.action.endsWith(":started") || (!a.action.endsWith(":started") && a.at >= before.at))
      outcomes.set(key, a);
  }
  const finished = [...outcomes.values()].filter((a) => inWindow(a.at) && !a.action.endsWith(":started"));
  const succeeded = finished.filter((a) => a.action.endsWith(":succeeded")).length;
  const failed = finished.length - succeeded;

  const manual = tookEffect(audits, transitions).filter((a) => inWindow(a.at));
  const byAction: Record<string, number> = {};
  for (const a of manual) byAction[a.action] = (byAction[a.action] ?? 0) + 1;

  const resolutions = new Map<string, ReportTransition>();
  for (const t of transitions)
    if (t.transition === "resolved") resolutions.set(openingKey(t.drift_id, t.detected_at), t);
  const byDrift = new Map<string, ReportAudit[]>();
  for (const a of audits) {
    if (a.drift_id === null) continue;
    const list = byDrift.get(a.drift_id);
    if (list) list.push(a);
    else byDrift.set(a.drift_id, [a]);
  }
  const rejectedAsFalse = new Set<string>();
  let transient = 0;
  for (const o of opened) {
    const key = openingKey(o.drift_id, o.detected_at);
    const end = resolutions.get(key);
    const mine = byDrift.get(o.drift_id) ?? [];
    const rejected = mine.some(
      (a) =>
        a.action === "heal_rejected" &&
        a.success &&
        a.changes.false_positive === true &&
        a.at >= o.detected_at &&
        (end === undefined || a.at <= end.at),
    );
    if (rejected) {
      rejectedAsFalse.add(key);
      continue;
    }
    if (end === undefined || end.at - o.detected_at > w.transient_ms) continue;
    const touched = mine.some(
      (a) =>
        a.at >= o.detected_at &&
        a.at <= end.at &&
        (a.action === "heal_command_issued" || (MANUAL_ACTIONS as readonly string[]).includes(a.action)),
    );
    if (!touched) transient++;
  }

  const stacks = stackCompliance(transitions, audits, w);
  const spans = stacks.reduce((s, x) => ({ healthy: s.healthy + x.healthy_ms, total: s.total + x.total_ms }), {
    healthy: 0,
    total: 0,
  });
  const kpis: Kpis = {
    drifts_opened: opened.length,
    drifts_resolved: resolved.length,
    time_to_detection: spread(ttd),
    time_to_recovery: spread(ttr),
    auto_heal: {
      issued: issued.filter((a) => inWindow(a.at)).length,
      succeeded,
      failed,
      success_rate: ratio(succeeded, finished.length),
    },
    false_positives: {
      rejected_as_false: rejectedAsFalse.size,
      transient,
      rate: ratio(rejectedAsFalse.size + transient, opened.length),
    },
    manual_interventions: { total: manual.length, by_action: byAction },
    configuration_compliance: spans.total > 0 ? round(spans.healthy / spans.total) : null,
  };
  const report: ClientReport = {
    client_id,
    kpis,
    stacks: stacks.map((s) => ({
      stack_id: s.stack_id,
      healthy_share: round(s.total_ms > 0 ? s.healthy_ms / s.total_ms : 1),
      unhealthy_seconds: Math.round((s.total_ms - s.healthy_ms) / 1000),
    })),
    heals: issued
      .filter((a) => inWindow(a.at))
      .map((a) => healRecord(a, outcomes))
      .sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0)),
  };
  return { report, ttd, ttr, spans };
}

/** Operator decisions on one drift: the reconciler audits a repeat as done, though the drift already had it. */
const DRIFT_DECISIONS: readonly string[] = ["drift_acknowledged", "heal_approved", "heal_rejected"];

/**
 * The operator commands that took effect, earliest first. The reconciler audits a second `reject` (or `approve`,
 * `ack`) of a drift that already had it as a success like the first, with nothing to tell them apart: counted as
 * they stand, an operator who repeated a command counted twice as a manual intervention. A decision counts once per
 * opening of its drift (the latest opening at or before it; a drift that reopened can be decided again).
 */
function tookEffect(audits: readonly ReportAudit[], transitions: readonly ReportTransition[]): ReportAudit[] {
  const openings = new Map<string, number[]>();
  for (const t of transitions) {
    if (t.transition !== "opened") continue;
    const list = openings.get(t.drift_id);
    if (list) list.push(t.at);
    else openings.set(t.drift_id, [t.at]);
  }
  const seen = new Set<string>();
  return audits
    .filter((a) => a.success && (MANUAL_ACTIONS as readonly string[]).includes(a.action))
    .sort((x, y) => x.at - y.at)
    .filter((a) => {
      if (a.drift_id === null || !DRIFT_DECISIONS.includes(a.action)) return true;
      const opening = Math.max(-Infinity, ...(openings.get(a.drift_id) ?? []).filter((at) => at <= a.at));
      const key = `${a.action}|${openingKey(a.drift_id, opening)}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

function healRecord(a: ReportAudit, outcomes: ReadonlyMap<string, ReportAudit>): HealRecord {
  const key = typeof a.changes.command_key === "string" ? a.changes.command_key : null;
  const outcome = key === null ? undefined : outcomes.get(key);
  const status = outcome?.action.split(":")[1] as HealRecord["outcome"] | undefined;
  return {
    at: isoTime(a.at),
    stack_id: a.stack_id,
    drift_id: a.drift_id,
    action: typeof a.changes.action === "string" ? a.changes.action : "unknown",
    attempt: typeof a.changes.attempt === "number" ? a.changes.attempt : null,
    command_key: key,
    // An approved heal names its approver on the issuing audit; the executor's audit repeats it.
    approver: a.approver ?? outcome?.approver ?? null,
    triggered_by: a.triggered_by,
    outcome: status ?? "no outcome yet",
    outcome_at: outcome ? isoTime(outcome.at) : null,
    error: outcome && outcome.action.endsWith(":failed") ? outcome.reason : null,
  };
}

interface StackSpan {
  stack_id: string;
  healthy_ms: number;
  total_ms: number;
}

/**
 * Per stack, how much of its time in the window no drift was open. A stack's time starts at its first applied
 * desired state (or the window's start, when that is before the records read) and ends when it was removed.
 */
function stackCompliance(
  transitions: readonly ReportTransition[],
  audits: readonly ReportAudit[],
  w: ReportWindow,
): StackSpan[] {
  const life = new Map<string, { start: number; end: number }>();
  for (const a of audits) {
    if (a.stack_id === null) continue;
    if (a.action === "desired_state_applied" && !life.has(a.stack_id))
      life.set(a.stack_id, { start: a.at, end: Infinity });
    if (a.action === "desired_state_removed") {
      const l = life.get(a.stack_id);
      if (l) l.end = a.at;
    }
  }
  for (const t of transitions) if (!life.has(t.stack_id)) life.set(t.stack_id, { start: -Infinity, end: Infinity });

  const out: StackSpan[] = [];
  for (const [stack_id, l] of [...life].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const start = Math.max(w.from, l.start);
    const end = Math.min(w.to, l.end);
    if (end <= start) continue;
    const open = new Map<string, number>();
    const spans: Array<[number, number]> = [];
    for (const t of transitions) {
      if (t.stack_id !== stack_id) continue;
      const key = openingKey(t.drift_id, t.detected_at);
      if (t.transition === "opened") open.set(key, t.at);
      else if (t.transition === "resolved" && open.has(key)) {
        spans.push([open.get(key)!, t.at]);
        open.delete(key);
      }
    }
    for (const at of open.values()) spans.push([at, Infinity]);
    const unhealthy = unionLength(spans.map(([a, b]) => [Math.max(a, start), Math.min(b, end)] as [number, number]));
    out.push({ stack_id, healthy_ms: end - start - unhealthy, total_ms: end - start });
  }
  return out;
}

/** Total length of a union of intervals (empty ones ignored). */
function unionLength(spans: Array<[number, number]>): number {
  const sorted = spans.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let cur: [number, number] | null = null;
  for (const s of sorted) {
    if (cur && s[0] <= cur[1]) cur[1] = Math.max(cur[1], s[1]);
    else {
      if (cur) total += cur[1] - cur[0];
      cur = [s[0], s[1]];
    }
  }
  return cur ? total + cur[1] - cur[0] : total;
}

function fleetKpis(parts: readonly Built[], w: ReportWindow): Kpis {
  if (parts.length === 0) return clientReport("", [], [], w).report.kpis;
  const sum = (f: (k: Kpis) => number) => parts.reduce((n, p) => n + f(p.report.kpis), 0);
  const byAction: Record<string, number> = {};
  for (const p of parts)
    for (const [a, n] of Object.entries(p.report.kpis.manual_interventions.by_action))
      byAction[a] = (byAction[a] ?? 0) + n;
  const healthy = parts.reduce((n, p) => n + p.spans.healthy, 0);
  const total = parts.reduce((n, p) => n + p.spans.total, 0);
  const opened = sum((k) => k.drifts_opened);
  const succeeded = sum((k) => k.auto_heal.succeeded);
  const failed = sum((k) => k.auto_heal.failed);
  const rejected = sum((k) => k.false_positives.rejected_as_false);
  const transient = sum((k) => k.false_positives.transient);
  return {
    drifts_opened: opened,
    drifts_resolved: sum((k) => k.drifts_resolved),
    time_to_detection: spread(parts.flatMap((p) => p.ttd)),
    time_to_recovery: spread(parts.flatMap((p) => p.ttr)),
    auto_heal: {
      issued: sum((k) => k.auto_heal.issued),
      succeeded,
      failed,
      success_rate: ratio(succeeded, succeeded + failed),
    },
    false_positives: { rejected_as_false: rejected, transient, rate: ratio(rejected + transient, opened) },
    manual_interventions: { total: sum((k) => k.manual_interventions.total), by_action: byAction },
    configuration_compliance: total > 0 ? round(healthy / total) : null,
  };
}

/** Mean and 95th percentile (nearest rank) of durations in ms, in seconds. */
function spread(ms: number[]): Spread {
  if (ms.length === 0) return { count: 0, mean_seconds: null, p95_seconds: null };
  const sorted = [...ms].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const p95 = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)]!;
  return { count: ms.length, mean_seconds: round(mean / 1000, 3), p95_seconds: round(p95 / 1000, 3) };
}

const ratio = (n: number, d: number): number | null => (d > 0 ? round(n / d) : null);
const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;
