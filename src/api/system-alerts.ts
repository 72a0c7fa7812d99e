/**
 * The alerts the console's fleet page shows as firing, judged from what the API can see itself (the reconciler's
 * consumer lag, the dead-letter topic, the fleet in its replica). Pure: the figures come in, the alerts go out.
 * Prometheus judges its own rules (deploy/prometheus/alerts.yml) from the roles' metrics; these need no Prometheus.
 */

export type AlertSeverity = "critical" | "warning";

export interface FiringAlert {
  alert: string;
  severity: AlertSeverity;
  summary: string;
}

export interface SystemFigures {
  /** Input records the reconciler has not committed yet. */
  lagRecords: number;
  /** Over the measuring window; null until the window is long enough to say. */
  ingestPerSecond: number | null;
  processedPerSecond: number | null;
  windowSeconds: number | null;
  /** The lag when the window started (null until it is long enough). */
  lagAtWindowStart: number | null;
  /** Dead letters added within the window (null until it is long enough). */
  deadLettersInWindow: number | null;
  stacksInError: number;
  openCriticalDrifts: number;
  /** The API's replica: records it has not applied yet. */
  replicaLagRecords: number;
}

/** Consumer lag above which the reconciler is behind even while it makes progress. */
export const LAG_WARNING_RECORDS = 10_000;
/** Replica lag above which the API's answers are noticeably stale. */
export const REPLICA_LAG_WARNING_RECORDS = 1_000;

const RANK: Record<AlertSeverity, number> = { critical: 0, warning: 1 };
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function firingAlerts(f: SystemFigures): FiringAlert[] {
  const alerts: FiringAlert[] = [];
  const window = f.windowSeconds === null ? "" : ` in the last ${Math.round(f.windowSeconds)} s`;
  // Records waited through the whole window and none was processed (a record that just arrived is not a stall).
  if (f.lagRecords > 0 && (f.lagAtWindowStart ?? 0) > 0 && f.processedPerSecond === 0) {
    alerts.push({
      alert: "ReconcilerStalled",
      severity: "critical",
      summary: `${plural(f.lagRecords, "input record")} waiting and none processed${window}: is a reconciler running?`,
    });
  } else if (f.lagRecords > LAG_WARNING_RECORDS) {
    const rates =
      f.ingestPerSecond === null || f.processedPerSecond === null
        ? ""
        : ` (arriving ${f.ingestPerSecond.toFixed(0)}/s, processed ${f.processedPerSecond.toFixed(0)}/s)`;
    alerts.push({
      alert: "ReconcilerBehind",
      severity: "warning",
      summary: `${plural(f.lagRecords, "input record")} behind${rates}`,
    });
  }
  if (f.stacksInError > 0) {
    alerts.push({
      alert: "StacksInError",
      severity: "critical",
      summary: `${plural(f.stacksInError, "stack")} in error: healing gave up or was rejected`,
    });
  }
  if (f.openCriticalDrifts > 0) {
    alerts.push({
      alert: "CriticalDriftOpen",
      severity: "critical",
      summary: `${plural(f.openCriticalDrifts, "critical drift")} open`,
    });
  }
  if (f.deadLettersInWindow !== null && f.deadLettersInWindow > 0) {
    alerts.push({
      alert: "DeadLettersArriving",
      severity: "warning",
      summary: `${plural(f.deadLettersInWindow, "record")} dead-lettered${window}: see the dlq topic for the reasons`,
    });
  }
  if (f.replicaLagRecords > REPLICA_LAG_WARNING_RECORDS) {
    alerts.push({
      alert: "ReplicaBehind",
      severity: "warning",
      summary: `this API's replica is ${plural(f.replicaLagRecords, "record")} behind: its answers are stale`,
    });
  }
  return alerts.sort((a, b) => RANK[a.severity] - RANK[b.severity] || (a.alert < b.alert ? -1 : 1));
}
