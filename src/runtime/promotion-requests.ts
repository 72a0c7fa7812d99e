/**
 * Promotion requests on Kafka (topic promotion-requests, key client_id/stack_id of the later stack): the latest record
 * of a stack is its request's state, the earlier ones its trail.
 */
import { randomBytes } from "node:crypto";
import { decided, samePending, type PromotionRequest } from "../core/promotion/approval.js";
import type { DesiredStack } from "../core/model/desired.js";
import type { AppContext } from "./app-context.js";
import { readRecords } from "./read-records.js";

/** Every request of a client's stacks, oldest first. */
export async function promotionRequests(ctx: AppContext, client: string): Promise<PromotionRequest[]> {
  const records = await readRecords<PromotionRequest>(ctx, "promotion-requests", client);
  return records.flatMap((r) => (r.value ? [r.value] : []));
}

/** The later stack's latest request (null: none was ever made). */
export async function latestRequest(ctx: AppContext, client: string, stack: string): Promise<PromotionRequest | null> {
  return (await promotionRequests(ctx, client)).filter((r) => r.stack_id === stack).at(-1) ?? null;
}

export async function writeRequests(ctx: AppContext, requests: PromotionRequest[]): Promise<void> {
  const topic = ctx.names["promotion-requests"];
  const producer = await ctx.kafka.producer();
  try {
    await producer.send(
      requests.map((r) => ({
        topic,
        key: `${r.client_id}/${r.stack_id}`,
        value: ctx.serde.encode(topic, "PromotionRequest", r),
      })),
    );
  } finally {
    await producer.disconnect();
  }
}

/**
 * Records a pending request for a promotion whose gates passed. The same promotion asked again is the pending request
 * (its requester stays the first one); a pending request for other versions is superseded by this one.
 */
export async function requestPromotion(
  ctx: AppContext,
  p: { earlier: DesiredStack; later: DesiredStack },
  o: { by: string; now: Date },
): Promise<PromotionRequest> {
  const client = p.later.client_id;
  const pending = await latestRequest(ctx, client, p.later.stack_id);
  const wanted = {
    from_stack_id: p.earlier.stack_id,
    from_version: p.earlier.state_version,
    base_version: p.later.state_version,
  };
  if (pending && samePending(pending, wanted)) return pending;
  const at = o.now.toISOString();
  const request: PromotionRequest = {
    request_id: `prq-${randomBytes(8).toString("hex")}`,
    client_id: client,
    stack_id: p.later.stack_id,
    ...wanted,
    requested_by: o.by,
    requested_at: at,
    status: "pending",
    decided_by: null,
    decided_at: null,
    reason: null,
    published_version: null,
  };
  const superseded =
    pending?.status === "pending"
      ? [decided(pending, "superseded", { by: o.by, at, reason: `replaced by ${request.request_id}` })]
      : [];
  await writeRequests(ctx, [...superseded, request]);
  return request;
}
