/** `blackwell status`, `drift` and `history`: what Kafka holds now, as tables or JSON. */
import { parseArgs } from "node:util";
import { latestByKey, readRecords } from "../../runtime/read-records.js";
import { EXIT, UsageError, print, table, withContext } from "../cli-kit.js";
import { actionLabel } from "./operator-commands.js";
import { ID_PATTERN as CLIENT } from "../../core/model/validate-desired.js";

interface Detail {
  drift_id: string;
  type: string;
  component: string;
  severity: string;
  detected_at: string;
  acknowledged: boolean;
  expected_json: string;
  observed_json: string;
  /** 0..1; null on a drift recorded before confidence existed. */
  confidence?: number | null;
}
interface State {
  client_id: string;
  stack_id: string;
  status: string;
  state_version: string;
  observed_state_version: string;
  last_verified: string;
  drift_details: Detail[];
}
interface DriftEvent {
  client_id: string;
  stack_id: string;
  drift_id: string;
  transition: string;
  drift_type: string;
  component: string;
  severity: string;
  timestamp: string;
  note: string | null;
}
interface Audit {
  client_id: string;
  stack_id: string | null;
  action: string;
  timestamp: string;
  triggered_by: string;
  success: boolean;
  reason: string | null;
  drift_id: string | null;
  changes_made_json: string;
}

function clientArg(positionals: string[], required: boolean): string | null {
  const client = positionals[0] ?? null;
  if (required && !client) throw new UsageError("a client id is required");
  if (client && !CLIENT.test(client)) throw new UsageError(`${JSON.stringify(client)} is not a client id`);
  return client;
}

async function states(client: string | null): Promise<State[]> {
  return withContext(async (ctx) =>
    [...latestByKey(await readRecords<State>(ctx, "stack-state", client)).values()].sort((a, b) =>
      `${a.client_id}/${a.stack_id}`.localeCompare(`${b.client_id}/${b.stack_id}`),
    ),
  );
}

export async function status(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  const client = clientArg(positionals, false);
  const list = await states(client);
  if (client && list.length === 0) {
    const audits = await withContext(async (ctx) => readRecords<Audit>(ctx, "audit", client));
    const offboarding = offboardingOf(audits.flatMap((r) => (r.value ? [r.value] : [])));
    console.error(
      offboarding
        ? offboardedLine(client, offboarding)
        : `no stacks for client ${client} (not applied yet, or not evaluated by a reconciler yet)`,
    );
    return EXIT.problem;
  }
  print(values.json ?? false, list, () =>
    table([
      ["STACK", "STATUS", "DESIRED", "EVALUATED", "DRIFTS", "LAST VERIFIED"],
      ...list.map((s) => [
        `${s.client_id}/${s.stack_id}`,
        s.status,
        s.state_version,
        s.observed_state_version,
        String(s.drift_details.length),
        s.last_verified,
      ]),
    ]),
  );
  // Scripts: 0 when every stack listed is healthy, 1 when any is not.
  return list.every((s) => s.status === "healthy") ? EXIT.ok : EXIT.problem;
}

/**
 * The client's offboarding, when that is why it has no stacks: its latest `client_offboarded` audit, unless a desired
 * state was applied after it (the client was brought back, and is only waiting for a reconciler).
 */
export function offboardingOf(audits: readonly Audit[]): Audit | null {
  let found: Audit | null = null;
  for (const a of audits) {
    if (a.action === "client_offboarded" && a.success) found = a;
    else if (a.action === "desired_state_applied") found = null;
  }
  return found;
}

/** What `status` says of an offboarded client: it read "not applied yet", as if the client had never been set up. */
export function offboardedLine(client: string, a: Audit): string {
  return `client ${client} was offboarded at ${a.timestamp} by ${a.triggered_by}${a.reason ? ` (reason: ${a.reason})` : ""}: it has no stacks`;
}

export async function drift(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  const client = clientArg(positionals, false);
  const open = (await states(client)).flatMap((s) =>
    s.drift_details.map((d) => ({
      client_id: s.client_id,
      stack_id: s.stack_id,
      ...d,
      expected: JSON.parse(d.expected_json) as unknown,
      observed: JSON.parse(d.observed_json) as unknown,
    })),
  );
  print(values.json ?? false, open, () => driftTable(open));
  return open.length === 0 ? EXIT.ok : EXIT.problem;
}

/** The open drifts as `blackwell drift` shows them; confidence as the console shows it (a percentage). */
export function driftTable(open: ReadonlyArray<Detail & { client_id: string; stack_id: string }>): string {
  if (open.length === 0) return "no open drift";
  return table([
    ["STACK", "DRIFT", "TYPE", "COMPONENT", "SEVERITY", "CONFIDENCE", "ACK", "DETECTED", "EXPECTED -> OBSERVED"],
    ...open.map((d) => [
      `${d.client_id}/${d.stack_id}`,
      d.drift_id,
      d.type,
      d.component,
      d.severity,
      typeof d.confidence === "number" ? `${Math.round(d.confidence * 100)}%` : "-",
      d.acknowledged ? "yes" : "no",
      d.detected_at,
      `${d.expected_json.slice(0, 40)} -> ${d.observed_json.slice(0, 40)}`,
    ]),
  ]);
}

export async function history(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: "boolean" }, limit: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  const client = clientArg(positionals, true)!;
  const limit = Number(values.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError("--limit must be a positive integer");
  const events = await withContext(async (ctx) => {
    const [drifts, audits] = await Promise.all([
      readRecords<DriftEvent>(ctx, "drift-events", client),
      readRecords<Audit>(ctx, "audit", client),
    ]);
    return [
      ...drifts.flatMap((r) =>
        r.value
          ? [
              {
                at: r.value.timestamp,
                stack: r.value.stack_id,
                what: `drift ${r.value.transition}`,
                detail: `${r.value.drift_type}/${r.value.component} ${r.value.severity}${r.value.note ? ` — ${r.value.note}` : ""}`,
                by: "reconciler",
                record: r.value,
              },
            ]
          : [],
      ),
      ...audits.flatMap((r) => (r.value ? [auditEntry(r.value)] : [])),
    ]
      .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
      .slice(0, limit);
  });
  print(
    values.json ?? false,
    events.map((e) => e.record),
    () =>
      events.length === 0
        ? `no history for ${client}`
        : table([
            ["AT", "STACK", "WHAT", "BY", "DETAIL"],
            ...events.map((e) => [e.at, e.stack, e.what, e.by, e.detail.slice(0, 120)]),
          ]),
  );
  return EXIT.ok;
}

/** One audit entry as a `blackwell history` row. */
export function auditEntry(a: Audit) {
  return {
    at: a.timestamp,
    stack: a.stack_id ?? "-",
    what: actionLabel(a),
    detail: `${a.success ? "ok" : "not done"}${a.reason ? ` — ${a.reason}` : ""}`,
    by: a.triggered_by,
    record: a,
  };
}
