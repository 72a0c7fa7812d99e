/**
 * Approval of a promotion, pure: a stack whose promotion says `approval_required` gets a request instead of a new
 * version, and the request is published only when someone other than its requester approves it while both stacks
 * still hold the versions it was made for.
 */

export type PromotionRequestStatus = "pending" | "approved" | "rejected" | "superseded";

/** A request and what became of it (schemas/PromotionRequest.avsc). */
export interface PromotionRequest {
  request_id: string;
  client_id: string;
  /** The later stack, promoted to. */
  stack_id: string;
  from_stack_id: string;
  /** The earlier stack's version the request promotes. */
  from_version: string;
  /** The later stack's version the request builds on (its version when it was requested). */
  base_version: string;
  requested_by: string;
  requested_at: string;
  status: PromotionRequestStatus;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
  published_version: string | null;
}

/** The request as its decision leaves it. */
export function decided(
  request: PromotionRequest,
  status: Exclude<PromotionRequestStatus, "pending">,
  o: { by: string; at: string; reason?: string | null; published_version?: string | null },
): PromotionRequest {
  return {
    ...request,
    status,
    decided_by: o.by,
    decided_at: o.at,
    reason: o.reason ?? null,
    published_version: o.published_version ?? null,
  };
}

/**
 * Why the request no longer describes the promotion it asked for (null: it still does): either stack has moved on
 * since, so what the approver would approve is not what was requested.
 */
export function staleness(
  request: PromotionRequest,
  now: { from_version: string; base_version: string },
): string | null {
  const moved: string[] = [];
  if (now.from_version !== request.from_version)
    moved.push(`${request.from_stack_id} is at ${now.from_version}, the request promotes ${request.from_version}`);
  if (now.base_version !== request.base_version)
    moved.push(`${request.stack_id} is at ${now.base_version}, the request was made at ${request.base_version}`);
  return moved.length === 0 ? null : `${moved.join("; ")}: request the promotion again`;
}

/** Why `by` may not approve the request (null: may): the four-eyes rule. */
export function approverRefusal(request: PromotionRequest, by: string): string | null {
  const name = by.trim();
  if (name === "") return "an approval must name its approver";
  return name === request.requested_by.trim() ? `${name} requested this promotion: someone else must approve it` : null;
}

/** Whether a new request is the pending one again (a repeated `promote` changes nothing). */
export function samePending(
  pending: PromotionRequest | null,
  next: { from_stack_id: string; from_version: string; base_version: string },
): boolean {
  return (
    pending !== null &&
    pending.status === "pending" &&
    pending.from_stack_id === next.from_stack_id &&
    pending.from_version === next.from_version &&
    pending.base_version === next.base_version
  );
}
