/**
 * `rollback --to <version>`: publishes the content of an earlier desired-state
 * version of a stack as its next version (versions only go forward; the new
 * one says what it rolled back to). Earlier versions come from the compacted
 * desired-history topic that `apply`, the API and rollback itself write.
 */
import { partitionForClient } from "../adapters/kafka/partitioner.js";
import { desiredStackFromAvro, desiredToAvro, type AvroDesiredState } from "../adapters/kafka/records.js";
import type { DesiredStack } from "../core/model/desired.js";
import { BlackwellError } from "../errors.js";
import type { AppContext } from "./app-context.js";
import type { DesiredStateTarget } from "../executor/actions.js";
import { failed } from "../executor/outcome.js";
import { bumpVersion, currentDesired, historyRecord } from "./apply-desired.js";
import { currentFleetPolicy, fleetRuleError, underFleet } from "./fleet-policy.js";

export async function desiredHistory(
  ctx: AppContext,
  client_id: string,
  stack_id: string,
): Promise<Map<string, DesiredStack>> {
  const out = new Map<string, DesiredStack>();
  await ctx.kafka.readToEnd({
    topic: ctx.names["desired-history"],
    groupPrefix: "blackwell-cli",
    from: new Map([[partitionForClient(client_id, ctx.config.partitions), 0n]]),
    onBatch: async (batch) => {
      for (const m of batch.records) {
        const key = m.key?.toString("utf8") ?? "";
        if (!key.startsWith(`${client_id}/${stack_id}/`) || m.value === null) continue;
        out.set(
          key.slice(client_id.length + stack_id.length + 2),
          desiredStackFromAvro(await ctx.serde.decode<AvroDesiredState>("DesiredState", m.value)),
        );
      }
    },
  });
  return out;
}

export interface RollbackResult {
  client_id: string;
  stack_id: string;
  /** The stack's version before the rollback. */
  from: string;
  /** Its version after: a new one, or `from` when nothing was published. */
  to: string;
  /** The version whose content was asked for. */
  content_of: string;
  /** False when the stack already holds that content: no version is published (versions only go forward). */
  published: boolean;
}

/**
 * The version a rollback publishes, or null when `current` already holds the content of `old` (compared by
 * `desired_hash`, as `apply` does): a second version with the same content would only add noise to the history.
 */
export function rollbackVersion(
  current: DesiredStack,
  old: DesiredStack,
  target: string,
  by: string,
  now: Date,
): DesiredStack | null {
  if (old.desired_hash === current.desired_hash) return null;
  // A rollback is not a promotion: the version it brings back is not verified (and rolled back) again.
  const { promoted_from: _promoted, approved_by: _approved, ...content } = old;
  return {
    ...content,
    state_version: bumpVersion(current.state_version, "minor"),
    previous_versions: [current.state_version, ...current.previous_versions].slice(0, 20),
    applied_at: now.toISOString(),
    applied_by: by,
    source: `rollback to ${target}`,
  };
}

export async function rollbackDesired(
  ctx: AppContext,
  client_id: string,
  stack_id: string,
  target: string,
  by: string,
): Promise<RollbackResult> {
  const current = (await currentDesired(ctx, client_id)).get(stack_id);
  if (!current)
    throw new BlackwellError("BLACKWELL_ERR_INVALID_DESIRED_STATE", `no desired state for ${client_id}/${stack_id}`);
  const history = await desiredHistory(ctx, client_id, stack_id);
  const old = history.get(target);
  if (!old) {
    const known = [...history.keys()].sort().join(", ") || "none";
    throw new BlackwellError(
      "BLACKWELL_ERR_INVALID_DESIRED_STATE",
      `version ${target} of ${client_id}/${stack_id} is not in the desired history (known: ${known})`,
    );
  }
  // The old content's policy under today's fleet policy: the fields the stack set itself, the rest inherited as now.
  // A rollback to a version whose own fields a fleet rule now forbids is refused like an apply of it.
  const under = underFleet(old, await currentFleetPolicy(ctx));
  if (under.violations.length > 0)
    throw fleetRuleError(`the rollback of ${client_id}/${stack_id} to ${target}`, under.violations);
  const result = { client_id, stack_id, from: current.state_version, content_of: target };
  const next = rollbackVersion(current, under.stack, target, by, new Date());
  if (next === null) return { ...result, to: current.state_version, published: false };
  const producer = await ctx.kafka.producer();
  try {
    await producer.send([{ topic: ctx.names["desired-history"], ...historyRecord(ctx, next) }]);
    const value = ctx.serde.encode(ctx.names["desired-state"], "DesiredState", desiredToAvro(next));
    await producer.send([{ topic: ctx.names["desired-state"], key: `${client_id}/${stack_id}`, value }]);
  } finally {
    await producer.disconnect();
  }
  return { ...result, to: next.state_version, published: true };
}

/**
 * The executors' `desired.rollback`: publishes `to_version` of the stack again as its next version, if the stack
 * still holds the promoted `from_version` (a later version, published by anyone, is left alone).
 */
export function desiredStateTarget(ctx: AppContext): DesiredStateTarget {
  return {
    async rollback(cmd) {
      const { to_version, from_version } = cmd.params;
      const current = (await currentDesired(ctx, cmd.client_id)).get(cmd.stack_id);
      if (!current) return failed(`desired.rollback: ${cmd.client_id}/${cmd.stack_id} has no desired state any more`);
      if (current.state_version !== from_version)
        return failed(
          `desired.rollback: ${cmd.client_id}/${cmd.stack_id} holds ${current.state_version} now, not the promoted ${from_version}: left alone`,
        );
      const result = await rollbackDesired(
        ctx,
        cmd.client_id,
        cmd.stack_id,
        to_version,
        "blackwell (promotion verification)",
      );
      return {
        status: "succeeded",
        error: null,
        details: { target: "desired-state", from: result.from, to: result.to, content_of: to_version },
      };
    },
  };
}
