/** The compliance report as Markdown (for people) or CSV (one row per client and one for the fleet). */
import type { ComplianceReport, Kpis, Spread } from "./compliance-report.js";

export const REPORT_FORMATS = ["json", "md", "csv"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function renderReport(report: ComplianceReport, format: ReportFormat): string {
  switch (format) {
    case "json":
      return `${JSON.stringify(report, null, 2)}\n`;
    case "md":
      return markdown(report);
    case "csv":
      return csv(report);
  }
}

const pct = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)}%`);
const secs = (x: number | null) => (x === null ? "—" : `${x} s`);
const spreadText = (s: Spread) =>
  s.count === 0 ? "— (none)" : `mean ${secs(s.mean_seconds)}, p95 ${secs(s.p95_seconds)} (${s.count})`;

function kpiRows(k: Kpis): string[][] {
  return [
    ["Drifts opened / resolved", `${k.drifts_opened} / ${k.drifts_resolved}`],
    ["Time to detection (evidence to opened)", spreadText(k.time_to_detection)],
    ["Time to recovery (opened to resolved)", spreadText(k.time_to_recovery)],
    [
      "Auto-heal success rate",
      `${pct(k.auto_heal.success_rate)} (${k.auto_heal.succeeded} succeeded, ${k.auto_heal.failed} failed, ${k.auto_heal.issued} issued)`,
    ],
    [
      "False-positive rate",
      `${pct(k.false_positives.rate)} (${k.false_positives.rejected_as_false} rejected as false, ${k.false_positives.transient} transient)`,
    ],
    [
      "Manual interventions",
      `${k.manual_interventions.total}${
        k.manual_interventions.total > 0
          ? ` (${Object.entries(k.manual_interventions.by_action)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([a, n]) => `${a} ${n}`)
              .join(", ")})`
          : ""
      }`,
    ],
    ["Configuration compliance (time healthy)", pct(k.configuration_compliance)],
  ];
}

/** A Markdown cell: pipes escaped, newlines flattened. */
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
const mdTable = (head: string[], rows: string[][]) =>
  [
    `| ${head.map(cell).join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");

function markdown(r: ComplianceReport): string {
  const out = [
    `# Compliance report`,
    "",
    `Window ${r.from} to ${r.to}. A drift that resolved within ${r.transient_seconds} s with no heal and no operator decision counts as a false positive.`,
    "",
    `## Fleet (${r.clients.length} client${r.clients.length === 1 ? "" : "s"})`,
    "",
    mdTable(["KPI", "Value"], kpiRows(r.fleet)),
  ];
  for (const c of r.clients) {
    out.push("", `## Client ${c.client_id}`, "", mdTable(["KPI", "Value"], kpiRows(c.kpis)));
    if (c.stacks.length > 0)
      out.push(
        "",
        mdTable(
          ["Stack", "Time healthy", "Time with drift open"],
          c.stacks.map((s) => [s.stack_id, pct(s.healthy_share), `${s.unhealthy_seconds} s`]),
        ),
      );
    out.push("", "### Heals", "");
    out.push(
      c.heals.length === 0
        ? "No heal in the window."
        : mdTable(
            ["Issued", "Stack", "Drift", "Action", "Attempt", "Approver", "Outcome", "Error"],
            c.heals.map((h) => [
              h.at,
              h.stack_id ?? "",
              h.drift_id ?? "",
              h.action,
              h.attempt === null ? "" : String(h.attempt),
              h.approver ?? "policy (no approval needed)",
              h.outcome_at ? `${h.outcome} at ${h.outcome_at}` : h.outcome,
              h.error ?? "",
            ]),
          ),
    );
  }
  return `${out.join("\n")}\n`;
}

const CSV_HEAD = [
  "client_id",
  "from",
  "to",
  "drifts_opened",
  "drifts_resolved",
  "ttd_mean_seconds",
  "ttd_p95_seconds",
  "ttr_mean_seconds",
  "ttr_p95_seconds",
  "heals_issued",
  "heals_succeeded",
  "heals_failed",
  "auto_heal_success_rate",
  "false_positives_rejected",
  "false_positives_transient",
  "false_positive_rate",
  "manual_interventions",
  "configuration_compliance",
];

/** RFC 4180: quoted when it holds a comma, quote or line break. */
const csvField = (v: string | number | null) => {
  const s = v === null ? "" : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function csv(r: ComplianceReport): string {
  const row = (client: string, k: Kpis) =>
    [
      client,
      r.from,
      r.to,
      k.drifts_opened,
      k.drifts_resolved,
      k.time_to_detection.mean_seconds,
      k.time_to_detection.p95_seconds,
      k.time_to_recovery.mean_seconds,
      k.time_to_recovery.p95_seconds,
      k.auto_heal.issued,
      k.auto_heal.succeeded,
      k.auto_heal.failed,
      k.auto_heal.success_rate,
      k.false_positives.rejected_as_false,
      k.false_positives.transient,
      k.false_positives.rate,
      k.manual_interventions.total,
      k.configuration_compliance,
    ]
      .map(csvField)
      .join(",");
  // The fleet's row is named `*`, as an admin principal is: no client id can be `*`.
  return `${[CSV_HEAD.join(","), ...r.clients.map((c) => row(c.client_id, c.kpis)), row("*", r.fleet)].join("\r\n")}\r\n`;
}
