/**
 * Operator commands through the API: produce a Command, then wait for the
 * reconciler's audit of it, so the caller gets the outcome, or 202 when the
 * reconciler has not answered within the wait.
 */
import { randomUUID } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { kafkaError } from "../adapters/kafka/kafka-errors.js";
import type { Row } from "./replica.js";
import { principalOf } from "./route-auth.js";
import type { RouteDeps } from "./route-deps.js";

export interface CommandFields {
  stack_id?: string | null;
  drift_id?: string | null;
  reason?: string | null;
  /** The command's parameters (Command.params_json). */
  params?: Record<string, unknown>;
}

export interface CommandOutcome {
  /** 200 processed (the audit is in the body), 202 not processed within the wait. */
  status: 200 | 202;
  body: Row;
}

/** How often the replica is asked for the audit while waiting. */
const POLL_MS = 50;

export async function issueCommand(
  deps: Pick<RouteDeps, "ctx" | "replica" | "producer" | "waitMs">,
  req: FastifyRequest,
  client: string,
  command: string,
  fields: CommandFields,
): Promise<CommandOutcome> {
  const { ctx, replica, producer, waitMs } = deps;
  const command_id = randomUUID();
  const topic = ctx.names.commands;
  const value = ctx.serde.encode(topic, "Command", {
    command_id,
    client_id: client,
    stack_id: fields.stack_id ?? null,
    command,
    drift_id: fields.drift_id ?? null,
    issued_by: principalOf(req).name,
    issued_at: new Date().toISOString(),
    reason: fields.reason ?? null,
    params_json: JSON.stringify(fields.params ?? {}),
  });
  await producer.send([{ topic, key: client, value }]).catch((err: unknown) => {
    throw kafkaError(err, `writing the ${command} command`);
  });
  const deadline = Date.now() + waitMs;
  let audit: Row | null = null;
  while (!(audit = replica.auditOfCommand(client, command_id)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  if (!audit) {
    const message = "the reconciler has not processed the command yet";
    return { status: 202, body: { command_id, status: "accepted", message } };
  }
  return { status: 200, body: { command_id, status: audit.success ? "done" : "refused", audit } };
}
