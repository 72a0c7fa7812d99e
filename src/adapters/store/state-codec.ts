/**
 * A client's state in the store and the changelog, in the `ChangelogEntry` Avro contract (schemas/): the runtime part
 * (observations, open drifts, healing) under the client's key, changed by most events, and each stack's desired
 * state under `client_id/stack_id`, written only when a new version is applied. Splitting them cut the bytes written
 * per event by about five (JSON of the whole client was 4.1 kB in the benchmark, 60% of it desired state).
 *
 * Values JSON cannot do without (configs, a finding's expected/observed) are JSON text inside the record. Optional
 * fields come back exactly as the core writes them: absent, not null.
 */
import avro from "avsc";
import type {
  ClientState,
  DriftConfidence,
  HealState,
  IntegrationObservation,
  ObservationScope,
  OpenDrift,
  OpenPrediction,
  StackEntry,
} from "../../core/model/client-state.js";
import type { DesiredStack, Role, Severity } from "../../core/model/desired.js";
import type { ResourceStatus } from "../../core/model/inputs.js";
import type { DriftKind, DriftType } from "../../core/model/vocabulary.js";
import { EMPTY_LIST, EMPTY_RECORD, sharedJson, sharedText } from "../kafka/interner.js";
import { desiredStackFromAvro, desiredToAvro, type AvroDesiredState } from "../kafka/records.js";

/** The Avro shape of a ChangelogEntry (see schemas/ChangelogEntry.avsc). */
export interface AvroChangelogEntry {
  stream_time: number;
  deadline: number | null;
  client: AvroClientRuntime | null;
  desired: AvroDesiredState | null;
}

interface AvroClientRuntime {
  client_id: string;
  stacks: Record<string, AvroStackRuntime>;
  scopes: Record<string, AvroScope>;
}

interface AvroStackRuntime {
  applied_ms: number;
  created_ms: number;
  updated_ms: number;
  last_verified_ms: number;
  drifts: Record<string, AvroDrift>;
  paused: boolean;
  removed: boolean;
  deadline: number | null;
  emitted: { fingerprint: string; at: number } | null;
  heal_log: number[];
  breaker_opened_at: number | null;
  rolled_back?: string | null;
  flaps: Record<string, number[]>;
  openings: Record<string, { kind: string; component: string; times: number[] }>;
  predictions: Record<string, AvroPrediction>;
}

interface AvroPrediction extends Omit<OpenPrediction, "type" | "kind"> {
  type: string;
  kind: string;
}

interface AvroDrift {
  drift_id: string;
  type: string;
  kind: string;
  component: string;
  expected_json: string | null;
  observed_json: string | null;
  severity: string;
  detected_at: number;
  acknowledged: boolean;
  ack_emitted: boolean;
  transitions: number;
  heal: AvroHeal | null;
  confidence: DriftConfidence | null;
}

interface AvroHeal {
  attempts: number;
  last_issued_at: number | null;
  approved_by: string | null;
  rejected: boolean;
  last_result: string | null;
  last_decision: string | null;
  flapping: string | null;
  escalated_from: string | null;
}

interface AvroScope {
  active: Record<string, { name: string; since: number }>;
  seen: Record<string, number>;
  disconnected: Record<string, number>;
  resources: Record<string, { status: string; at: number }>;
  integrations: Record<
    string,
    {
      config: { value_json: string; at: number } | null;
      webhook: { failures: number; first_failure: number | null; at: number; ended: number[] } | null;
    }
  >;
  content: Record<string, { pending: number[]; latest: number }>;
  builds: { covers: number | null; started: Record<string, number>; durations: number[] };
  beats: Record<string, number[]>;
}

/** `o` with `f` applied to each value; an empty record decodes to the shared `EMPTY_RECORD` (interner.ts). */
const mapValues = <A, B>(o: Record<string, A>, f: (a: A) => B): Record<string, B> => {
  let out: Record<string, B> | undefined;
  for (const k in o) (out ??= {})[k] = f(o[k]!);
  return out ?? EMPTY_RECORD;
};

/** A decoded record of plain values, or the shared `EMPTY_RECORD`. */
const copyOf = <A>(o: Record<string, A>): Record<string, A> => {
  for (const _ in o) return { ...o };
  return EMPTY_RECORD;
};

/** JSON text of a value the core keeps as `unknown`; null for undefined (absent). */
const jsonOf = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/** The runtime part of a client's state (everything but its stacks' desired states). */
export function runtimeToAvro(state: ClientState): AvroClientRuntime {
  return {
    client_id: state.client_id,
    stacks: mapValues(state.stacks, stackToAvro),
    scopes: mapValues(state.scopes, scopeToAvro),
  };
}

