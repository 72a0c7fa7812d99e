/**
 * `blackwell promote <client> --from <stack> --to <stack> [--by name] [--dry-run] [--json]`: the earlier stack's
 * promoted parts as the later stack's next version, when its gates allow (src/runtime/promote.ts). A refusal exits 1
 * with every reason. Where the later stack's promotion requires an approval, the call records a request that
 * `--approve` (by someone else) publishes, `--reject` drops and `--pending` shows (src/runtime/promotion-approval.ts).
 */
import { parseArgs } from "node:util";
import type { PromotionRequest } from "../../core/promotion/approval.js";
import { promote, type PromoteResult } from "../../runtime/promote.js";
import {
  approvePromotion,
  promotionRequestView,
  rejectPromotion,
  type PromotionRequestView,
} from "../../runtime/promotion-approval.js";
import { BlackwellError } from "../../errors.js";
import { actorName, EXIT, print, UsageError, withContext } from "../cli-kit.js";
import { ID_PATTERN as ID } from "../../core/model/validate-desired.js";

const ACTIONS = ["approve", "reject", "pending"] as const;

export async function promoteCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      from: { type: "string" },
      to: { type: "string" },
      by: { type: "string" },
      approve: { type: "boolean" },
      reject: { type: "boolean" },
      pending: { type: "boolean" },
      reason: { type: "string" },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const [client, ...extra] = positionals;
  if (!client || extra.length > 0) throw new UsageError("promote needs one <client>");
  if (!values.to) throw new UsageError("promote needs --to <stack>");
  const actions = ACTIONS.filter((a) => values[a]);
  if (actions.length > 1) throw new UsageError(`--${actions.join(" and --")} exclude each other`);
  const action = actions[0] ?? null;
  if (action === null && !values.from) throw new UsageError("promote needs --from <stack> and --to <stack>");
  if (action !== null && values.from)
    throw new UsageError(`--${action} acts on the pending request of --to <stack>: it takes no --from`);
  if (action !== null && values["dry-run"]) throw new UsageError(`--${action} has no --dry-run`);
  if (values.reason !== undefined && action !== "reject") throw new UsageError("--reason goes with --reject");
  for (const id of [client, values.to, ...(values.from ? [values.from] : [])])
    if (!ID.test(id)) throw new UsageError(`${JSON.stringify(id)} is not an id`);
  if (values.from === values.to) throw new UsageError("--from and --to name the same stack");
  const by = actorName(values.by);
  const to = values.to;
  const json = values.json ?? false;

  if (action === "pending") {
    const request = await withContext((ctx) => promotionRequestView(ctx, client, to));
    if (request === null)
      throw new BlackwellError("BLACKWELL_ERR_NOT_FOUND", `no promotion to ${client}/${to} was ever requested`);
    print(json, request, () => describeRequest(request));
    return EXIT.ok;
  }
  if (action === "reject") {
    const rejected = await withContext((ctx) =>
      rejectPromotion(ctx, client, to, { by, ...(values.reason ? { reason: values.reason } : {}) }),
    );
    print(json, rejected, () => describeRequest(rejected));
    return EXIT.ok;
  }
  const result = await withContext((ctx) =>
    action === "approve"
      ? approvePromotion(ctx, client, to, { by })
      : promote(ctx, client, { from: values.from!, to, by, dryRun: values["dry-run"] ?? false }),
  );
  print(json, result, () => describePromotion(result));
  return EXIT.ok;
}

function describePromotion(r: PromoteResult): string {
  const what = `${r.from.stack_id} ${r.from.state_version} to ${r.client_id}/${r.to.stack_id}`;
  if (r.to.from_version === r.to.state_version)
    return `${r.client_id}/${r.to.stack_id} already holds what ${r.from.stack_id} ${r.from.state_version} promotes: nothing published`;
  const change = `${r.to.from_version} -> ${r.to.state_version}`;
  if (r.dry_run)
    return `would ${r.approval_required ? "request the promotion of" : "promote"} ${what}: ${change}${r.approval_required ? " (it needs someone else's approval)" : ""}`;
  if (r.published)
    return `promoted ${what}: ${change}${r.request ? ` (requested by ${r.request.requested_by}, approved by ${r.request.decided_by})` : ""}`;
  const request = r.request!;
  return [
    `promotion of ${what} awaits approval (${change}): request ${request.request_id} by ${request.requested_by} at ${request.requested_at}`,
    `someone else approves it with: blackwell promote ${r.client_id} --to ${r.to.stack_id} --approve`,
  ].join("\n");
}

function describeRequest(r: PromotionRequest | PromotionRequestView): string {
  const what = `${r.request_id}: promote ${r.from_stack_id} ${r.from_version} to ${r.client_id}/${r.stack_id} (at ${r.base_version}), requested by ${r.requested_by} at ${r.requested_at}`;
  if (r.status === "pending") {
    const stale = "stale" in r ? r.stale : null;
    return `${what}\npending approval${stale ? `, but stale: ${stale} (an approval will be refused)` : ""}`;
  }
  // A superseded request was replaced or found stale; who noticed is in the JSON, not a decision of theirs.
  const decision =
    r.status === "superseded" ? `superseded at ${r.decided_at}` : `${r.status} by ${r.decided_by} at ${r.decided_at}`;
  const extra = [r.published_version ? `published ${r.published_version}` : null, r.reason].filter(Boolean);
  return `${what}\n${decision}${extra.length > 0 ? `: ${extra.join("; ")}` : ""}`;
}
