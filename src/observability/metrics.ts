/**
 * Prometheus metrics with the spec's names. Labels are bounded sets (drift
 * type, severity, action, outcome, topic role), never client, stack or drift
 * ids.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { SEVERITIES } from "../core/model/desired.js";
import { PRECURSORS } from "../core/predict/precursors.js";
import { DRIFT_TYPES, HEAL_ACTIONS } from "../core/model/vocabulary.js";

export interface Metrics {
  registry: Registry;
  reconciliationDuration: Histogram<"trigger">;
  reconciliationSuccess: Counter<"trigger">;
  reconciliationFailure: Counter<"trigger">;
  driftDetected: Counter<"drift_type" | "severity">;
  driftResolved: Counter<"drift_type">;
  driftPredictions: Counter<"transition" | "precursor">;
  autoHealAttempts: Counter<"action">;
  autoHealSuccess: Counter<"action">;
  autoHealFailure: Counter<"action">;
  activeReconciliations: Gauge;
  stateCacheClients: Gauge;
  stateCacheBytes: Gauge;
  stateConsistency: Gauge;
  eventLag: Histogram;
  latencyPhase: Histogram<"phase">;
  lateRecords: Counter;
  dlqRecords: Counter<"source">;
  webhookRequests: Counter<"provider" | "outcome">;
  replicaLag: Gauge;
  notificationsSent: Counter<"channel" | "outcome">;
}

/** Sources of `active_reconciliations`: each running reconciler registers how many of its passes are under way. */
const activeSources = new Set<() => number>();

/** Counts `source()` into `active_reconciliations` until the returned function is called. */
export function countActiveReconciliations(source: () => number): () => void {
  activeSources.add(source);
  return () => activeSources.delete(source);
}

/** Sources of the `reconciler_state_cache_*` gauges: each running reconciler's decoded client states. */
const stateCacheSources = new Set<() => { clients: number; bytes: number }>();

/** Counts `source()` into `reconciler_state_cache_clients` and `_bytes` until the returned function is called. */
export function countStateCache(source: () => { clients: number; bytes: number }): () => void {
  stateCacheSources.add(source);
  return () => stateCacheSources.delete(source);
}

