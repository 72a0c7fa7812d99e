/**
 * `apply`: turns a parsed blackwell.yaml into DesiredState records. Compares
 * with what the desired-state topic holds for the client, bumps each changed
 * stack's semantic version (keeping the previous ones), and produces only what
 * changed, with acks=all.
 */
import type { DeclaredStack, ParsedFile } from "../adapters/yaml/parse-blackwell-yaml.js";
import { partitionForClient } from "../adapters/kafka/partitioner.js";
import { desiredStackFromAvro, desiredToAvro, type AvroDesiredState } from "../adapters/kafka/records.js";
import type { DesiredStack } from "../core/model/desired.js";
import type { AppContext } from "./app-context.js";
import { currentFleetPolicy, fleetRuleError, underFleet, type StackViolation } from "./fleet-policy.js";

export type Bump = "major" | "minor" | "patch";

export interface ApplyOptions {
  file: string;
  appliedBy: string;
  bump?: Bump;
  /** Tombstone stacks of this client that the file no longer declares. */
  prune?: boolean;
  dryRun?: boolean;
  now?: Date;
}

export interface StackChange {
  stack_id: string;
  change: "created" | "updated" | "unchanged" | "removed";
  from: string | null;
  to: string | null;
}

const MAX_PREVIOUS_VERSIONS = 20;

export function bumpVersion(current: string | null, bump: Bump): string {
  if (current === null) return "v1.0.0";
  const match = /^v(\d+)\.(\d+)\.(\d+)$/.exec(current);
  if (!match) return "v1.0.0";
  const [major, minor, patch] = match.slice(1).map(Number) as [number, number, number];
  if (bump === "major") return `v${major + 1}.0.0`;
  if (bump === "minor") return `v${major}.${minor + 1}.0`;
  return `v${major}.${minor}.${patch + 1}`;
}

/** The latest DesiredState per stack of `client_id` (tombstoned stacks absent). */
export async function currentDesired(ctx: AppContext, client_id: string): Promise<Map<string, DesiredStack>> {
  const topic = ctx.names["desired-state"];
  const current = new Map<string, DesiredStack>();
  const partition = partitionForClient(client_id, ctx.config.partitions);
  await ctx.kafka.readToEnd({
    topic,
    groupPrefix: "blackwell-cli",
    from: new Map([[partition, 0n]]),
    onBatch: async (batch) => {
      for (const m of batch.records) {
        const key = m.key?.toString("utf8") ?? "";
        if (!key.startsWith(`${client_id}/`)) continue;
        const stack_id = key.slice(client_id.length + 1);
        if (m.value === null) {
          current.delete(stack_id);
          continue;
        }
        // As the core holds it (defaults that the file leaves out are left out): a version built from it hashes as
        // the file that declared it.
        current.set(stack_id, desiredStackFromAvro(await ctx.serde.decode<AvroDesiredState>("DesiredState", m.value)));
      }
    },
  });
  return current;
}

export async function applyDesired(ctx: AppContext, parsed: ParsedFile, options: ApplyOptions): Promise<StackChange[]> {
  const current = await currentDesired(ctx, parsed.client_id);
  // Each stack's policy inherits what it does not set from the fleet policy, whose rules it must keep.
  const fleet = await currentFleetPolicy(ctx);
  const violations: StackViolation[] = [];
  const stacks = parsed.stacks.map((declared) => {
    const under = underFleet(declared, fleet);
    violations.push(...under.violations);
    return under.stack;
  });
  if (violations.length > 0) throw fleetRuleError(options.file, violations);
  const now = (options.now ?? new Date()).toISOString();
  const changes: StackChange[] = [];
  const records: Array<{ key: string; value: Buffer | null }> = [];
  const history: Array<{ key: string; value: Buffer }> = [];
  const topic = ctx.names["desired-state"];
  for (const declared of stacks) {
    const before = current.get(declared.stack_id);
    if (before && before.desired_hash === declared.desired_hash) {
      changes.push({
        stack_id: declared.stack_id,
        change: "unchanged",
        from: before.state_version,
        to: before.state_version,
      });
      continue;
    }
    const desired = versioned(declared, before, options, now);
    changes.push({
      stack_id: declared.stack_id,
      change: before ? "updated" : "created",
      from: before?.state_version ?? null,
      to: desired.state_version,
    });
    records.push({
      key: `${desired.client_id}/${desired.stack_id}`,
      value: ctx.serde.encode(topic, "DesiredState", desiredToAvro(desired)),
    });
    history.push(historyRecord(ctx, desired));
  }
  if (options.prune) {
    const declaredIds = new Set(parsed.stacks.map((s) => s.stack_id));
    for (const [stack_id, before] of current) {
      if (declaredIds.has(stack_id)) continue;
      changes.push({ stack_id, change: "removed", from: before.state_version, to: null });
      records.push({ key: `${parsed.client_id}/${stack_id}`, value: null });
    }
  }
  if (records.length > 0 && !options.dryRun) {
    const producer = await ctx.kafka.producer();
    try {
      // History first: a version is published only once it can be rolled back to.
      await producer.send(history.map((r) => ({ topic: ctx.names["desired-history"], ...r })));
      await producer.send(records.map((r) => ({ topic, ...r })));
    } finally {
      await producer.disconnect();
    }
  }
  return changes;
}

/** The desired-history record of a version (key client/stack/version, co-partitioned by client). */
export function historyRecord(ctx: AppContext, desired: DesiredStack): { key: string; value: Buffer } {
  return {
    key: `${desired.client_id}/${desired.stack_id}/${desired.state_version}`,
    value: ctx.serde.encode(ctx.names["desired-history"], "DesiredState", desiredToAvro(desired)),
  };
}

function versioned(
  declared: DeclaredStack,
  before: DesiredStack | undefined,
  options: ApplyOptions,
  now: string,
): DesiredStack {
  const previous = before ? [before.state_version, ...before.previous_versions].slice(0, MAX_PREVIOUS_VERSIONS) : [];
  return {
    ...declared,
    source: options.file,
    state_version: bumpVersion(before?.state_version ?? null, options.bump ?? "minor"),
    previous_versions: previous,
    applied_at: now,
    applied_by: options.appliedBy,
  };
}
