/**
 * `blackwell client offboard <client> --yes`: removes a client from every compacted topic and every store. The
 * reconciler takes an `offboard` command (resolving its open drifts, tombstoning its StateRecords and changelog
 * entries, deleting it from its store, auditing `client_offboarded`, which makes every API replica forget the
 * client); then this command tombstones the client's records in the topics the reconciler does not write:
 * desired-state, desired-history and executor-ledger. Records of the delete-policy topics (events, drift events,
 * audit) age out with their retention.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type { TopicRole } from "../../adapters/kafka/topics.js";
import type { AppContext } from "../../runtime/app-context.js";
import { readRecords } from "../../runtime/read-records.js";
import { actorName, EXIT, print, UsageError, withContext } from "../cli-kit.js";
import { issueAndWait, type Audit } from "./operator-commands.js";
import { ID_PATTERN as CLIENT } from "../../core/model/validate-desired.js";

/** Compacted topics this command tombstones; the reconciler tombstones stack-state and changelog itself. */
const TOMBSTONED: readonly TopicRole[] = ["desired-state", "desired-history", "executor-ledger"];

interface Plan {
  client_id: string;
  stacks: string[];
  /** Live keys of the client per topic this command tombstones. */
  keys: Partial<Record<TopicRole, string[]>>;
}

async function planFor(ctx: AppContext, client: string): Promise<Plan> {
  const keys: Plan["keys"] = {};
  for (const role of TOMBSTONED) {
    // Undecoded: a key whose latest record is a tombstone is already gone.
    const latest = new Map<string, boolean>();
    for (const r of await readRecords(ctx, role, client, { decode: false })) latest.set(r.key, r.record.value !== null);
    keys[role] = [...latest].filter(([k, live]) => live && k.startsWith(`${client}/`)).map(([k]) => k);
  }
  const stacks = (keys["desired-state"] ?? []).map((k) => k.slice(client.length + 1)).sort();
  return { client_id: client, stacks, keys };
}

export async function clientCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "offboard") throw new UsageError("client needs a subcommand: offboard");
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      yes: { type: "boolean" },
      reason: { type: "string" },
      by: { type: "string" },
      wait: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const [client, ...extra] = positionals;
  if (!client || !CLIENT.test(client)) throw new UsageError("offboard needs a client id");
  if (extra.length > 0) throw new UsageError(`offboard takes one client, got ${positionals.join(" ")}`);
  const waitMs = Number(values.wait ?? 30) * 1000;
  if (!Number.isFinite(waitMs) || waitMs < 0) throw new UsageError("--wait takes seconds");
  const json = values.json ?? false;

  return withContext(async (ctx) => {
    const plan = await planFor(ctx, client);
    const counts = Object.fromEntries(TOMBSTONED.map((r) => [r, plan.keys[r]?.length ?? 0]));
    if (Object.values(counts).every((n) => n === 0)) {
      // A mistyped id must not look like a completed offboarding (nor leave an audit entry for a client never seen).
      const message = `client ${client} has no desired state, history or ledger records: unknown, or already offboarded; nothing done`;
      print(json, { ...plan, done: false, message }, () => `offboard ${client}: ${message}`);
      return EXIT.problem;
    }
    if (!values.yes) {
      print(json, { ...plan, done: false, message: "nothing done: offboarding needs --yes" }, () =>
        [
          `offboarding ${client} would remove stacks [${plan.stacks.join(", ")}], tombstone ${Object.entries(counts)
            .map(([r, n]) => `${n} ${r}`)
            .join(", ")} records, and have the reconciler delete its state, StateRecords and changelog entries.`,
          "Nothing done: run again with --yes.",
        ].join("\n"),
      );
      return EXIT.problem;
    }
    const command = {
      command_id: randomUUID(),
      client_id: client,
      stack_id: null,
      command: "offboard",
      drift_id: null,
      issued_by: actorName(values.by),
      issued_at: new Date().toISOString(),
      reason: values.reason ?? null,
      params_json: "{ }",
    };
    const audit: Audit | null = await issueAndWait(ctx, command, waitMs);
    if (audit === null || !audit.success) {
      print(json, { ...plan, done: false, audit }, () =>
        audit === null
          ? `offboard ${client}: sent (command ${command.command_id}); no reconciler answer within ${waitMs / 1000} s, so no topic was tombstoned yet — is a reconciler running? Run again once it is.`
          : `offboard ${client}: refused: ${audit.reason ?? "no reason given"}`,
      );
      return EXIT.problem;
    }
    // After the reconciler forgot the client: the desired-state tombstones it reads next find nothing to remove.
    const producer = await ctx.kafka.producer();
    try {
      for (const role of TOMBSTONED) {
        const keys = plan.keys[role] ?? [];
        if (keys.length > 0) await producer.send(keys.map((key) => ({ topic: ctx.names[role], key, value: null })));
      }
    } finally {
      await producer.disconnect();
    }
    print(json, { ...plan, done: true, tombstoned: counts, audit }, () =>
      [
        `offboard ${client}: done (${audit.action} by ${audit.triggered_by} at ${audit.timestamp}).`,
        `Stacks removed: ${plan.stacks.join(", ") || "none"}; tombstoned ${Object.entries(counts)
          .map(([r, n]) => `${n} ${r}`)
          .join(", ")} records; the reconciler tombstoned its StateRecords and changelog entries.`,
        "Events, drift events and audit entries of the client age out with their topics' retention.",
      ].join("\n"),
    );
    return EXIT.ok;
  });
}
