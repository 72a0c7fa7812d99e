/**
 * Everything the reconciler folds, as a discriminated union the core switches
 * over exhaustively. Times are epoch milliseconds, already parsed and clamped
 * by the adapter; the core never reads a clock.
 */
import type { DesiredStack, Role } from "./desired.js";

export interface DesiredStateApplied {
  kind: "DesiredStateApplied";
  at: number;
  desired: DesiredStack;
}

export interface DesiredStateRemoved {
  kind: "DesiredStateRemoved";
  at: number;
  client_id: string;
  stack_id: string;
}

export type ProviderEventType =
  | "content.created"
  | "content.updated"
  | "content.deleted"
  | "content.published"
  | "provider.connected"
  | "provider.disconnected"
  | "provider.heartbeat"
  | "webhook.delivered"
  | "webhook.failed"
  | "integration.configured"
  | "build.started"
  | "build.succeeded"
  | "build.failed";

export const PROVIDER_EVENT_TYPES: readonly ProviderEventType[] = [
  "content.created",
  "content.updated",
  "content.deleted",
  "content.published",
  "provider.connected",
  "provider.disconnected",
  "provider.heartbeat",
  "webhook.delivered",
  "webhook.failed",
  "integration.configured",
  "build.started",
  "build.succeeded",
  "build.failed",
];

export interface ProviderEventObserved {
  kind: "ProviderEventObserved";
  at: number;
  event_id: string;
  client_id: string;
  stack_id: string | null;
  environment: string | null;
  provider_name: string;
  provider_role: Role | null;
  event_type: ProviderEventType;
  content_id: string | null;
  content_type: string | null;
  integration: string | null;
  /** integration.configured: the configuration now in effect. build.*: build id and start time. */
  payload: Record<string, unknown>;
}

export type ResourceStatus = "healthy" | "degraded" | "unhealthy" | "deleted";
export const RESOURCE_STATUSES: readonly ResourceStatus[] = ["healthy", "degraded", "unhealthy", "deleted"];

export interface ResourceEventObserved {
  kind: "ResourceEventObserved";
  at: number;
  event_id: string;
  client_id: string;
  stack_id: string | null;
  environment: string | null;
  resource_name: string;
  status: ResourceStatus;
  source: string;
}

export type OperatorCommand =
  "acknowledge" | "approve" | "reject" | "reconcile" | "pause" | "resume" | "rollback" | "offboard";
export const OPERATOR_COMMANDS: readonly OperatorCommand[] = [
  "acknowledge",
  "approve",
  "reject",
  "reconcile",
  "pause",
  "resume",
  "rollback",
  "offboard",
];

export interface CommandIssued {
  kind: "CommandIssued";
  at: number;
  command_id: string;
  client_id: string;
  stack_id: string | null;
  command: OperatorCommand;
  drift_id: string | null;
  issued_by: string;
  reason: string | null;
  /** On `reject`: the operator says the drift was not real (a false positive, counted by the compliance report). */
  false_positive?: boolean;
}

export interface HealResultReported {
  kind: "HealResultReported";
  at: number;
  command_key: string;
  client_id: string;
  stack_id: string;
  drift_id: string;
  action: string;
  attempt: number;
  status: "started" | "succeeded" | "failed";
  error_message: string | null;
}

export type InputRecord =
  | DesiredStateApplied
  | DesiredStateRemoved
  | ProviderEventObserved
  | ResourceEventObserved
  | CommandIssued
  | HealResultReported;

/** The client an input belongs to (the partitioning key). */
export function clientOf(input: InputRecord): string {
  return input.kind === "DesiredStateApplied" ? input.desired.client_id : input.client_id;
}
