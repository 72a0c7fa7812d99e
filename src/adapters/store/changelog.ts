/** The changelog record of one client: its whole state, compacted by client_id. */
import type { ClientState } from "../../core/model/client-state.js";

export interface ChangelogValue {
  v: 1;
  state: ClientState;
  deadline: number | null;
  stream_time: number;
}

/** Encodes a changelog value around state JSON serialized once (the store keeps the same text). */
export function encodeChangelog(stateJson: string, deadline: number | null, streamTime: number): Buffer {
  return Buffer.from(
    `{"v":1,"deadline":${deadline === null ? "null" : deadline},"stream_time":${streamTime},"state":${stateJson}}`,
  );
}

export function decodeChangelog(bytes: Buffer): ChangelogValue {
  const value = JSON.parse(bytes.toString("utf8")) as ChangelogValue;
  if (value.v !== 1) throw new Error(`changelog record version ${String(value.v)} is not supported`);
  return value;
}
