/**
 * The HTTP API (the spec's StateManagerAPI), composed from one plugin per
 * resource under routes/. Reads come from the local replica; writes become
 * records on `commands` / `desired-state` and, where the caller wants an
 * outcome, wait for the reconciler's audit of them. Every route needs a
 * bearer token unless marked public; a token scoped to another client gets 404.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { RecordProducer } from "../adapters/kafka/port.js";
import type { WebhookConfig } from "../gateway/webhook-config.js";
import { webhookRoutes } from "../gateway/webhook-routes.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { AppContext } from "../runtime/app-context.js";
import type { TokenAuth } from "./auth.js";
import { BlackwellError } from "../errors.js";
import { apiErrorHandler, notFoundHandler } from "./error-reply.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./json-depth.js";
import { requestValidators } from "./validators.js";
import type { Replica } from "./replica.js";
import { requireTokens } from "./route-auth.js";
import type { RouteDeps } from "./route-deps.js";
import { clientRoutes } from "./routes/clients.js";
import { reconciliationRoutes } from "./routes/reconciliation.js";
import { desiredStateRoutes } from "./routes/desired-state.js";
import { driftRoutes } from "./routes/drift.js";
import { reportRoutes } from "./routes/report.js";
import { whatIfRoutes } from "./routes/what-if.js";
import { fleetPolicyRoutes } from "./routes/fleet-policy.js";
import { predictionRoutes } from "./routes/predictions.js";
import { historyRoutes } from "./routes/history.js";
import { operatorCommandRoutes } from "./routes/operator-commands.js";
import { opsRoutes } from "./routes/ops.js";
import { policyRoutes } from "./routes/policy.js";
import { reconcileRoutes } from "./routes/reconcile.js";
import { rollbackRoutes } from "./routes/rollback.js";
import { promoteRoutes } from "./routes/promote.js";
import { stackRoutes } from "./routes/stacks.js";
import { systemRoutes } from "./routes/system.js";
import { SystemStatus } from "./system-status.js";
import { uiRoutes } from "./routes/ui.js";

export interface ApiOptions {
  ctx: AppContext;
  replica: Replica;
  auth: TokenAuth;
  metrics: Metrics;
  /** Writes commands and desired-state versions (acks=all). */
  producer: RecordProducer;
  log: Logger;
  /** Largest accepted request body. Default 256 KiB. */
  bodyLimit?: number;
  /** How long a write waits for the reconciler's answer before answering 202. Default 15 s. */
  waitMs?: number;
  /** The reconciler's consumer group (its `BLACKWELL_APPLICATION_ID`), whose lag `/v1/system` reports. */
  reconcilerGroup?: string;
  /** Serve `POST /webhooks/:provider` with this configuration and producer. Default: no webhook gateway. */
  webhooks?: { config: WebhookConfig; producer: RecordProducer };
}

const DEFAULT_BODY_LIMIT = 256 * 1024;
const DEFAULT_WAIT_MS = 15_000;
/** The reconciler's default application id (reconciler-config.ts). */
const DEFAULT_RECONCILER_GROUP = "blackwell-reconciler";
/** Bodies that arrive as text: blackwell.yaml and policy documents. */
const TEXT_TYPES = ["application/yaml", "application/x-yaml", "text/yaml", "text/plain"];
/** JSON bodies; merge-patch+json is the body of `PATCH /policy` (RFC 7386). */
const JSON_TYPES = ["application/json", "application/merge-patch+json"];

const RESOURCES = [
  opsRoutes,
  uiRoutes,
  clientRoutes,
  systemRoutes,
  reconciliationRoutes,
  stackRoutes,
  driftRoutes,
  operatorCommandRoutes,
  reconcileRoutes,
  historyRoutes,
  reportRoutes,
  predictionRoutes,
  policyRoutes,
  whatIfRoutes,
  fleetPolicyRoutes,
  rollbackRoutes,
  promoteRoutes,
  desiredStateRoutes,
];

export async function buildApi(o: ApiOptions): Promise<FastifyInstance> {
  const bodyLimit = o.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({ bodyLimit, logger: false });
  app.setValidatorCompiler(requestValidators());
  for (const type of TEXT_TYPES) {
    app.addContentTypeParser(type, { parseAs: "string" }, (_req, body, done) => done(null, body));
  }
  // Fastify's JSON parser (empty-body and prototype checks kept), after a depth check: see json-depth.ts.
  const json = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser(JSON_TYPES, { parseAs: "string" }, (req, body, done) => {
    const text = String(body);
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      const message = `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`;
      return done(new BlackwellError("BLACKWELL_ERR_BAD_REQUEST", message), undefined);
    }
    return json(req, text, done);
  });
  app.setErrorHandler(apiErrorHandler({ log: o.log, bodyLimit }));
  app.setNotFoundHandler(notFoundHandler);
  // Before any route is registered, so every plugin's routes inherit the check.
  requireTokens(app, o.auth);

  const deps: RouteDeps = {
    ctx: o.ctx,
    replica: o.replica,
    producer: o.producer,
    metrics: o.metrics,
    waitMs: o.waitMs ?? DEFAULT_WAIT_MS,
    system: new SystemStatus({
      admin: o.ctx.admin,
      names: o.ctx.names,
      reconcilerGroup: o.reconcilerGroup ?? DEFAULT_RECONCILER_GROUP,
      deadLetters: () => o.replica.deadLetters().total,
    }),
  };
  for (const resource of RESOURCES) await app.register(resource, deps);
  if (o.webhooks) {
    const webhooks = { ...o.webhooks, serde: o.ctx.serde, names: o.ctx.names, metrics: o.metrics, log: o.log };
    await app.register(webhookRoutes, webhooks);
  }
  return app;
}
