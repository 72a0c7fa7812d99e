/**
 * Approving or rejecting a pending promotion (`blackwell promote --approve|--reject`, POST .../promote/approve|reject).
 * An approval by someone other than the requester publishes the promotion, with its gates checked again, while both
 * stacks still hold the versions it was requested for; otherwise the request is superseded and must be made again.
 */
import { approverRefusal, decided, staleness, type PromotionRequest } from "../core/promotion/approval.js";
import { BlackwellError } from "../errors.js";
import type { AppContext } from "./app-context.js";
import { currentDesired } from "./apply-desired.js";
import { preparePromotion, promoteResult, publishPromotion, type PromoteResult } from "./promote.js";
import { latestRequest, writeRequests } from "./promotion-requests.js";

async function pendingRequest(ctx: AppContext, client: string, stack: string): Promise<PromotionRequest> {
  const request = await latestRequest(ctx, client, stack);
  if (request?.status === "pending") return request;
  const last = request ? ` (the last one, ${request.request_id}, was ${request.status})` : "";
  // Nothing to decide is a refusal that did nothing (exit 1, HTTP 409), like approving a drift after its rejection.
  throw new BlackwellError("BLACKWELL_ERR_CONFLICT", `no promotion to ${client}/${stack} awaits approval${last}`);
}

export async function approvePromotion(
  ctx: AppContext,
  client: string,
  stack: string,
  o: { by: string; now?: Date },
): Promise<PromoteResult> {
  const request = await pendingRequest(ctx, client, stack);
  const refusal = approverRefusal(request, o.by);
  if (refusal) throw new BlackwellError("BLACKWELL_ERR_SELF_APPROVAL", refusal);
  const now = o.now ?? new Date();
  const supersede = async (reason: string): Promise<never> => {
    await writeRequests(ctx, [decided(request, "superseded", { by: o.by, at: now.toISOString(), reason })]);
    throw new BlackwellError("BLACKWELL_ERR_CONFLICT", `promotion request ${request.request_id} is stale: ${reason}`);
  };
  const prepared = await preparePromotion(ctx, client, {
    from: request.from_stack_id,
    to: stack,
    by: request.requested_by,
    now,
    source: `promote ${request.from_stack_id} ${request.from_version} (approved by ${o.by})`,
    approvedBy: o.by,
    before: async (earlier, later) => {
      const stale = staleness(request, { from_version: earlier.state_version, base_version: later.state_version });
      if (stale !== null) await supersede(stale);
    },
  });
  if (prepared.next === null)
    return supersede(`${client}/${stack} already holds what ${request.from_version} promotes`);
  await publishPromotion(ctx, prepared.next);
  const approved = decided(request, "approved", {
    by: o.by,
    at: now.toISOString(),
    published_version: prepared.next.state_version,
  });
  await writeRequests(ctx, [approved]);
  return promoteResult(client, prepared, { published: true, dryRun: false, request: approved });
}

export async function rejectPromotion(
  ctx: AppContext,
  client: string,
  stack: string,
  o: { by: string; reason?: string; now?: Date },
): Promise<PromotionRequest> {
  const request = await pendingRequest(ctx, client, stack);
  const rejected = decided(request, "rejected", {
    by: o.by,
    at: (o.now ?? new Date()).toISOString(),
    reason: o.reason ?? null,
  });
  await writeRequests(ctx, [rejected]);
  return rejected;
}

/** A request as people look at it: a pending one says why approving it would be refused as stale (null: it would not). */
export type PromotionRequestView = PromotionRequest & { stale: string | null };

/**
 * The later stack's latest request (null: none was ever made), with its staleness. An unknown stack, or one that
 * declares no promotion, is said as such rather than as "never requested".
 */
export async function promotionRequestView(
  ctx: AppContext,
  client: string,
  stack: string,
): Promise<PromotionRequestView | null> {
  const stacks = await currentDesired(ctx, client);
  const later = stacks.get(stack);
  if (!later) throw new BlackwellError("BLACKWELL_ERR_NOT_FOUND", `no stack ${stack} for client ${client}`);
  const request = await latestRequest(ctx, client, stack);
  if (request === null) {
    if (!later.promotion)
      throw new BlackwellError("BLACKWELL_ERR_BAD_REQUEST", `${client}/${stack} declares no promotion`);
    return null;
  }
  const earlier = stacks.get(request.from_stack_id);
  const stale =
    request.status !== "pending"
      ? null
      : earlier === undefined
        ? `${request.from_stack_id} has no desired state any more`
        : staleness(request, { from_version: earlier.state_version, base_version: later.state_version });
  return { ...request, stale };
}
