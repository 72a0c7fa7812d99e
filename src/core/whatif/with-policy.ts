/** The input transform of a what-if: a proposed policy in place of the recorded one. Pure. */
import type { DesiredStack, ReconciliationPolicy } from "../model/desired.js";
import type { InputRecord } from "../model/inputs.js";

/** Puts `policy` in place of the recorded one on the desired states it applies to. */
export function withPolicy(
  policy: ReconciliationPolicy,
  client: string | null,
  stack: string | null,
  changed: Set<string> = new Set(),
): (input: InputRecord) => InputRecord {
  const applies = (d: DesiredStack) =>
    (client === null || d.client_id === client) && (stack === null || d.stack_id === stack);
  return (input) => {
    if (input.kind !== "DesiredStateApplied" || !applies(input.desired)) return input;
    changed.add(`${input.desired.client_id}/${input.desired.stack_id}`);
    return { ...input, desired: { ...input.desired, policy } };
  };
}
