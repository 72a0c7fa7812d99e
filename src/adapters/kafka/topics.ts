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
  | "heal-commands"
  | "stack-state"
  | "audit"
  | "dlq"
  | "changelog"
  | "executor-ledger"
  | "desired-history"
  | "task-journal";

export type SchemaName =
  | "DesiredState"
  | "ProviderEvent"
  | "ResourceEvent"
  | "Command"
  | "HealResult"
  | "DriftEvent"
  | "HealCommand"
  | "StateRecord"
  | "AuditEntry"
  | "ExecutorEffect"
  | "TaskJournal"
  | "ChangelogEntry";

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

export function topicSpec(role: TopicRole): TopicSpec {
  const spec = TOPICS.find((t) => t.role === role);
  if (!spec) throw new Error(`unknown topic role ${role}`);
  return spec;
}
