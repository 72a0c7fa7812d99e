/** Builders for the Avro values users publish (field names as in schemas/). */
import { randomUUID } from "node:crypto";

export function providerEventValue(fields: {
  client_id: string;
  provider_name: string;
  event_type: string;
  at?: Date;
  stack_id?: string | null;
  environment?: string | null;
  provider_role?: string | null;
  content_id?: string | null;
  content_type?: string | null;
  integration?: string | null;
  payload?: unknown;
}) {
  return {
    event_id: randomUUID(),
    client_id: fields.client_id,
    stack_id: fields.stack_id ?? null,
    environment: fields.environment ?? null,
    provider_name: fields.provider_name,
    provider_role: fields.provider_role ?? null,
    event_type: fields.event_type,
    content_id: fields.content_id ?? null,
    content_type: fields.content_type ?? null,
    integration: fields.integration ?? null,
    timestamp: (fields.at ?? new Date()).toISOString(),
    payload_json: JSON.stringify(fields.payload ?? {}),
  };
}

export function resourceEventValue(fields: {
  client_id: string;
  resource_name: string;
  status: string;
  at?: Date;
  stack_id?: string | null;
  environment?: string | null;
}) {
  return {
    event_id: randomUUID(),
    client_id: fields.client_id,
    stack_id: fields.stack_id ?? null,
    environment: fields.environment ?? null,
    resource_name: fields.resource_name,
    resource_arn: null,
    status: fields.status,
    source: "test",
    timestamp: (fields.at ?? new Date()).toISOString(),
    details_json: "{}",
  };
}

export function commandValue(fields: {
  client_id: string;
  command: string;
  drift_id?: string | null;
  stack_id?: string | null;
  issued_by?: string;
}) {
  return {
    command_id: randomUUID(),
    client_id: fields.client_id,
    stack_id: fields.stack_id ?? null,
    command: fields.command,
    drift_id: fields.drift_id ?? null,
    issued_by: fields.issued_by ?? "test",
    issued_at: new Date().toISOString(),
    reason: null,
    params_json: "{}",
  };
}

export function healCommandValue(fields: {
  client_id: string;
  action: string;
  params: Record<string, unknown>;
  command_key?: string;
  stack_id?: string;
  drift_id?: string;
  attempt?: number;
  not_before?: Date;
  approved_by?: string | null;
}) {
  return {
    command_key: fields.command_key ?? `heal-${randomUUID()}`,
    client_id: fields.client_id,
    stack_id: fields.stack_id ?? "web",
    drift_id: fields.drift_id ?? `drift-${randomUUID().slice(0, 8)}`,
    reconciliation_id: `rec-${randomUUID().slice(0, 8)}`,
    action: fields.action,
    params_json: JSON.stringify(fields.params),
    attempt: fields.attempt ?? 1,
    not_before: (fields.not_before ?? new Date()).toISOString(),
    issued_at: new Date().toISOString(),
    approved_by: fields.approved_by ?? null,
  };
}
