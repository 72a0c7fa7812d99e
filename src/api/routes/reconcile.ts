/** triggerReconciliation: a forced pass, answered with its ReconciliationResult once the reconciler ran it. */
import type { FastifyInstance } from "fastify";
import { visibleClient } from "../client-scope.js";
import { fail } from "../error-reply.js";
import { issueCommand } from "../issue-command.js";
import type { Row } from "../replica.js";
import type { RouteDeps } from "../route-deps.js";
import { ID, noBodyIsEmpty, params, type Params } from "../route-schemas.js";

/** What the reconciler records in the audit of a reconcile command (`changes_made_json`). */
interface ReconcileChanges {
  reconciliation_id: string;
  drift_count: number;
  heal_commands_issued: number;
  stacks: Record<string, string>;
}

const body = {
  type: "object",
  additionalProperties: false,
  properties: { stack_id: { type: "string", pattern: ID }, reason: { type: "string", maxLength: 1000 } },
} as const;

export async function reconcileRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  type Req = { Params: Params; Body: { stack_id?: string; reason?: string } };
  // Every field is optional: a reconcile of the whole client may come without a body.
  const route = { schema: { params: params("client"), body }, preValidation: noBodyIsEmpty };
  app.post<Req>("/v1/clients/:client/reconcile", route, async (req, reply) => {
    const client = visibleClient(req, reply, deps.replica);
    if (!client) return reply;
    const started_at = new Date().toISOString();
    const fields = { stack_id: req.body.stack_id ?? null, reason: req.body.reason ?? null };
    const out = await issueCommand(deps, req, client, "reconcile", fields);
    if (out.status !== 200) return reply.code(out.status).send(out.body);
    const audit = out.body.audit as Row;
    // The reconciler refuses a pass over a client or stack it does not know: nothing ran, so no result to report.
    if (out.body.status === "refused") return fail(reply, "BLACKWELL_ERR_NOT_FOUND", String(audit.reason ?? "refused"));
    const changes = JSON.parse(String(audit.changes_made_json)) as ReconcileChanges;
    const errors = Object.entries(changes.stacks)
      .filter(([, status]) => status === "error")
      .map(([stack]) => `stack ${stack} is in error: heal attempts exhausted`);
    const all = Object.keys(changes.stacks).length;
    // Heals run after the pass, in the executors: what the pass can report is how many heals of its scope
    // succeeded since the previous pass of the same scope (all recorded ones for the first).
    const completed_at = String(audit.timestamp);
    const previous = deps.replica
      .audits(client, 100, "stack_reconcile")
      .find(
        (a) =>
          a.audit_id !== audit.audit_id &&
          (a.stack_id ?? null) === fields.stack_id &&
          String(a.timestamp) < completed_at,
      );
    const successes = deps.replica.healSuccesses(
      client,
      fields.stack_id,
      previous ? String(previous.timestamp) : null,
      completed_at,
    );
    const status = errors.length === 0 ? "success" : errors.length === all ? "failed" : "partial";
    return {
      reconciliation_id: changes.reconciliation_id,
      client_id: client,
      started_at,
      completed_at,
      status,
      drift_detected: changes.drift_count > 0,
      drift_count: changes.drift_count,
      auto_heal_attempted: changes.heal_commands_issued > 0,
      auto_heal_success_count: successes,
      ...(errors.length > 0 ? { errors } : {}),
      stacks: changes.stacks,
    };
  });
}
