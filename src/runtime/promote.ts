/**
 * `blackwell promote <client> --from <stack> --to <stack>`: publishes the earlier stack's promoted parts as the later
 * stack's next version, only when the earlier stack passes its gates (judged under its current version, healthy, no
 * open drift, for the soak time). The reconciler then watches the promoted version for its verification window and
 * rolls it back if drifts of the named kinds open (src/core/lifecycle/promotion-verify.ts). Where the later stack's
 * promotion requires an approval, the call records a pending request instead (src/runtime/promotion-requests.ts).
 */
import { desiredToAvro } from "../adapters/kafka/records.js";
import { desiredHash } from "../adapters/yaml/parse-blackwell-yaml.js";
import type { DesiredStack, PromotionSpec } from "../core/model/desired.js";
import type { PromotionRequest } from "../core/promotion/approval.js";
import { gateRefusals, promotedContent } from "../core/promotion/promote.js";
import { BlackwellError } from "../errors.js";
import type { AppContext } from "./app-context.js";
import { bumpVersion, currentDesired, historyRecord } from "./apply-desired.js";
import { readRecords } from "./read-records.js";
import { requestPromotion } from "./promotion-requests.js";

export interface PromoteResult {
  client_id: string;
  from: { stack_id: string; state_version: string };
  to: { stack_id: string; from_version: string; state_version: string };
  /**
   * False: the later stack already holds the promoted content (no version published), a dry run, or a promotion
   * that awaits approval.
   */
  published: boolean;
  dry_run: boolean;
  /** The later stack's promotion needs someone else's approval (promotion.approval_required). */
  approval_required: boolean;
  /** The request this call made, found pending, approved or rejected (only where approval is required). */
  request?: PromotionRequest;
}

/** The gates said no: every reason, for people. */
export class PromotionRefused extends BlackwellError {
  constructor(readonly reasons: string[]) {
    super("BLACKWELL_ERR_CONFLICT", `promotion refused: ${reasons.join("; ")}`);
  }
}

/** What a promotion would publish, once its gates passed: the later stack's next version (null: nothing changes). */
interface Prepared {
  earlier: DesiredStack;
  later: DesiredStack;
  spec: PromotionSpec;
  next: DesiredStack | null;
}

/**
 * Reads both stacks, checks the link and the gates, and builds the later stack's next version. Throws a
 * PromotionRefused with every reason when a gate says no.
 */
export async function preparePromotion(
  ctx: AppContext,
  client: string,
  o: {
    from: string;
    to: string;
    by: string;
    now: Date;
    source?: string;
    /** Who approved the promotion (promotion.approval_required): recorded on the version and in its audit entry. */
    approvedBy?: string;
    /** Called with both stacks before the gates are checked (an approval's staleness is the first thing to say). */
    before?: (earlier: DesiredStack, later: DesiredStack) => Promise<void>;
  },
): Promise<Prepared> {
  const stacks = await currentDesired(ctx, client);
  const earlier = stacks.get(o.from);
  const later = stacks.get(o.to);
  const missing = [o.from, o.to].filter((s) => !stacks.has(s));
  if (missing.length > 0 || !earlier || !later)
    throw new BlackwellError("BLACKWELL_ERR_NOT_FOUND", `no stack ${missing.join(" or ")} for client ${client}`);
  const spec = later.promotion;
  if (!spec || spec.from !== o.from)
    throw new BlackwellError(
      "BLACKWELL_ERR_BAD_REQUEST",
      `${o.to} is not promoted from ${o.from} (${spec ? `its promotion names ${spec.from}` : "it declares no promotion"})`,
    );
  await o.before?.(earlier, later);
  const refusals = gateRefusals(spec, {
    now: o.now.getTime(),
    version: earlier.state_version,
    applied_at: Date.parse(earlier.applied_at),
    ...(await factsOf(ctx, client, o.from)),
  });
  if (refusals.length > 0) throw new PromotionRefused(refusals);
  const content = promotedContent(earlier, later, spec);
  if (content === null) return { earlier, later, spec, next: null };
  const next: DesiredStack = {
    ...content,
    promoted_from: { stack_id: o.from, state_version: earlier.state_version },
    state_version: bumpVersion(later.state_version, "minor"),
    previous_versions: [later.state_version, ...later.previous_versions].slice(0, 20),
    applied_at: o.now.toISOString(),
    applied_by: o.by,
    source: o.source ?? `promote ${o.from} ${earlier.state_version}`,
    ...(o.approvedBy ? { approved_by: o.approvedBy } : {}),
  };
  next.desired_hash = desiredHash(next);
  return { earlier, later, spec, next };
}

/** Publishes a prepared promotion: the history record first, so the version can be rolled back to. */
export async function publishPromotion(ctx: AppContext, next: DesiredStack): Promise<void> {
  const producer = await ctx.kafka.producer();
  try {
    await producer.send([{ topic: ctx.names["desired-history"], ...historyRecord(ctx, next) }]);
    const value = ctx.serde.encode(ctx.names["desired-state"], "DesiredState", desiredToAvro(next));
    await producer.send([{ topic: ctx.names["desired-state"], key: `${next.client_id}/${next.stack_id}`, value }]);
  } finally {
    await producer.disconnect();
  }
}

export function promoteResult(
  client: string,
  p: Prepared,
  o: { published: boolean; dryRun: boolean; request?: PromotionRequest },
): PromoteResult {
  return {
    client_id: client,
    from: { stack_id: p.earlier.stack_id, state_version: p.earlier.state_version },
    to: {
      stack_id: p.later.stack_id,
      from_version: p.later.state_version,
      state_version: p.next?.state_version ?? p.later.state_version,
    },
    published: o.published,
    dry_run: o.dryRun,
    approval_required: p.spec.approval_required ?? false,
    ...(o.request ? { request: o.request } : {}),
  };
}

export async function promote(
  ctx: AppContext,
  client: string,
  o: { from: string; to: string; by: string; dryRun?: boolean; now?: Date },
): Promise<PromoteResult> {
  const now = o.now ?? new Date();
  const dryRun = o.dryRun ?? false;
  const prepared = await preparePromotion(ctx, client, { ...o, now });
  if (prepared.next === null || dryRun) return promoteResult(client, prepared, { published: false, dryRun });
  if (prepared.spec.approval_required) {
    const request = await requestPromotion(ctx, prepared, { by: o.by, now });
    return promoteResult(client, prepared, { published: false, dryRun, request });
  }
  await publishPromotion(ctx, prepared.next);
  return promoteResult(client, prepared, { published: true, dryRun });
}

/** The earlier stack's latest StateRecord and the last time one of its drifts opened or resolved. */
async function factsOf(ctx: AppContext, client: string, stack: string) {
  const [states, drifts] = await Promise.all([
    readRecords<{ state_version: string; status: string; drift_details: unknown[] }>(ctx, "stack-state", client),
    readRecords<{ stack_id: string; transition: string; timestamp: string }>(ctx, "drift-events", client),
  ]);
  const latest = states.filter((r) => r.key === `${client}/${stack}`).at(-1)?.value ?? null;
  let last: number | null = null;
  for (const r of drifts) {
    const v = r.value;
    if (!v || v.stack_id !== stack || (v.transition !== "opened" && v.transition !== "resolved")) continue;
    const at = Date.parse(v.timestamp);
    if (last === null || at > last) last = at;
  }
  return {
    state: latest
      ? { state_version: latest.state_version, status: latest.status, open_drifts: latest.drift_details.length }
      : null,
    last_drift_change: last,
  };
}
