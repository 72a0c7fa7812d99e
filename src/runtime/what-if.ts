/**
 * `blackwell policy what-if`: replays the recorded inputs twice in sandboxes
 * (throw-away output topics, fresh consumer groups and stores, never the live
 * topics, so no command reaches an executor), once as recorded and once with a
 * proposed policy in place of the recorded one for the chosen clients and
 * stacks, following the live task journal like `blackwell replay`, and
 * compares what each run decided over the window (src/core/whatif).
 *
 * Heal outcomes are inputs too: a heal both runs issue gets the outcome the
 * executor recorded (the command key is the same); a heal only the proposed
 * policy issues has no recorded outcome, so it stays in flight in the sandbox.
 */
import { randomUUID } from "node:crypto";
import type { ReconciliationPolicy } from "../core/model/desired.js";
import { withPolicy } from "../core/whatif/with-policy.js";
import { whatIfReport, type RunRecords, type WhatIfReport, type WhatIfWindow } from "../core/whatif/what-if-report.js";
import { WRITER_HEADER } from "../adapters/kafka/records.js";
import type { SchemaName, TopicNames, TopicRole } from "../adapters/kafka/topics.js";
import type { AppContext } from "./app-context.js";
import { liveCut, runSandbox, type Sandbox } from "./replay.js";
import { currentDesired } from "./apply-desired.js";
import { currentFleetPolicy, fleetRuleError } from "./fleet-policy.js";
import { NO_RULES, ruleViolations } from "../core/policy/fleet-policy.js";

export interface WhatIfOptions {
  policy: ReconciliationPolicy;
  /** Only this client's stacks get the proposed policy, and only it is reported. Null: every client. */
  client: string | null;
  /** Only this stack (of the client) gets the proposed policy. */
  stack: string | null;
  window: WhatIfWindow;
  /** Names the proposal in errors (its file). */
  file?: string;
  /** The live reconciler whose journal to follow (default: the only one). */
  applicationId?: string;
  timeoutMs?: number;
  log?: (m: string) => void;
}

export interface WhatIfResult extends WhatIfReport {
  replay: { input_records: number; ms: number; stacks_changed: number };
}

export async function whatIf(ctx: AppContext, o: WhatIfOptions): Promise<WhatIfResult> {
  const say = o.log ?? (() => {});
  const id = randomUUID().slice(0, 8);
  const started = Date.now();
  // A proposal the fleet's rules forbid could never be applied: say so rather than replay it.
  const fleet = await currentFleetPolicy(ctx);
  const broken = ruleViolations(o.policy, fleet?.rules ?? NO_RULES);
  if (broken.length > 0)
    throw fleetRuleError(
      o.file ?? "the proposed policy",
      broken.map((v) => ({ stack: "proposed", ...v })),
    );
  // Nothing to apply it to: answered before two replays, not after.
  if (o.client !== null) {
    const stacks = await currentDesired(ctx, o.client);
    if (stacks.size === 0 || (o.stack !== null && !stacks.has(o.stack))) {
      const none: RunRecords = { heals: [], audits: [], states: [], drifts: [] };
      return {
        ...whatIfReport(none, none, o.window, o.client),
        replay: { input_records: 0, ms: Date.now() - started, stacks_changed: 0 },
      };
    }
  }
  const { cut, journal } = await liveCut(ctx, o.applicationId);
  const common = {
    journal: journal.byTask,
    committed: cut.committed,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  };
  const changed = new Set<string>();
  const sandboxes: Sandbox[] = [];
  try {
    // One after the other: two reconcilers at once would halve each one's share of the machine for no gain.
    const recorded = await runSandbox(ctx, {
      ...common,
      name: `whatif-${id}-recorded`,
      log: (m) => say(`recorded: ${m}`),
    });
    sandboxes.push(recorded);
    const proposed = await runSandbox(ctx, {
      ...common,
      name: `whatif-${id}-proposed`,
      transform: withPolicy(o.policy, o.client, o.stack, changed),
      log: (m) => say(`proposed: ${m}`),
    });
    sandboxes.push(proposed);
    const [before, after] = [await runRecords(ctx, recorded.names), await runRecords(ctx, proposed.names)];
    return {
      ...whatIfReport(before, after, o.window, o.client),
      replay: { input_records: recorded.inputRecords, ms: Date.now() - started, stacks_changed: changed.size },
    };
  } finally {
    for (const s of sandboxes) await s.drop();
  }
}

type Value = Record<string, unknown>;

async function readAll(ctx: AppContext, names: TopicNames, role: TopicRole, schema: SchemaName): Promise<Value[]> {
  const out: Value[] = [];
  await ctx.kafka.readToEnd({
    topic: names[role],
    groupPrefix: "blackwell-whatif",
    onBatch: async (batch) => {
      for (const m of batch.records) {
        const writer = m.headers[WRITER_HEADER]?.toString("utf8");
        if (m.value === null || (writer !== undefined && writer !== "reconciler")) continue;
        out.push(await ctx.serde.decode<Value>(schema, m.value));
      }
    },
  });
  return out;
}

const ms = (v: unknown) => (typeof v === "string" ? Date.parse(v) : Number.NaN);

/** What one sandbox run wrote, as the what-if report counts it. */
async function runRecords(ctx: AppContext, names: TopicNames): Promise<RunRecords> {
  const [heals, audits, states, drifts] = await Promise.all([
    readAll(ctx, names, "heal-commands", "HealCommand"),
    readAll(ctx, names, "audit", "AuditEntry"),
    readAll(ctx, names, "stack-state", "StateRecord"),
    readAll(ctx, names, "drift-events", "DriftEvent"),
  ]);
  return {
    heals: heals.map((v) => ({
      client_id: String(v.client_id),
      stack_id: String(v.stack_id),
      drift_id: String(v.drift_id),
      command_key: String(v.command_key),
      action: String(v.action),
      attempt: Number(v.attempt),
      at: ms(v.issued_at),
    })),
    audits: audits.map((v) => ({
      client_id: String(v.client_id),
      stack_id: typeof v.stack_id === "string" ? v.stack_id : null,
      action: String(v.action),
      at: ms(v.timestamp),
    })),
    states: states.map((v) => ({
      client_id: String(v.client_id),
      stack_id: String(v.stack_id),
      status: String(v.status),
      at: ms(v.updated_at),
    })),
    drifts: drifts.map((v) => ({
      client_id: String(v.client_id),
      transition: String(v.transition),
      at: ms(v.timestamp),
    })),
  };
}
