/** The changelog record of one client: its whole state, compacted by client_id. */
import type { ClientState } from "../../core/model/client-state.js";

export interface ChangelogValue {
  v: 1;
  state: ClientState;
  deadline: number | null;
  stream_time: number;
}

export function encodeChangelog(value: ChangelogValue): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export function decodeChangelog(bytes: Buffer): ChangelogValue {
  const value = JSON.parse(bytes.toString("utf8")) as ChangelogValue;
  if (value.v !== 1) throw new Error(`changelog record version ${String(value.v)} is not supported`);
  return value;
}
