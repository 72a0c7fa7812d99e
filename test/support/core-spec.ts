/**
 * given/when/then for the pure core: inputs are folded one by one and a pass
 * is decided after each (as the processor does), at the stream time of the
 * newest input seen. `tick(at)` runs a pass with no input, as the idle-partition
 * timer does.
 */
import { decide } from "../../src/core/lifecycle/decide.js";
import { evolve } from "../../src/core/fold/evolve.js";
import { scopeOf } from "../../src/core/fold/scopes.js";
import { emptyClient, type ClientState } from "../../src/core/model/client-state.js";
import type { DesiredStack } from "../../src/core/model/desired.js";
import type {
  CommandIssued,
  InputRecord,
  ProviderEventObserved,
  ProviderEventType,
  ResourceEventObserved,
  ResourceStatus,
} from "../../src/core/model/inputs.js";
import type {
  AuditOutput,
  DriftTransition,
  HealCommandOutput,
  PredictionTransition,
  StackStateOutput,
} from "../../src/core/model/outputs.js";

export const T0 = Date.parse("2026-01-01T00:00:00Z");
/** Stream time `seconds` after T0. */
export const t = (seconds: number) => T0 + seconds * 1000;

export interface Tick {
  kind: "Tick";
  at: number;
}
export const tick = (at: number): Tick => ({ kind: "Tick", at });
type Step = InputRecord | Tick;

export interface Outcome {
  transitions: DriftTransition[];
  healCommands: HealCommandOutput[];
  stackStates: StackStateOutput[];
  audits: AuditOutput[];
  reevaluateAt: number | null;
  predictions: PredictionTransition[];
  state: ClientState;
}

export function run(steps: Step[], start: { state?: ClientState; now?: number } = {}): Outcome & { now: number } {
  let state = start.state ?? emptyClient(CLIENT);
  let now = start.now ?? 0;
  const out: Outcome = {
    transitions: [],
    healCommands: [],
    stackStates: [],
    audits: [],
    reevaluateAt: null,
    predictions: [],
    state,
  };
  steps.forEach((step, i) => {
    now = Math.max(now, step.at);
    if (step.kind !== "Tick") state = evolve(state, step);
    const decision = decide(state, {
      now,
      reconciliation_id: `recon-${now}-${i}`,
      trigger: step.kind,
      ...(step.kind === "ProviderEventObserved" || step.kind === "ResourceEventObserved"
        ? { scope: scopeOf(step.stack_id, step.environment) }
        : {}),
      ...(step.kind === "CommandIssued" ? { command: step } : {}),
      ...(step.kind === "DesiredStateApplied"
        ? {
            applied: {
              stack_id: step.desired.stack_id,
              state_version: step.desired.state_version,
              applied_by: step.desired.applied_by,
            },
          }
        : {}),
    });
    state = decision.state;
    out.transitions.push(...decision.outputs.transitions);
    out.stackStates.push(...decision.outputs.stackStates);
    out.audits.push(...decision.outputs.audits);
    out.healCommands.push(...decision.outputs.healCommands);
    out.predictions.push(...(decision.outputs.predictions ?? []));
    out.reevaluateAt = decision.outputs.reevaluateAt;
  });
  return { ...out, state, now };
}

/** given(steps).when(steps): the outcome of the `when` steps alone. */
export function given(...steps: Step[]) {
  const before = run(steps);
  return {
    when: (...more: Step[]): Outcome => run(more, { state: before.state, now: before.now }),
    state: before.state,
  };
}

export const CLIENT = "acme-corp";
export const STACK = "cms-ecom-prod";

export function desiredStack(overrides: Partial<DesiredStack> = {}): DesiredStack {
  return {
    client_id: CLIENT,
    stack_id: STACK,
    environment: "prod",
    state_version: "v1.0.0",
    previous_versions: [],
    desired_hash: "h1",
    applied_at: new Date(T0).toISOString(),
    applied_by: "test",
    source: "blackwell.yaml",
    providers: { cms: "sanity", ecommerce: null, ssg: null },
    integrations: [],
    resources: [],
    build_project: null,
    content_types: [],
    staleness: {
      provider_silence_seconds: 600,
      resource_ttl_seconds: 600,
      content_grace_seconds: 300,
      webhook_failure_threshold: 3,
    },
    policy: {
      schedule: { interval: "5m", timezone: "UTC" },
      auto_heal: {
        enabled: false,
        max_attempts: 3,
        backoff_strategy: "exponential",
        backoff_base_seconds: 30,
        backoff_cap_seconds: 900,
        allowed_drift_types: [],
        require_approval: [],
      },
      notifications: { channels: [] },
      observability: { metrics_retention: "30d", detailed_logging: false, performance_tracking: false },
    },
    ...overrides,
  };
}

export const applied = (at: number, overrides: Partial<DesiredStack> = {}): InputRecord => ({
  kind: "DesiredStateApplied",
  at,
  desired: desiredStack(overrides),
});

let seq = 0;
export function providerEvent(
  at: number,
  provider_name: string,
  event_type: ProviderEventType,
  extra: Partial<ProviderEventObserved> = {},
): ProviderEventObserved {
  return {
    kind: "ProviderEventObserved",
    at,
    event_id: `e${++seq}`,
    client_id: CLIENT,
    stack_id: null,
    environment: "prod",
    provider_name,
    provider_role: null,
    event_type,
    content_id: null,
    content_type: null,
    integration: null,
    payload: {},
    ...extra,
  };
}

export function resourceEvent(
  at: number,
  resource_name: string,
  status: ResourceStatus,
  extra: Partial<ResourceEventObserved> = {},
): ResourceEventObserved {
  return {
    kind: "ResourceEventObserved",
    at,
    event_id: `r${++seq}`,
    client_id: CLIENT,
    stack_id: null,
    environment: "prod",
    resource_name,
    status,
    source: "test",
    ...extra,
  };
}

export function command(at: number, cmd: CommandIssued["command"], extra: Partial<CommandIssued> = {}): CommandIssued {
  return {
    kind: "CommandIssued",
    at,
    command_id: `c${++seq}`,
    client_id: CLIENT,
    stack_id: null,
    command: cmd,
    drift_id: null,
    issued_by: "ops@acme",
    reason: null,
    ...extra,
  };
}

/** The transitions as compact tuples, easy to read in assertions. */
export const summary = (ts: DriftTransition[]) =>
  ts.map((x) => [x.transition, x.drift_type, x.component, x.observed] as const);
