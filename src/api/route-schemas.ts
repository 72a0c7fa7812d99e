/** JSON schemas the routes share: path parameters and the operator's reason. */

/** A client or stack id. */
export const ID = "^[a-z0-9][a-z0-9._-]{0,62}$";
const DRIFT_ID = "^drift-[0-9a-f]{24}$";

export type Params = { client: string; stack: string; drift: string };

/** Schema of the path parameters `names`, all required. */
export function params(...names: Array<keyof Params>) {
  return {
    type: "object",
    required: names,
    properties: Object.fromEntries(names.map((n) => [n, { type: "string", pattern: n === "drift" ? DRIFT_ID : ID }])),
  };
}

/** Body of an operator command: an optional reason for the audit trail. */
export const reasonBody = {
  type: "object",
  additionalProperties: false,
  properties: { reason: { type: "string", maxLength: 1000 } },
} as const;

/**
 * A `preValidation` hook for routes whose body fields are all optional: a POST without a body (no content type at
 * all, as `curl -X POST` sends) is taken as `{}`. A body that was sent is validated as it came (JSON `null` is refused).
 */
export async function noBodyIsEmpty(req: { body: unknown }): Promise<void> {
  if (req.body === undefined) req.body = {};
}

/** Body of a rejection: a reason, and whether the operator says the drift was not real (a false positive). */
export const rejectBody = {
  type: "object",
  additionalProperties: false,
  properties: { reason: { type: "string", maxLength: 1000 }, false_positive: { type: "boolean" } },
} as const;