function stackToAvro(s: StackEntry): AvroStackRuntime {
  return {
    applied_ms: s.applied_ms,
    created_ms: s.created_ms,
    updated_ms: s.updated_ms,
    last_verified_ms: s.last_verified_ms,
    drifts: mapValues(s.drifts, driftToAvro),
    paused: s.paused,
    removed: s.removed,
    deadline: s.deadline,
    emitted: s.emitted,
    heal_log: s.heal_log ?? [],
    breaker_opened_at: s.breaker_opened_at ?? null,
    rolled_back: s.rolled_back ?? null,
    flaps: s.flaps ?? {},
    openings: s.openings ?? {},
    predictions: s.predictions ?? {},
  };
}

function driftToAvro(d: OpenDrift): AvroDrift {
  return {
    drift_id: d.drift_id,
    type: d.type,
    kind: d.kind,
    component: d.component,
    expected_json: jsonOf(d.expected),
    observed_json: jsonOf(d.observed),
    severity: d.severity,
    detected_at: d.detected_at,
    acknowledged: d.acknowledged,
    ack_emitted: d.ack_emitted,
    transitions: d.transitions,
    heal: d.heal
      ? {
          attempts: d.heal.attempts,
          last_issued_at: d.heal.last_issued_at,
          approved_by: d.heal.approved_by,
          rejected: d.heal.rejected,
          last_result: d.heal.last_result,
          last_decision: d.heal.last_decision,
          flapping: d.heal.flapping ?? null,
          escalated_from: d.heal.escalated_from ?? null,
        }
      : null,
    confidence: d.confidence ?? null,
  };
}

function scopeToAvro(s: ObservationScope): AvroScope {
  return {
    active: s.active as Record<string, { name: string; since: number }>,
    seen: s.seen,
    disconnected: s.disconnected,
    resources: s.resources,
    integrations: mapValues(s.integrations, (i) => ({
      config: i.config ? { value_json: JSON.stringify(i.config.value), at: i.config.at } : null,
      webhook: i.webhook
        ? {
            failures: i.webhook.failures,
            first_failure: i.webhook.first_failure,
            at: i.webhook.at,
            ended: i.webhook.ended ?? [],
          }
        : null,
    })),
    content: s.content,
    builds: { covers: s.builds.covers, started: s.builds.started, durations: s.builds.durations ?? [] },
    beats: s.beats ?? {},
  };
}

/** Rebuilds a client's state from its runtime part and its stacks' desired states. */
export function clientFromAvro(runtime: AvroClientRuntime, desired: ReadonlyMap<string, DesiredStack>): ClientState {
  const stacks: Record<string, StackEntry> = {};
  for (const stack_id in runtime.stacks) {
    const d = desired.get(stack_id);
    if (!d)
      throw new Error(
        `stored state of client ${runtime.client_id} names stack ${stack_id} but has no desired state for it`,
      );
    stacks[stack_id] = stackFromAvro(runtime.stacks[stack_id]!, d);
  }
  return { client_id: runtime.client_id, stacks, scopes: mapValues(runtime.scopes, scopeFromAvro) };
}

function stackFromAvro(s: AvroStackRuntime, desired: DesiredStack): StackEntry {
  const entry: StackEntry = {
    desired,
    applied_ms: s.applied_ms,
    created_ms: s.created_ms,
    updated_ms: s.updated_ms,
    last_verified_ms: s.last_verified_ms,
    drifts: mapValues(s.drifts, driftFromAvro),
    paused: s.paused,
    removed: s.removed,
    deadline: s.deadline,
    emitted: s.emitted ? { fingerprint: sharedText(s.emitted.fingerprint), at: s.emitted.at } : null,
  };
  if (s.heal_log.length > 0) entry.heal_log = [...s.heal_log];
  if (s.breaker_opened_at !== null) entry.breaker_opened_at = s.breaker_opened_at;
  if (s.rolled_back != null) entry.rolled_back = s.rolled_back;
  if (Object.keys(s.flaps).length > 0) entry.flaps = mapValues(s.flaps, (t) => [...t]);
  if (Object.keys(s.openings).length > 0)
    entry.openings = mapValues(s.openings, (o) => ({
      kind: sharedText(o.kind) as DriftKind,
      component: sharedText(o.component),
      times: [...o.times],
    }));
  if (Object.keys(s.predictions).length > 0)
    entry.predictions = mapValues(s.predictions, (p) => ({
      ...p,
      type: sharedText(p.type) as DriftType,
      kind: sharedText(p.kind) as DriftKind,
      component: sharedText(p.component),
      precursor: sharedText(p.precursor),
    }));
  return entry;
}

