/**
 * One transaction's worth of a task's work, pure: folds input records into
 * client states at stream time, and judges every client whose re-evaluation
 * deadline stream time passes *at that deadline*, in deadline order, before
 * the record that moved time past it. So outputs depend only on the order of
 * the records, never on how they were cut into fetches or transactions.
 * Stored states and deadlines come in through `ClientLookup`; nothing here
 * does I/O.
 */
import { decide, type DecideContext } from "../core/lifecycle/decide.js";
import { evolve } from "../core/fold/evolve.js";
import { scopeOf } from "../core/fold/scopes.js";
import { derivedId } from "../core/ids.js";
import { emptyClient, type ClientState } from "../core/model/client-state.js";
import { clientOf, type InputRecord } from "../core/model/inputs.js";
import type { PassOutputs } from "../core/model/outputs.js";
import { isoTime } from "../core/iso-time.js";

export interface ClientLookup {
  get(client_id: string): ClientState | undefined;
  /** Clients whose stored deadline is in (after, upTo], by deadline then client id. */
  dueBetween(after: number, upTo: number): Array<{ client_id: string; deadline: number }>;
  /** The smallest stored deadline after `after`; null when there is none. */
  nextDeadlineAfter(after: number): number | null;
}

/** Where a record was read: input role, partition, offset. */
export interface RecordPosition {
  role: string;
  partition: number;
  offset: string;
  /** Its record timestamp (epoch ms). */
  timestamp: number;
}

/** Re-evaluations one advance may run before it stops (a guard against a deadline that never moves on). */
const MAX_DUE_PER_ADVANCE = 1_000_000;
/** Deadlines of one client judged at their own time within one advance; later ones are judged together at its end. */
const MAX_JUDGED_PER_ADVANCE = 3;

type Due = [deadline: number, client_id: string, fromStore: boolean];

export class TaskPass {
  readonly clients = new Map<string, ClientState>();
  /** Each changed client's state as the pass found it (undefined: a new client). */
  readonly before = new Map<string, ClientState | undefined>();
  readonly deadlines = new Map<string, number | null>();
  /** Clients offboarded by this pass (and not brought back by a later input of it): deleted, not stored. */
  readonly forgotten = new Set<string>();
  readonly outputs: PassOutputs = {
    transitions: [],
    stackStates: [],
    audits: [],
    healCommands: [],
    reevaluateAt: null,
  };
  /** Records applied (DLQ'd ones not counted). */
  records = 0;
  /** Records taken that were older than stream time. */
  late = 0;
  /** Newest event time among the records applied. */
  newestEventAt: number | null = null;
  private readonly heap: Due[] = [];
  /** Stored deadlines at or before this have been looked at. */
  private storeCheckedTo = Number.NEGATIVE_INFINITY;
  /** The next stored deadline after `storeCheckedTo` (undefined: not asked yet). */
  private storeNext: number | null | undefined;

  constructor(
    private readonly lookup: ClientLookup,
    private time: number,
  ) {}

  /** Stream time. */
  get now(): number {
    return this.time;
  }

  /**
   * Moves stream time to `to` (never back), first judging, at its deadline, every client whose deadline falls at
   * or before `to`.
   */
  advance(to: number, trigger: string): void {
    this.loadStoreDue(to);
    // A client judged this often within one advance (a long gap: every schedule point of a day) is judged once
    // more at `to` instead of at each of its remaining deadlines: catching up stays bounded.
    const judged = new Map<string, number>();
    const caughtUp = new Set<string>();
    for (let n = 0; n < MAX_DUE_PER_ADVANCE; n++) {
      const top = this.heap[0];
      if (!top || top[0] > to) break;
      pop(this.heap);
      const [deadline, client_id, fromStore] = top;
      if (fromStore ? this.deadlines.has(client_id) : this.deadlines.get(client_id) !== deadline) continue;
      const count = (judged.get(client_id) ?? 0) + 1;
      if (count > MAX_JUDGED_PER_ADVANCE) {
        caughtUp.add(client_id);
        continue;
      }
      judged.set(client_id, count);
      const at = Math.max(deadline, this.time);
      this.time = at;
      this.apply(client_id, null, { now: at, reconciliation_id: `recon-due-${client_id}-${deadline}`, trigger });
    }
    if (to > this.time) this.time = to;
    for (const client_id of [...caughtUp].sort()) {
      const deadline = this.deadlines.get(client_id);
      if (deadline === null || deadline === undefined || deadline > to) continue;
      this.apply(client_id, null, { now: to, reconciliation_id: `recon-due-${client_id}-${to}`, trigger });
    }
  }

  /**
   * A decoded record taken from the merge, before it is applied: one older than stream time is late (counted; time
   * stays), any other moves stream time to its timestamp. Returns whether it is late. Records that go to the DLQ are
   * not taken: an undecodable record must not move the time every client of the task is judged at.
   */
  take(timestamp: number): boolean {
    const late = timestamp < this.time;
    if (late) this.late++;
    else this.advance(timestamp, "stream-time");
    return late;
  }

