/**
 * What a proposed policy would have changed: the outputs of two sandboxed
 * replays of the same recorded inputs, one with the recorded policies and one
 * with the proposed policy, compared per client over a window. Pure: the
 * replays happen elsewhere (src/runtime/what-if.ts); this only counts.
 */
import { isoTime } from "../iso-time.js";

/** A heal command as a run wrote it. */
export interface RunHeal {
  client_id: string;
  stack_id: string;
  drift_id: string;
  /** Deterministic per drift and attempt: the same heal has the same key in both runs. */
  command_key: string;
  action: string;
  attempt: number;
  at: number;
}

export interface RunAudit {
  client_id: string;
  stack_id: string | null;
  action: string;
  at: number;
}

/** A stack's status as one StateRecord of the run said it, in the order the run wrote them. */
export interface RunState {
  client_id: string;
  stack_id: string;
  status: string;
  at: number;
}

export interface RunDrift {
  client_id: string;
  transition: string;
  at: number;
}

export interface RunRecords {
  heals: RunHeal[];
  audits: RunAudit[];
  states: RunState[];
  drifts: RunDrift[];
}

export interface WhatIfCounts {
  heals_issued: number;
  /** Heals held for an operator's approval (`heal_await_approval`). */
  approvals_asked: number;
  breaker_openings: number;
  /** Heals that ran out of attempts (`heal_exhausted`): a person has to look. */
  heals_exhausted: number;
  /** Time the client's stacks spent in `error` within the window (summed over stacks). */
  seconds_in_error: number;
  drifts_opened: number;
}

export interface HealRef {
  stack_id: string;
  drift_id: string;
  action: string;
  attempt: number;
  at: string;
}

export interface ClientWhatIf {
  client_id: string;
  recorded: WhatIfCounts;
  proposed: WhatIfCounts;
  /** Heals the recorded policies issued and the proposed one would not have. */
  heals_avoided: HealRef[];
  /** Heals the proposed policy would have issued and the recorded ones did not. */
  heals_added: HealRef[];
}

export interface WhatIfReport {
  window: { from: string; to: string };
  fleet: { recorded: WhatIfCounts; proposed: WhatIfCounts };
  clients: ClientWhatIf[];
}

export interface WhatIfWindow {
  from: number;
  to: number;
}

const zero = (): WhatIfCounts => ({
  heals_issued: 0,
  approvals_asked: 0,
  breaker_openings: 0,
  heals_exhausted: 0,
  seconds_in_error: 0,
  drifts_opened: 0,
});

const AUDIT_COUNTS: Readonly<Record<string, keyof WhatIfCounts>> = {
  heal_await_approval: "approvals_asked",
  circuit_breaker_opened: "breaker_openings",
  heal_exhausted: "heals_exhausted",
};

/** Counts of one run per client, over the window. */
function countsOf(run: RunRecords, window: WhatIfWindow, only: string | null): Map<string, WhatIfCounts> {
  const inWindow = (at: number) => at >= window.from && at < window.to;
  const wanted = (client: string) => only === null || client === only;
  const out = new Map<string, WhatIfCounts>();
  const of = (client: string) => out.get(client) ?? out.set(client, zero()).get(client)!;
  for (const h of run.heals) if (wanted(h.client_id) && inWindow(h.at)) of(h.client_id).heals_issued++;
  for (const a of run.audits) {
    const field = AUDIT_COUNTS[a.action];
    if (field !== undefined && wanted(a.client_id) && inWindow(a.at)) of(a.client_id)[field]++;
  }
  for (const d of run.drifts)
    if (d.transition === "opened" && wanted(d.client_id) && inWindow(d.at)) of(d.client_id).drifts_opened++;
  for (const [client, ms] of errorTime(run.states, window))
    if (wanted(client)) of(client).seconds_in_error += ms / 1000;
  return out;
}

/** Milliseconds each client's stacks spent in `error` within the window; the last status lasts to its end. */
function errorTime(states: readonly RunState[], window: WhatIfWindow): Map<string, number> {
  const byStack = new Map<string, RunState[]>();
  for (const s of states) {
    const key = `${s.client_id}/${s.stack_id}`;
    (byStack.get(key) ?? byStack.set(key, []).get(key)!).push(s);
  }
  const out = new Map<string, number>();
  for (const list of byStack.values()) {
    list.forEach((s, i) => {
      if (s.status !== "error") return;
      const from = Math.max(s.at, window.from);
      const to = Math.min(list[i + 1]?.at ?? window.to, window.to);
      if (to > from) out.set(s.client_id, (out.get(s.client_id) ?? 0) + (to - from));
    });
  }
  return out;
}

