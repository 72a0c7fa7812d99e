/** What the API's route plugins are given by buildApi. */
import type { RecordProducer } from "../adapters/kafka/port.js";
import type { Metrics } from "../observability/metrics.js";
import type { AppContext } from "../runtime/app-context.js";
import type { Replica } from "./replica.js";
import type { SystemStatus } from "./system-status.js";

/** The replica's read side: all the routes ask of it. */
export type ReplicaReads = Pick<
  Replica,
  | "stacks"
  | "stack"
  | "desired"
  | "hasClient"
  | "driftEvents"
  | "audits"
  | "auditOfCommand"
  | "healSuccesses"
  | "freshness"
  | "ready"
  | "consistency"
  | "fleet"
  | "reconciliation"
  | "deadLetters"
  | "reportRecords"
  | "predictions"
>;

export interface RouteDeps {
  /** Topic names and serde for writes; desired-state reads (policy, rollback, apply) go to Kafka through it. */
  ctx: AppContext;
  replica: ReplicaReads;
  producer: RecordProducer;
  metrics: Metrics;
  /** How long a write waits for the reconciler's answer before answering 202, in ms. */
  waitMs: number;
  /** The reconciler's lag and the dead-letter topic, from Kafka's offsets. */
  system: Pick<SystemStatus, "read">;
}
