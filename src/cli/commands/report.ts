/**
 * `blackwell report [client] [--from T] [--to T] [--transient D] [--format md|json|csv]`: the spec's KPIs and the
 * heal audit trail over a window, computed from the drift-events and audit topics as Kafka holds them now, so the
 * same records always give the same report.
 */
import { parseArgs } from "node:util";
import { reportAuditOf, reportTransitionOf } from "../../adapters/kafka/report-records.js";
import { complianceReport } from "../../core/report/compliance-report.js";
import { REPORT_FORMATS, renderReport, type ReportFormat } from "../../core/report/render-report.js";
import { reportWindow } from "../../core/report/report-window.js";
import { readRecords } from "../../runtime/read-records.js";
import { EXIT, UsageError, withContext } from "../cli-kit.js";
import { ID_PATTERN as CLIENT } from "../../core/model/validate-desired.js";

export async function report(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      from: { type: "string" },
      to: { type: "string" },
      transient: { type: "string" },
      format: { type: "string" },
      json: { type: "boolean" },
    },
  });
  if (positionals.length > 1) throw new UsageError(`one client at most, got ${positionals.join(" ")}`);
  const client = positionals[0] ?? null;
  if (client !== null && !CLIENT.test(client)) throw new UsageError(`${JSON.stringify(client)} is not a client id`);
  const format = (values.format ?? (values.json ? "json" : "md")) as ReportFormat;
  if (!REPORT_FORMATS.includes(format))
    throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(", ")}, got ${JSON.stringify(values.format)}`);
  if (values.json && values.format !== undefined && values.format !== "json")
    throw new UsageError("--json and --format disagree; give one");
  const window = reportWindow({ from: values.from, to: values.to, transient: values.transient }, Date.now());
  if ("error" in window) throw new UsageError(window.error);

  const { transitions, audits, records } = await withContext(async (ctx) => {
    const [drifts, entries] = await Promise.all([
      readRecords<Record<string, unknown>>(ctx, "drift-events", client),
      readRecords<Record<string, unknown>>(ctx, "audit", client),
    ]);
    return {
      transitions: drifts.flatMap((r) => (r.value ? [reportTransitionOf(r.value)].filter((x) => x !== null) : [])),
      audits: entries.flatMap((r) => (r.value ? [reportAuditOf(r.value)].filter((x) => x !== null) : [])),
      records: drifts.length + entries.length,
    };
  });
  // A mistyped client got an empty report that read like a clean one. A known client with a quiet window still
  // gets its report (zero counts): only a client the topics hold nothing of, at any time, is refused.
  if (client !== null && records === 0) {
    console.error(
      `no records of client ${JSON.stringify(client)} in the drift-events and audit topics (an unknown client, or its records aged out)`,
    );
    return EXIT.problem;
  }
  process.stdout.write(renderReport(complianceReport(transitions, audits, window, client), format));
  return EXIT.ok;
}
