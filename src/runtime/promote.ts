/**
 * `blackwell promote <client> --from <stack> --to <stack>`: publishes the earlier stack's promoted parts as the later
 * stack's next version, only when the earlier stack passes its gates (judged under its current version, healthy, no
 * open drift, for the soak time). The reconciler then watches the promoted version for its verification window and
 * rolls it back if drifts of the named kinds open (src/core/lifecycle/promotion-verify.ts).
 */
import { desiredToAvro } from "../adapters/kafka/records.js";
import { desiredHash } from "../adapters/yaml/parse-blackwell-yaml.js";
import type { DesiredStack } from "../core/model/desired.js";
import { gateRefusals, promotedContent } from "../core/promotion/promote.js";
import { BlackwellError } from "../errors.js";
import type { AppContext } from "./app-context.js";
import { bumpVersion, currentDesired, historyRecord } from "./apply-desired.js";
import { readRecords } from "./read-records.js";

export interface PromoteResult {
  client_id: string;
  from: { stack_id: string; state_version: string };
  to: { stack_id: string; from_version: string; state_version: string };
  /** False: the later stack already holds the promoted content (no version published), or a dry run. */
  published: boolean;
  dry_run: boolean;
}

/** The gates said no: every reason, for people. */
export class PromotionRefused extends BlackwellError {
  constructor(readonly reasons: string[]) {
    super("BLACKWELL_ERR_CONFLICT", `promotion refused: ${reasons.join("; ")}`);
  }
}

export async function promote(
  ctx: AppContext,
  client: string,
  o: { from: string; to: string; by: string; dryRun?: boolean; now?: Date },
): Promise<PromoteResult> {
  const stacks = await currentDesired(ctx, client);
  const earlier = stacks.get(o.from);
  const later = stacks.get(o.to);
  const missing = [o.from, o.to].filter((s) => !stacks.has(s));
  if (missing.length > 0)
    throw new BlackwellError("BLACKWELL_ERR_NOT_FOUND", `no stack ${missing.join(" or ")} for client ${client}`);
  const spec = later!.promotion;
  if (!spec || spec.from !== o.from)
    throw new BlackwellError(
      "BLACKWELL_ERR_BAD_REQUEST",
      `${o.to} is not promoted from ${o.from} (${spec ? `its promotion names ${spec.from}` : "it declares no promotion"})`,
    );
  const now = o.now ?? new Date();
  const refusals = gateRefusals(spec, {
    now: now.getTime(),
    version: earlier!.state_version,
    applied_at: Date.parse(earlier!.applied_at),
    ...(await factsOf(ctx, client, o.from)),
  });
  if (refusals.length > 0) throw new PromotionRefused(refusals);
  const content = promotedContent(earlier!, later!, spec);
  const base = {
    client_id: client,
    from: { stack_id: o.from, state_version: earlier!.state_version },
    dry_run: o.dryRun ?? false,
  };
  if (content === null)
    return {
      ...base,
      to: { stack_id: o.to, from_version: later!.state_version, state_version: later!.state_version },
      published: false,
    };
  const next: DesiredStack = {
    ...content,
    promoted_from: { stack_id: o.from, state_version: earlier!.state_version },
    state_version: bumpVersion(later!.state_version, "minor"),
    previous_versions: [later!.state_version, ...later!.previous_versions].slice(0, 20),
    applied_at: now.toISOString(),
    applied_by: o.by,
    source: `promote ${o.from} ${earlier!.state_version}`,
  };
  next.desired_hash = desiredHash(next);
  if (!o.dryRun) {
    const producer = await ctx.kafka.producer();
    try {
      // History first: a version is published only once it can be rolled back to.
      await producer.send([{ topic: ctx.names["desired-history"], ...historyRecord(ctx, next) }]);
      const value = ctx.serde.encode(ctx.names["desired-state"], "DesiredState", desiredToAvro(next));
      await producer.send([{ topic: ctx.names["desired-state"], key: `${client}/${o.to}`, value }]);
    } finally {
      await producer.disconnect();
    }
  }
  return {
    ...base,
    to: { stack_id: o.to, from_version: later!.state_version, state_version: next.state_version },
    published: !o.dryRun,
  };
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