function driftFromAvro(d: AvroDrift): OpenDrift {
  const drift: OpenDrift = {
    type: sharedText(d.type) as DriftType,
    kind: sharedText(d.kind) as DriftKind,
    component: sharedText(d.component),
    expected: d.expected_json === null ? undefined : sharedJson(d.expected_json),
    observed: d.observed_json === null ? undefined : sharedJson(d.observed_json),
    severity: sharedText(d.severity) as Severity,
    drift_id: d.drift_id,
    detected_at: d.detected_at,
    acknowledged: d.acknowledged,
    ack_emitted: d.ack_emitted,
    transitions: d.transitions,
  };
  if (d.expected_json === null) delete drift.expected;
  if (d.observed_json === null) delete drift.observed;
  if (d.heal) {
    const heal: HealState = {
      attempts: d.heal.attempts,
      last_issued_at: d.heal.last_issued_at,
      approved_by: d.heal.approved_by,
      rejected: d.heal.rejected,
      last_result: d.heal.last_result === null ? null : (sharedText(d.heal.last_result) as HealState["last_result"]),
      last_decision: d.heal.last_decision === null ? null : sharedText(d.heal.last_decision),
    };
    if (d.heal.flapping !== null) heal.flapping = d.heal.flapping;
    if (d.heal.escalated_from !== null) heal.escalated_from = d.heal.escalated_from as Severity;
    drift.heal = heal;
  }
  if (d.confidence) drift.confidence = { ...d.confidence };
  return drift;
}

function scopeFromAvro(s: AvroScope): ObservationScope {
  const active: ObservationScope["active"] = {};
  for (const role in s.active)
    active[role as Role] = { name: sharedText(s.active[role]!.name), since: s.active[role]!.since };
  return {
    active,
    seen: copyOf(s.seen),
    disconnected: copyOf(s.disconnected),
    resources: mapValues(s.resources, (r) => ({ status: sharedText(r.status) as ResourceStatus, at: r.at })),
    integrations: mapValues(s.integrations, (i) => {
      const out: IntegrationObservation = {};
      if (i.config) out.config = { value: sharedJson(i.config.value_json), at: i.config.at };
      if (i.webhook) {
        out.webhook = { failures: i.webhook.failures, first_failure: i.webhook.first_failure, at: i.webhook.at };
        if (i.webhook.ended.length > 0) out.webhook.ended = [...i.webhook.ended];
      }
      return out;
    }),
    content: mapValues(s.content, (c) => ({
      pending: c.pending.length > 0 ? [...c.pending] : EMPTY_LIST,
      latest: c.latest,
    })),
    builds: {
      covers: s.builds.covers,
      started: copyOf(s.builds.started),
      ...(s.builds.durations.length > 0 ? { durations: [...s.builds.durations] } : {}),
    },
    ...(Object.keys(s.beats).length > 0 ? { beats: mapValues(s.beats, (t) => [...t]) } : {}),
  };
}

/**
 * Encodes and decodes store rows with our own `ChangelogEntry` type: a row is the Avro body of a changelog entry
 * (what the changelog record carries after its 5-byte wire header), so a committed pass encodes each entry once.
 */
export class StateCodec {
  /** The first two fields of a ChangelogEntry: all a restore needs of an entry written with our own schema. */
  private readonly head = avro.Type.forSchema({
    type: "record",
    name: "ChangelogEntryHead",
    fields: [
      { name: "stream_time", type: "long" },
      { name: "deadline", type: ["null", "long"], default: null },
    ],
  });

  constructor(readonly entry: avro.Type) {}

  /** Stream time and deadline of an entry body, without decoding the rest. */
  decodeHead(body: Buffer): { stream_time: number; deadline: number | null } {
    const { value, offset } = this.head.decode(body, 0);
    if (offset < 0) throw new Error(`changelog entry of ${body.length} bytes is truncated`);
    return value as { stream_time: number; deadline: number | null };
  }

  encodeRuntime(state: ClientState, deadline: number | null, streamTime: number): Buffer {
    return this.entry.toBuffer({ stream_time: streamTime, deadline, client: runtimeToAvro(state), desired: null });
  }

  encodeDesired(desired: DesiredStack, streamTime: number): Buffer {
    return this.entry.toBuffer({
      stream_time: streamTime,
      deadline: null,
      client: null,
      desired: desiredToAvro(desired),
    });
  }

  decodeEntry(body: Buffer): AvroChangelogEntry {
    return this.entry.fromBuffer(body) as AvroChangelogEntry;
  }

  /** A client's state from its runtime row and its desired rows (stack id -> row). */
  decodeClient(runtime: Buffer, desiredRows: ReadonlyArray<{ stack_id: string; body: Buffer }>): ClientState {
    const entry = this.decodeEntry(runtime);
    if (!entry.client) throw new Error("store row is not a client's runtime state");
    const desired = new Map<string, DesiredStack>();
    for (const row of desiredRows) {
      const d = this.decodeEntry(row.body).desired;
      if (!d) throw new Error(`store row of stack ${row.stack_id} is not a desired state`);
      desired.set(row.stack_id, desiredStackFromAvro(d));
    }
    return clientFromAvro(entry.client, desired);
  }
}

/** The codec of the contracts `serde` was loaded with. */
export function stateCodecOf(serde: { type(name: "ChangelogEntry"): avro.Type }): StateCodec {
  return new StateCodec(serde.type("ChangelogEntry"));
}
