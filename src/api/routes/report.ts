/**
 * The compliance report (src/core/report): a client's at `GET /v1/clients/{client}/report`, the fleet's at
 * `GET /v1/report` (admin tokens only), as JSON, Markdown or CSV, from the replica's drift events and audit entries.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { reportAuditOf, reportTransitionOf } from "../../adapters/kafka/report-records.js";
import { complianceReport } from "../../core/report/compliance-report.js";
import { REPORT_FORMATS, renderReport, type ReportFormat } from "../../core/report/render-report.js";
import { reportWindow } from "../../core/report/report-window.js";
import { visibleClient } from "../client-scope.js";
import { fail } from "../error-reply.js";
import { principalOf } from "../route-auth.js";
import type { ReplicaReads, RouteDeps } from "../route-deps.js";
import { params, type Params } from "../route-schemas.js";

export const reportQuerystring = {
  type: "object",
  additionalProperties: false,
  properties: {
    from: {
      type: "string",
      maxLength: 64,
      description: "ISO 8601 time or a duration ago (30d); default: 30 days before to",
    },
    to: { type: "string", maxLength: 64, description: "ISO 8601 time or a duration ago; default: now" },
    transient: {
      type: "string",
      maxLength: 16,
      description: "a drift resolved this fast with nothing done is a false positive; default 2m",
    },
    format: { type: "string", enum: [...REPORT_FORMATS] },
  },
} as const;

type Query = { from?: string; to?: string; transient?: string; format?: ReportFormat };

const CONTENT_TYPE: Record<ReportFormat, string> = {
  json: "application/json; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  csv: "text/csv; charset=utf-8",
};

function answer(
  req: FastifyRequest<{ Querystring: Query }>,
  reply: FastifyReply,
  replica: ReplicaReads,
  client: string | null,
) {
  const window = reportWindow(req.query, Date.now());
  if ("error" in window) return fail(reply, "BLACKWELL_ERR_BAD_REQUEST", window.error);
  const { drifts, audits } = replica.reportRecords(client, new Date(window.to).toISOString());
  const report = complianceReport(
    drifts.flatMap((d) => [reportTransitionOf(d)].filter((x) => x !== null)),
    audits.flatMap((a) => [reportAuditOf(a)].filter((x) => x !== null)),
    window,
    client,
  );
  const format = req.query.format ?? "json";
  if (format === "json") return reply.send({ ...report, replica: replica.freshness() });
  return reply.type(CONTENT_TYPE[format]).send(renderReport(report, format));
}

export async function reportRoutes(app: FastifyInstance, { replica }: RouteDeps): Promise<void> {
  type Req = { Params: Params; Querystring: Query };
  app.get<Req>(
    "/v1/clients/:client/report",
    { schema: { params: params("client"), querystring: reportQuerystring } },
    async (req, reply) => {
      const client = visibleClient(req, reply, replica);
      if (!client) return reply;
      return answer(req, reply, replica, client);
    },
  );
  app.get<{ Querystring: Query }>("/v1/report", { schema: { querystring: reportQuerystring } }, async (req, reply) => {
    if (principalOf(req).client_id !== null)
      return fail(reply, "BLACKWELL_ERR_FORBIDDEN", "the fleet report covers every client: it needs an admin token");
    return answer(req, reply, replica, null);
  });
}