const ref = (h: RunHeal): HealRef => ({
  stack_id: h.stack_id,
  drift_id: h.drift_id,
  action: h.action,
  attempt: h.attempt,
  at: isoTime(h.at),
});

/** Heals of `a` within the window (and of the client) that `b` does not have, by command key. */
function missingFrom(a: RunRecords, b: RunRecords, client: string, window: WhatIfWindow): HealRef[] {
  const keys = new Set(b.heals.map((h) => h.command_key));
  return a.heals
    .filter((h) => h.client_id === client && h.at >= window.from && h.at < window.to && !keys.has(h.command_key))
    .sort((x, y) => x.at - y.at || (x.command_key < y.command_key ? -1 : 1))
    .map(ref);
}

const add = (a: WhatIfCounts, b: WhatIfCounts): WhatIfCounts => ({
  heals_issued: a.heals_issued + b.heals_issued,
  approvals_asked: a.approvals_asked + b.approvals_asked,
  breaker_openings: a.breaker_openings + b.breaker_openings,
  heals_exhausted: a.heals_exhausted + b.heals_exhausted,
  seconds_in_error: a.seconds_in_error + b.seconds_in_error,
  drifts_opened: a.drifts_opened + b.drifts_opened,
});

const rounded = (c: WhatIfCounts): WhatIfCounts => ({ ...c, seconds_in_error: Math.round(c.seconds_in_error) });

export function whatIfReport(
  recorded: RunRecords,
  proposed: RunRecords,
  window: WhatIfWindow,
  client: string | null = null,
): WhatIfReport {
  const before = countsOf(recorded, window, client);
  const after = countsOf(proposed, window, client);
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort();
  const clients = ids.map((id) => ({
    client_id: id,
    recorded: rounded(before.get(id) ?? zero()),
    proposed: rounded(after.get(id) ?? zero()),
    heals_avoided: missingFrom(recorded, proposed, id, window),
    heals_added: missingFrom(proposed, recorded, id, window),
  }));
  return {
    window: { from: isoTime(window.from), to: isoTime(window.to) },
    fleet: {
      recorded: rounded(clients.reduce((a, c) => add(a, c.recorded), zero())),
      proposed: rounded(clients.reduce((a, c) => add(a, c.proposed), zero())),
    },
    clients,
  };
}

const FIELDS: ReadonlyArray<[keyof WhatIfCounts, string]> = [
  ["heals_issued", "heals issued"],
  ["approvals_asked", "approvals asked"],
  ["breaker_openings", "circuit breaker openings"],
  ["heals_exhausted", "heals exhausted"],
  ["seconds_in_error", "seconds in error"],
  ["drifts_opened", "drifts opened"],
];

/** The report for people: a table per client (and the fleet), then the heals avoided and added. */
export function renderWhatIf(report: WhatIfReport): string {
  const lines = [`what-if from ${report.window.from} to ${report.window.to}`, ""];
  const block = (title: string, recorded: WhatIfCounts, proposed: WhatIfCounts) => {
    lines.push(title);
    const rows = FIELDS.map(([f, label]) => {
      const d = proposed[f] - recorded[f];
      return [label, String(recorded[f]), String(proposed[f]), d === 0 ? "=" : d > 0 ? `+${d}` : String(d)];
    });
    const all = [["", "recorded", "proposed", "change"], ...rows];
    const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
    for (const r of all)
      lines.push(`  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")}`);
  };
  if (report.clients.length === 0) lines.push("no client had a drift, heal or audit entry in the window");
  if (report.clients.length > 1) {
    block("fleet", report.fleet.recorded, report.fleet.proposed);
    lines.push("");
  }
  for (const c of report.clients) {
    block(`client ${c.client_id}`, c.recorded, c.proposed);
    for (const h of c.heals_avoided)
      lines.push(`  avoided: ${h.at} ${h.stack_id} ${h.action} (attempt ${h.attempt}) for ${h.drift_id}`);
    for (const h of c.heals_added)
      lines.push(`  added:   ${h.at} ${h.stack_id} ${h.action} (attempt ${h.attempt}) for ${h.drift_id}`);
    lines.push("");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
