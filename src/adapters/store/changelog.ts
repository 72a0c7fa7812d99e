/**
 * Changelog records, as restore reads them: `ChangelogEntry` Avro in the wire format (see state-codec.ts), or the
 * JSON of a whole client written before the state was split (`{"v":1,...}`), still read so an upgrade restores.
 */
import type { ClientState } from "../../core/model/client-state.js";
import type { AvroSerde } from "../kafka/serde.js";
import type { AvroChangelogEntry, StateCodec } from "./state-codec.js";

/** A changelog value written before the split: the whole client state as JSON. */
export interface LegacyChangelogValue {
  v: 1;
  state: ClientState;
  deadline: number | null;
  stream_time: number;
}

/** What a changelog value holds, with the store row it becomes. */
export type ChangelogRecord =
  | { kind: "legacy"; value: LegacyChangelogValue }
  | { kind: "entry"; stream_time: number; deadline: number | null; body: Buffer };

const JSON_OPEN_BRACE = 0x7b;

/**
 * Decodes a changelog value. One written with the schema id this process writes (`serde.writerId`) is kept as the
 * store row as it is (only its stream time and deadline are read); any other is resolved through the registry and
 * re-encoded with our own type. The entry must be the kind its key says (`desired` for client_id/stack_id).
 */
export async function decodeChangelogRecord(
  serde: AvroSerde,
  codec: StateCodec,
  topic: string,
  bytes: Buffer,
  desired: boolean,
): Promise<ChangelogRecord> {
  if (bytes[0] === JSON_OPEN_BRACE) {
    const value = JSON.parse(bytes.toString("utf8")) as LegacyChangelogValue;
    if (value.v !== 1) throw new Error(`changelog record version ${String(value.v)} is not supported`);
    return { kind: "legacy", value };
  }
  const own = ownChangelogEntry(serde, codec, topic, bytes);
  if (own) return own;
  const entry = await serde.decode<AvroChangelogEntry>("ChangelogEntry", bytes);
  if ((entry.desired !== null) !== desired)
    throw new Error(`changelog entry is not ${desired ? "a stack's desired state" : "a client's runtime state"}`);
  return { kind: "entry", stream_time: entry.stream_time, deadline: entry.deadline, body: codec.entry.toBuffer(entry) };
}

/**
 * A changelog value written with the schema id this process writes, read without waiting on anything (restore reads
 * hundreds of thousands); null for any other (`decodeChangelogRecord` resolves it).
 */
export function ownChangelogEntry(
  serde: AvroSerde,
  codec: StateCodec,
  topic: string,
  bytes: Buffer,
): Extract<ChangelogRecord, { kind: "entry" }> | null {
  if (bytes.length <= 5 || bytes[0] !== 0 || bytes.readInt32BE(1) !== serde.writerId(topic)) return null;
  const body = bytes.subarray(5);
  return { kind: "entry", ...codec.decodeHead(body), body };
}
