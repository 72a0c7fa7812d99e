/**
 * `blackwell ack|approve|reject <client> <drift-id>` and `pause|resume|reconcile
 * <client> [stack]`: an operator command on the commands topic, then the
 * reconciler's audit of it, read back from the audit topic.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type { AppContext } from "../../runtime/app-context.js";
import { actorName, EXIT, print, UsageError, withContext } from "../cli-kit.js";
import { ID_PATTERN as ID } from "../../core/model/validate-desired.js";

export interface Audit {
  action: string;
  success: boolean;
  reason: string | null;
  triggered_by: string;
  changes_made_json: string;
  timestamp: string;
}

const COMMAND_OF: Record<string, string> = {
  ack: "acknowledge",
  approve: "approve",
  reject: "reject",
  pause: "pause",
  resume: "resume",
  reconcile: "reconcile",
};

/** Whether the audit entry is a rejection marked `--false-positive` (the compliance report counts those apart). */
export function rejectedAsFalsePositive(audit: Pick<Audit, "action" | "changes_made_json">): boolean {
  if (audit.action !== "heal_rejected") return false;
  try {
    return (JSON.parse(audit.changes_made_json) as { false_positive?: unknown }).false_positive === true;
  } catch {
    return false;
  }
}

/** An audit's action as an operator reads it: a rejection as a false positive says so, as it was asked. */
export function actionLabel(audit: Pick<Audit, "action" | "changes_made_json">): string {
  return rejectedAsFalsePositive(audit) ? `${audit.action} (false positive)` : audit.action;
}

/** What `ack|approve|reject|...` prints once the reconciler answered with `audit`. */
export function answerLine(command: string, subject: string, audit: Audit): string {
  const done = rejectedAsFalsePositive(audit) ? "done, as a false positive" : "done";
  const outcome = audit.success ? done : `refused: ${audit.reason ?? "no reason given"}`;
  return `${command} ${subject}: ${outcome} (${audit.action} by ${audit.triggered_by} at ${audit.timestamp})`;
}

/** Produces the command and waits up to `waitMs` for its audit entry. */
export async function issueAndWait(
  ctx: AppContext,
  value: Record<string, unknown>,
  waitMs: number,
): Promise<Audit | null> {
  const topic = ctx.names.audit;
  const groupId = `blackwell-cli-wait-${randomUUID()}`;
  const consumer = ctx.kafka.consumer({ groupId, topics: [topic], fromEnd: [topic], maxWaitMs: 100 });
  let found: Audit | null = null;
  try {
    let joined!: () => void;
    const hasJoined = new Promise<void>((r) => (joined = r));
    await consumer.start({
      onAssigned: () => joined(),
      eachBatch: async (batch) => {
        for (const message of batch.records) {
          if (found || message.key?.toString() !== value.client_id || !message.value) continue;
          const audit = await ctx.serde.decode<Audit>("AuditEntry", message.value);
          const changes = JSON.parse(audit.changes_made_json) as { command_id?: string };
          if (changes.command_id === value.command_id) found = audit;
        }
      },
    });
    await hasJoined;
    const producer = await ctx.kafka.producer();
    try {
      const command = ctx.serde.encode(ctx.names.commands, "Command", value);
      await producer.send([{ topic: ctx.names.commands, key: String(value.client_id), value: command }]);
    } finally {
      await producer.disconnect();
    }
    const deadline = Date.now() + waitMs;
    while (!found && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return found;
  } finally {
    await consumer.stop();
    await ctx.admin.deleteGroups([groupId]).catch(() => {});
  }
}

export async function operatorCommand(name: string, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      reason: { type: "string" },
      by: { type: "string" },
      json: { type: "boolean" },
      wait: { type: "string" },
      "false-positive": { type: "boolean" },
    },
  });
  const command = COMMAND_OF[name]!;
  const byDrift = ["acknowledge", "approve", "reject"].includes(command);
  const [client, target] = positionals;
  if (!client || !ID.test(client)) throw new UsageError(`${name} needs a client id`);
  if (byDrift && (!target || !/^drift-[0-9a-f]{24}$/.test(target)))
    throw new UsageError(`${name} needs a drift id (drift-<24 hex>, see \`blackwell drift ${client}\`)`);
  if (!byDrift && target && !ID.test(target)) throw new UsageError(`${JSON.stringify(target)} is not a stack id`);
  if (values["false-positive"] && command !== "reject") throw new UsageError("--false-positive goes with reject");
  const waitMs = Number(values.wait ?? 15) * 1000;
  if (!Number.isFinite(waitMs) || waitMs < 0) throw new UsageError("--wait takes seconds");
  const value = {
    command_id: randomUUID(),
    client_id: client,
    stack_id: byDrift ? null : (target ?? null),
    command,
    drift_id: byDrift ? target! : null,
    issued_by: actorName(values.by),
    issued_at: new Date().toISOString(),
    reason: values.reason ?? null,
    params_json: values["false-positive"] ? JSON.stringify({ false_positive: true }) : "{ }",
  };
  const audit = await withContext((ctx) => issueAndWait(ctx, value, waitMs));
  const result = { command_id: value.command_id, command, client_id: client, processed: audit !== null, audit };
  print(values.json ?? false, result, () =>
    audit === null
      ? `${command} ${target ?? client}: sent (command ${value.command_id}); no reconciler answer within ${waitMs / 1000} s — is a reconciler running?`
      : answerLine(command, target ?? client, audit),
  );
  if (audit === null) return EXIT.problem;
  return audit.success ? EXIT.ok : EXIT.problem;
}
