/**
 * The topics of the design contract: names (under a configurable prefix),
 * value schemas, keys and cleanup policies.
 */
export type TopicRole =
  | "desired-state"
  | "provider-events"
  | "resource-events"
  | "commands"
  | "heal-results"
  | "drift-events"
  | "drift-predictions"
  | "heal-commands"
  | "stack-state"
  | "audit"
  | "dlq"
  | "changelog"
  | "executor-ledger"
  | "desired-history"
  | "task-journal"
  | "fleet-policy"
  | "promotion-requests";

export type SchemaName =
  | "DesiredState"
  | "ProviderEvent"
  | "ResourceEvent"
  | "Command"
  | "HealResult"
  | "DriftEvent"
  | "DriftPrediction"
  | "HealCommand"
  | "StateRecord"
  | "AuditEntry"
  | "ExecutorEffect"
  | "TaskJournal"
  | "ChangelogEntry"
  | "FleetPolicy"
  | "PromotionRequest";

export interface TopicSpec {
  role: TopicRole;
  /** Value schema; none for the DLQ (original bytes). */
  schema?: SchemaName;
  key:
    | "client_id"
    | "client_id/stack_id"
    | "client_id/command_key"
    | "client_id/stack_id/state_version"
    | "application_id/task"
    | "fleet"
    | "original";
  configEntries: Record<string, string>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const retention = (days: number) => ({ "cleanup.policy": "delete", "retention.ms": String(days * DAY_MS) });
const compacted = { "cleanup.policy": "compact", "min.compaction.lag.ms": "0", "segment.ms": String(DAY_MS) };

/**
 * Inputs: the broker refuses a record stamped more than an hour ahead of its clock, so no producer can move a task's
 * stream time (the largest record timestamp it has taken) into the future.
 */
const input = (entries: Record<string, string>) => ({
  ...entries,
  "message.timestamp.after.max.ms": String(3_600_000),
});

export const TOPICS: readonly TopicSpec[] = [
  { role: "desired-state", schema: "DesiredState", key: "client_id/stack_id", configEntries: input(compacted) },
  { role: "provider-events", schema: "ProviderEvent", key: "client_id", configEntries: input(retention(30)) },
  { role: "resource-events", schema: "ResourceEvent", key: "client_id", configEntries: input(retention(30)) },
  { role: "commands", schema: "Command", key: "client_id", configEntries: input(retention(30)) },
  { role: "heal-results", schema: "HealResult", key: "client_id", configEntries: input(retention(30)) },
  { role: "drift-events", schema: "DriftEvent", key: "client_id", configEntries: retention(30) },
  { role: "drift-predictions", schema: "DriftPrediction", key: "client_id", configEntries: retention(30) },
  { role: "heal-commands", schema: "HealCommand", key: "client_id", configEntries: retention(30) },
  { role: "stack-state", schema: "StateRecord", key: "client_id/stack_id", configEntries: compacted },
  { role: "audit", schema: "AuditEntry", key: "client_id", configEntries: retention(365) },
  { role: "dlq", key: "original", configEntries: retention(30) },
  // The reconciler's store changelog, restored on start: per client its runtime state (key client_id), per stack its
  // desired state as applied (key client_id/stack_id).
  { role: "changelog", schema: "ChangelogEntry", key: "client_id", configEntries: compacted },
  // The executors' effect ledger: compacted per command, and dropped after the heal-commands retention.
  {
    role: "executor-ledger",
    schema: "ExecutorEffect",
    key: "client_id/command_key",
    configEntries: { ...compacted, "cleanup.policy": "compact,delete", "retention.ms": String(30 * DAY_MS) },
  },
  // Every desired-state version ever applied, so `rollback --to` can bring one back.
  {
    role: "desired-history",
    schema: "DesiredState",
    key: "client_id/stack_id/state_version",
    configEntries: compacted,
  },
  // Per reconciler transaction, which input records it took in what order (or the time a tick moved to):
  // replay follows it. Retained like the inputs it points into.
  { role: "task-journal", schema: "TaskJournal", key: "application_id/task", configEntries: retention(30) },
  // The fleet policy (one key, `fleet`): defaults every stack inherits and rules no stack's policy may break.
  { role: "fleet-policy", schema: "FleetPolicy", key: "fleet", configEntries: compacted },
  // Promotions awaiting an approval, and what became of them (key: the later stack). Kept like the audit: the latest
  // record per stack is the request's state, the earlier ones who asked, approved or rejected what.
  { role: "promotion-requests", schema: "PromotionRequest", key: "client_id/stack_id", configEntries: retention(365) },
];

/** Input topics of the reconciler, in the order the design lists them. */
export const RECONCILER_INPUTS: readonly TopicRole[] = [
  "desired-state",
  "provider-events",
  "resource-events",
  "commands",
  "heal-results",
];

export type TopicNames = Record<TopicRole, string>;

/** Full topic names under `prefix` (default `blackwell.`). */
export function topicNames(prefix: string): TopicNames {
  const names = {} as TopicNames;
  for (const spec of TOPICS) names[spec.role] = `${prefix}${spec.role}`;
  return names;
}

/** Retention per topic role (ms), set in configuration (`BLACKWELL_RETENTION`); roles not named keep their default. */
export type Retention = Partial<Record<TopicRole, number>>;

/** Topics whose records age out (their cleanup policy deletes): the ones a retention may be set for. */
export const RETAINED_ROLES: readonly TopicRole[] = TOPICS.filter(
  (t) => t.configEntries["retention.ms"] !== undefined,
).map((t) => t.role);

/** The retention of `role` (ms) under `retention`; null for a compacted topic (records live until replaced). */
export function retentionOf(role: TopicRole, retention: Retention = {}): number | null {
  const own = retention[role];
  if (own !== undefined) return own;
  const configured = topicSpec(role).configEntries["retention.ms"];
  return configured === undefined ? null : Number(configured);
}

/** The topic's configuration at creation, with the configured retention. */
export function topicConfig(role: TopicRole, retention: Retention = {}): Record<string, string> {
  const entries = { ...topicSpec(role).configEntries };
  const own = retention[role];
  if (own !== undefined) entries["retention.ms"] = String(own);
  return entries;
}

/**
 * What a set of retentions would break: replay follows the task journal into the inputs, so the journal must be
 * kept at least as long as every input; an executor's ledger must outlive the heal commands it guards.
 */
export function retentionProblems(retention: Retention): string[] {
  const problems: string[] = [];
  const days = (ms: number) => `${Math.round((ms / DAY_MS) * 100) / 100}d`;
  const journal = retentionOf("task-journal", retention)!;
  for (const input of RECONCILER_INPUTS) {
    const kept = retentionOf(input, retention);
    if (kept !== null && kept > journal)
      problems.push(
        `task-journal (${days(journal)}) must be kept at least as long as ${input} (${days(kept)}): replay follows the journal into the inputs`,
      );
  }
  const ledger = retentionOf("executor-ledger", retention)!;
  const commands = retentionOf("heal-commands", retention)!;
  if (ledger < commands)
    problems.push(
      `executor-ledger (${days(ledger)}) must be kept at least as long as heal-commands (${days(commands)}): a command redelivered after its ledger entry aged out would be acted on again`,
    );
  return problems;
}

export function topicSpec(role: TopicRole): TopicSpec {
  const spec = TOPICS.find((t) => t.role === role);
  if (!spec) throw new Error(`unknown topic role ${role}`);
  return spec;
}