function stateCacheTotal(measure: "clients" | "bytes"): number {
  let n = 0;
  for (const source of stateCacheSources) n += source()[measure];
  return n;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const r = { registers: [registry] };
  const metrics: Metrics = {
    registry,
    reconciliationDuration: new Histogram({
      ...r,
      name: "reconciliation_duration_seconds",
      help: "Time to reconcile one batch of inputs, fold to committed transaction",
      labelNames: ["trigger"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    reconciliationSuccess: new Counter({
      ...r,
      name: "reconciliation_success_total",
      help: "Reconciliation passes committed",
      labelNames: ["trigger"],
    }),
    reconciliationFailure: new Counter({
      ...r,
      name: "reconciliation_failure_total",
      help: "Reconciliation passes aborted (retried)",
      labelNames: ["trigger"],
    }),
    driftDetected: new Counter({
      ...r,
      name: "drift_detected_total",
      help: "Drifts opened",
      labelNames: ["drift_type", "severity"],
    }),
    driftResolved: new Counter({
      ...r,
      name: "drift_resolved_total",
      help: "Drifts resolved by observation",
      labelNames: ["drift_type"],
    }),
    driftPredictions: new Counter({
      ...r,
      name: "drift_predictions_total",
      help: "Predicted drifts by transition (predicted, confirmed, expired) and precursor",
      labelNames: ["transition", "precursor"],
    }),
    autoHealAttempts: new Counter({
      ...r,
      name: "auto_heal_attempts_total",
      help: "Heal commands issued by policy or approval",
      labelNames: ["action"],
    }),
    autoHealSuccess: new Counter({
      ...r,
      name: "auto_heal_success_total",
      help: "Heal actions that succeeded (for builds: the build finished successfully)",
      labelNames: ["action"],
    }),
    autoHealFailure: new Counter({
      ...r,
      name: "auto_heal_failure_total",
      help: "Heal actions that failed",
      labelNames: ["action"],
    }),
    activeReconciliations: new Gauge({
      ...r,
      name: "active_reconciliations",
      help: "Reconciliation passes in progress",
      // Read at scrape time from the process's reconcilers (`countActiveReconciliations`); 0 in other roles.
      collect() {
        this.set([...activeSources].reduce((n, source) => n + source(), 0));
      },
    }),
    stateConsistency: new Gauge({
      ...r,
      name: "state_consistency_score",
      help: "Share of stacks whose observed state matches the desired state (0..1)",
    }),
    eventLag: new Histogram({
      ...r,
      name: "event_processing_lag_seconds",
      help: "From an input event's timestamp to its reconciliation being committed",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    }),
    latencyPhase: new Histogram({
      ...r,
      name: "reconciler_latency_phase_seconds",
      help: "Where detection latency goes: fetch (record time to fetched) and queue (fetched to its pass starting) per record; process (pass start to commit) and commit (the transaction commit) per pass",
      labelNames: ["phase"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    lateRecords: new Counter({
      ...r,
      name: "late_records_total",
      help: "Input records older than their task's stream time when taken (processed where they arrived; see late_record in the audit)",
    }),
    dlqRecords: new Counter({
      ...r,
      name: "dlq_records_total",
      help: "Records sent to the dead-letter topic",
      labelNames: ["source"],
    }),
    webhookRequests: new Counter({
      ...r,
      name: "webhook_requests_total",
      help: "Webhook requests by outcome",
      labelNames: ["provider", "outcome"],
    }),
    stateCacheClients: new Gauge({
      ...r,
      name: "reconciler_state_cache_clients",
      help: "Client states held decoded in memory (BLACKWELL_STATE_CACHE_MB); the others are read back from the task stores",
      collect() {
        this.set(stateCacheTotal("clients"));
      },
    }),
    stateCacheBytes: new Gauge({
      ...r,
      name: "reconciler_state_cache_bytes",
      help: "Estimated heap of the client states held decoded in memory, within BLACKWELL_STATE_CACHE_MB",
      collect() {
        this.set(stateCacheTotal("bytes"));
      },
    }),
    replicaLag: new Gauge({
      ...r,
      name: "api_replica_lag_records",
      help: "Records on the replicated topics not yet in the API's read replica",
    }),
    notificationsSent: new Counter({
      ...r,
      name: "notifications_total",
      help: "Notifications by channel type and outcome",
      labelNames: ["channel", "outcome"],
    }),
  };
  zeroKnownLabels(metrics);
  return metrics;
}

/**
 * Exports every counter's known label sets at 0 from the start. A series that first appears at 1 hides that
 * increment from rate() and increase(): the first drift of a kind or the first successful heal of a process never
 * fired BlackwellDriftDetected / BlackwellAutoHealSucceeded and showed as no change on a dashboard. It also gives
 * failure counters a series (0) before the first failure, so error-rate panels read 0 instead of "no data".
 * Only bounded sets: the vocabulary's drift types, severities and heal actions, the two triggers, the notifier's
 * channel types (webhook outcomes are HTTP statuses and stay as they come).
 */
function zeroKnownLabels(m: Metrics): void {
  for (const trigger of ["event", "schedule"]) {
    m.reconciliationSuccess.inc({ trigger }, 0);
    m.reconciliationFailure.inc({ trigger }, 0);
  }
  for (const drift_type of DRIFT_TYPES) {
    for (const severity of SEVERITIES) m.driftDetected.inc({ drift_type, severity }, 0);
    m.driftResolved.inc({ drift_type }, 0);
  }
  for (const action of HEAL_ACTIONS) {
    m.autoHealAttempts.inc({ action }, 0);
    m.autoHealSuccess.inc({ action }, 0);
    m.autoHealFailure.inc({ action }, 0);
  }
  for (const transition of ["predicted", "confirmed", "expired"])
    for (const precursor of PRECURSORS) m.driftPredictions.inc({ transition, precursor }, 0);
  m.dlqRecords.inc({ source: "reconciler" }, 0);
  for (const channel of ["slack", "webhook"])
    for (const outcome of ["sent", "failed"]) m.notificationsSent.inc({ channel, outcome }, 0);
}

let shared: Metrics | null = null;

/** One registry per process, so roles run together (`run all`) report on one /metrics. */
export function processMetrics(): Metrics {
  return (shared ??= createMetrics());
}

/** What a committed reconciler pass adds to the metrics. */
export function recordPass(
  m: Metrics,
  pass: {
    records: number;
    dlq: number;
    late?: number;
    durationMs: number;
    newestEventAt: number | null;
    phases?: { fetch: number[]; queue: number[]; process: number; commit: number };
    outputs: {
      transitions: Array<{ transition: string; drift_type: string; severity: string }>;
      healCommands: Array<{ action: string }>;
      predictions?: Array<{ transition: string; precursor: string }>;
    };
  },
): void {
  const trigger = pass.records > 0 ? "event" : "schedule";
  m.reconciliationDuration.observe({ trigger }, pass.durationMs / 1000);
  m.reconciliationSuccess.inc({ trigger });
  if (pass.newestEventAt !== null) m.eventLag.observe(Math.max(0, (Date.now() - pass.newestEventAt) / 1000));
  if (pass.phases) {
    const { fetch, queue, process, commit } = pass.phases;
    const fetched = m.latencyPhase.labels("fetch");
    for (const ms of fetch) fetched.observe(ms / 1000);
    const queued = m.latencyPhase.labels("queue");
    for (const ms of queue) queued.observe(ms / 1000);
    m.latencyPhase.observe({ phase: "process" }, process / 1000);
    m.latencyPhase.observe({ phase: "commit" }, commit / 1000);
  }
  if (pass.dlq > 0) m.dlqRecords.inc({ source: "reconciler" }, pass.dlq);
  if (pass.late) m.lateRecords.inc(pass.late);
  for (const t of pass.outputs.transitions) {
    if (t.transition === "opened") m.driftDetected.inc({ drift_type: t.drift_type, severity: t.severity });
    if (t.transition === "resolved") m.driftResolved.inc({ drift_type: t.drift_type });
  }
  for (const c of pass.outputs.healCommands) m.autoHealAttempts.inc({ action: c.action });
  for (const p of pass.outputs.predictions ?? [])
    m.driftPredictions.inc({ transition: p.transition, precursor: p.precursor });
}

/** What an executor outcome adds. */
export function recordHeal(m: Metrics, action: string, status: string): void {
  if (status === "failed") m.autoHealFailure.inc({ action });
  else if (status === "succeeded") m.autoHealSuccess.inc({ action });
}