  /**
   * Folds one decoded input record at stream time. A late record is also audited for its client (`late_record`).
   * Throws (a record the core cannot apply), leaving the pass as it was.
   */
  applyRecord(input: InputRecord, at: RecordPosition, late: boolean): void {
    const client = clientOf(input);
    const trigger = `${at.role}/${at.partition}@${at.offset}`;
    // Deterministic and unique per input record; plain text because every record gets one.
    const reconciliation_id = `recon-${at.role}-${at.partition}-${at.offset}`;
    this.apply(client, input, {
      now: this.time,
      reconciliation_id,
      trigger,
      ...(input.kind === "ProviderEventObserved" || input.kind === "ResourceEventObserved"
        ? { scope: scopeOf(input.stack_id, input.environment) }
        : {}),
      ...(input.kind === "CommandIssued" ? { command: input } : {}),
      ...(input.kind === "DesiredStateApplied"
        ? {
            applied: {
              stack_id: input.desired.stack_id,
              state_version: input.desired.state_version,
              applied_by: input.desired.applied_by,
              ...(input.desired.approved_by ? { approved_by: input.desired.approved_by } : {}),
            },
          }
        : {}),
    });
    this.records++;
    this.newestEventAt = Math.max(this.newestEventAt ?? input.at, input.at);
    if (!late) return;
    this.outputs.audits.push({
      audit_id: derivedId("aud", reconciliation_id, "late_record"),
      at: this.time,
      action: "late_record",
      client_id: client,
      stack_id: "stack_id" in input ? (input.stack_id ?? null) : null,
      drift_id: null,
      triggered_by: trigger,
      success: true,
      changes_made: { record_time: at.timestamp, stream_time: this.time },
      approval_required: false,
      approver: null,
      reason: `record time ${isoTime(at.timestamp)} is ${this.time - at.timestamp} ms before stream time: processed where it arrived`,
    });
  }

  /** Folds one input (or, with null, re-evaluates the client) at `ctx.now`. Throws, leaving the pass as it was. */
  apply(client_id: string, input: InputRecord | null, ctx: DecideContext): void {
    let before = this.clients.get(client_id);
    if (input?.kind === "DesiredStateRemoved") {
      // Removing a stack the client does not have changes nothing; for an offboarded client (whose desired state
      // is tombstoned after it), judging it would store an empty state again.
      const known = (before ?? this.lookup.get(client_id))?.stacks[input.stack_id];
      if (!known) return;
    }
    if (!before) {
      const stored = this.lookup.get(client_id);
      before = stored ?? emptyClient(client_id);
      // Kept until the commit (a client that throws here is not changed, and not in `clients`).
      this.before.set(client_id, stored);
    }
    const evolved = input ? evolve(before, input) : before;
    const decision = decide(evolved, ctx);
    this.clients.set(client_id, decision.state);
    if (decision.outputs.forget) this.forgotten.add(client_id);
    else this.forgotten.delete(client_id);
    // A deadline must lie ahead of the time it was set at, or the client would be judged again and again.
    const asked = decision.outputs.reevaluateAt;
    const deadline = asked !== null && asked <= ctx.now ? ctx.now + 1 : asked;
    this.deadlines.set(client_id, deadline);
    if (deadline !== null && deadline > ctx.now) push(this.heap, [deadline, client_id, false]);
    this.outputs.transitions.push(...decision.outputs.transitions);
    this.outputs.stackStates.push(...decision.outputs.stackStates);
    this.outputs.audits.push(...decision.outputs.audits);
    this.outputs.healCommands.push(...decision.outputs.healCommands);
    if (decision.outputs.predictions) (this.outputs.predictions ??= []).push(...decision.outputs.predictions);
  }

  private loadStoreDue(to: number): void {
    if (to <= this.storeCheckedTo) return;
    if (this.storeNext === undefined) this.storeNext = this.lookup.nextDeadlineAfter(this.storeCheckedTo);
    if (this.storeNext !== null && this.storeNext <= to) {
      for (const { client_id, deadline } of this.lookup.dueBetween(this.storeCheckedTo, to)) {
        if (!this.deadlines.has(client_id)) push(this.heap, [deadline, client_id, true]);
      }
      this.storeNext = undefined;
    }
    this.storeCheckedTo = to;
  }
}

function less(a: Due, b: Due): boolean {
  return a[0] !== b[0] ? a[0] < b[0] : a[1] < b[1];
}

function push(heap: Due[], item: Due): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!less(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function pop(heap: Due[]): void {
  const last = heap.pop()!;
  if (heap.length === 0) return;
  heap[0] = last;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
    if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
    if (m === i) return;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
}
