/**
 * The HTTP API (the spec's StateManagerAPI). Reads come from the local
 * replica; writes become records on `commands` / `desired-state` and, where
 * the caller wants an outcome, wait for the reconciler's audit of them. Every
 * /v1 route needs a bearer token; a token scoped to another client gets 404.
 */
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Producer } from "kafkajs";
import { desiredToAvro } from "../adapters/kafka/records.js";
import { desiredHash, parseBlackwellYaml, parsePolicyDocument } from "../adapters/yaml/parse-blackwell-yaml.js";
import { BlackwellError, errorMessage, isBlackwellError } from "../errors.js";
import type { Metrics } from "../observability/metrics.js";
import type { Logger } from "../observability/logger.js";
import type { AppContext } from "../runtime/app-context.js";
import { applyDesired, bumpVersion, currentDesired, historyRecord } from "../runtime/apply-desired.js";
import { rollbackDesired } from "../runtime/rollback.js";
import { TokenAuth, type Principal } from "./auth.js";
import { openApiDocument } from "./openapi.js";
import type { WebhookConfig } from "../gateway/webhook-config.js";
import { webhookRoutes } from "../gateway/webhook-routes.js";
import type { Replica, Row } from "./replica.js";
import { driftStatus, historyView, policyView, stateView } from "./views.js";

export interface ApiOptions {
  ctx: AppContext;
  replica: Replica;
  auth: TokenAuth;
  metrics: Metrics;
  producer: Producer;
  log: Logger;
  /** Largest accepted request body. Default 256 KiB. */
  bodyLimit?: number;
  /** How long a write waits for the reconciler's answer before answering 202. Default 15 s. */
  waitMs?: number;
  /** Serve `POST /webhooks/:provider` with this configuration and producer. */
  webhooks?: { config: WebhookConfig; producer: Producer };
}

type Params = { client: string; stack: string; drift: string };
const ID = "^[a-z0-9][a-z0-9._-]{0,62}$";
const reasonBody = { type: "object", additionalProperties: false, properties: { reason: { type: "string", maxLength: 1000 } } } as const;

function fail(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ error: { code, message } });
}

export async function buildApi(o: ApiOptions): Promise<FastifyInstance> {
  const { ctx, replica, auth, metrics } = o;
  const waitMs = o.waitMs ?? 15_000;
  const app = Fastify({ bodyLimit: o.bodyLimit ?? 256 * 1024, logger: false, ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: "array" } } });
  for (const type of ["application/yaml", "application/x-yaml", "text/yaml", "text/plain"]) {
    app.addContentTypeParser(type, { parseAs: "string" }, (_req, body, done) => done(null, body));
  }

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
    if (isBlackwellError(err)) return fail(reply, err.httpStatus, err.code, err.message);
    if (err.validation) return fail(reply, 400, "BLACKWELL_ERR_BAD_REQUEST", err.message);
    if (err.statusCode === 413) return fail(reply, 413, "BLACKWELL_ERR_BODY_TOO_LARGE", `request body is larger than ${o.bodyLimit ?? 256 * 1024} bytes`);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return fail(reply, err.statusCode, "BLACKWELL_ERR_BAD_REQUEST", err.message);
    o.log.error({ err: errorMessage(err), url: req.url }, "API request failed");
    const unavailable = /kafka|broker|connect/i.test(err.message);
    return fail(reply, unavailable ? 503 : 500, unavailable ? "BLACKWELL_ERR_KAFKA" : "BLACKWELL_ERR_INTERNAL", unavailable ? "Kafka is unavailable; retry later" : "internal error");
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const fresh = replica.freshness();
    return reply.code(replica.ready() ? 200 : 503).send({ ready: replica.ready(), replica: fresh });
  });
  app.get("/metrics", async (_req, reply) => {
    metrics.replicaLag.set(replica.freshness().lag_records);
    metrics.stateConsistency.set(replica.consistency());
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get("/openapi.json", async () => openApiDocument());
  if (o.webhooks) {
    const webhooks = o.webhooks;
    await app.register(async (scope) => webhookRoutes(scope, { ...webhooks, serde: ctx.serde, names: ctx.names, metrics, log: o.log }));
  }

  // Everything under /v1 needs a token, and sees only its own client.
  const principalOf = new WeakMap<FastifyRequest, Principal>();
  app.addHook("onRequest", async (req, reply) => {
    if (!req.url.startsWith("/v1/")) return;
    const p = auth.verify(req.headers.authorization);
    if (!p) {
      await reply.code(401).header("www-authenticate", 'Bearer realm="blackwell"').send({ error: { code: "BLACKWELL_ERR_UNAUTHORIZED", message: "a valid bearer token is required" } });
      return;
    }
    principalOf.set(req, p);
  });
  /** The client named in the URL, if this token may see it and it exists; otherwise answers 404 and returns null. */
  const clientFor = (req: FastifyRequest<{ Params: Partial<Params> }>, reply: FastifyReply): string | null => {
    const client = req.params.client!;
    const p = principalOf.get(req)!;
    if (!TokenAuth.canSee(p, client) || !replica.hasClient(client)) {
      void fail(reply, 404, "BLACKWELL_ERR_NOT_FOUND", `no client ${client}`);
      return null;
    }
    return client;
  };
  const withFreshness = (reply: FastifyReply, body: Row) => {
    const fresh = replica.freshness();
    void reply.header("x-blackwell-replica-lag", String(fresh.lag_records));
    return { ...body, replica: fresh };
  };
  const params = (...names: Array<keyof Params>) => ({
    type: "object", required: names, properties: Object.fromEntries(names.map((n) => [n, { type: "string", pattern: n === "drift" ? "^drift-[0-9a-f]{24}$" : ID }])),
  });

  /** Produces an operator command; waits for the reconciler's audit of it (or answers 202 if it takes longer). */
  const issue = async (req: FastifyRequest, reply: FastifyReply, client: string, command: string, fields: { stack_id?: string | null; drift_id?: string | null; reason?: string | null }) => {
    const command_id = randomUUID();
    const topic = ctx.names.commands;
    await o.producer.send({
      topic, acks: -1,
      messages: [{ key: client, value: ctx.serde.encode(topic, "Command", {
        command_id, client_id: client, stack_id: fields.stack_id ?? null, command, drift_id: fields.drift_id ?? null,
        issued_by: principalOf.get(req)!.name, issued_at: new Date().toISOString(), reason: fields.reason ?? null, params_json: "{ }",
      }) }],
    });
    const deadline = Date.now() + waitMs;
    let audit: Row | null = null;
    while (!(audit = replica.auditOfCommand(client, command_id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (!audit) return { status: 202, body: { command_id, status: "accepted", message: "the reconciler has not processed the command yet" } as Row };
    return { status: 200, body: { command_id, status: audit.success ? "done" : "refused", audit } as Row };
  };

  app.get<{ Params: Params }>("/v1/clients/:client/stacks", { schema: { params: params("client") } }, async (req, reply) => {
    const client = clientFor(req, reply);
    if (!client) return reply;
    return withFreshness(reply, { client_id: client, stacks: replica.stacks(client).map(stateView) });
  });

  app.get<{ Params: Params }>("/v1/clients/:client/stacks/:stack", { schema: { params: params("client", "stack") } }, async (req, reply) => {
    const client = clientFor(req, reply);
    if (!client) return reply;
    const state = replica.stack(client, req.params.stack);
    if (!state) return fail(reply, 404, "BLACKWELL_ERR_NOT_FOUND", `no stack ${req.params.stack} for client ${client} (yet: a stack appears once the reconciler has evaluated it)`);
    return withFreshness(reply, stateView(state));
  });

  app.get<{ Params: Params }>("/v1/clients/:client/drift", { schema: { params: params("client") } }, async (req, reply) => {
    const client = clientFor(req, reply);
    if (!client) return reply;
    return withFreshness(reply, driftStatus(client, replica.stacks(client)));
  });

  for (const action of ["acknowledge", "approve", "reject"] as const) {
    app.post<{ Params: Params; Body: { reason?: string } | undefined }>(`/v1/clients/:client/drifts/:drift/${action}`, { schema: { params: params("client", "drift"), body: reasonBody } }, async (req, reply) => {
      const client = clientFor(req, reply);
      if (!client) return reply;
      const open = replica.stacks(client).find((s) => (s.drift_details as Row[]).some((d) => d.drift_id === req.params.drift));
      if (!open) return fail(reply, 404, "BLACKWELL_ERR_NOT_FOUND", `no open drift ${req.params.drift} for client ${client}`);
      const out = await issue(req, reply, client, action, { stack_id: String(open.stack_id), drift_id: req.params.drift, reason: req.body?.reason ?? null });
      return reply.code(out.status).send(out.body);
    });
  }

  app.post<{ Params: Params; Body: { stack_id?: string; reason?: string } | undefined }>("/v1/clients/:client/reconcile", {
    schema: { params: params("client"), body: { type: "object", additionalProperties: false, properties: { stack_id: { type: "string", pattern: ID }, reason: { type: "string", maxLength: 1000 } } } },
  }, async (req, reply) => {
    const client = clientFor(req, reply);
    if (!client) return reply;
    const started_at = new Date().toISOString();
    const out = await issue(req, reply, client, "reconcile", { stack_id: req.body?.stack_id ?? null, reason: req.body?.reason ?? null });
    if (out.status !== 200) return reply.code(out.status).send(out.body);
    const changes = JSON.parse(String((out.body.audit as Row).changes_made_json)) as { reconciliation_id: string; drift_count: number; heal_commands_issued: number; stacks: Record<string, string> };
    const errors = Object.entries(changes.stacks).filter(([, status]) => status === "error").map(([stack]) => `stack ${stack} is in error: heal attempts exhausted`);
    return {
      reconciliation_id: changes.reconciliation_id, client_id: client, started_at, completed_at: (out.body.audit as Row).timestamp,
      status: errors.length === 0 ? "success" : errors.length === Object.keys(changes.stacks).length ? "failed" : "partial",
      drift_detected: changes.drift_count > 0, drift_count: changes.drift_count,
      auto_heal_attempted: changes.heal_commands_issued > 0, auto_heal_success_count: 0,
      ...(errors.length > 0 ? { errors } : {}), stacks: changes.stacks,
    };
  });

  app.get<{ Params: Params; Querystring: { limit?: number } }>("/v1/clients/:client/history", {
    schema: { params: params("client"), querystring: { type: "object", additionalProperties: false, properties: { limit: { type: "integer", minimum: 1, maximum: 1000 } } } },
  }, async (req, reply) => {
    const client = clientFor(req, reply);
    if (!client) return reply;
    const limit = req.query.limit ?? 50;
    return withFreshness(reply, { client_id: client, events: historyView(replica.driftEvents(client, limit), replica.audits(client, limit), limit) });
  });

  app.get<{ Params: Params }>("/v1/clients/:client/stacks/:stack/policy", { schema: { params: params("client", "stack") } }, async (req, reply) => {
    const client = clientFor(req, reply);
    if (!client) return reply;
    const desired = replica.desired(client, req.params.stack);
    if (!desired) return fail(reply, 404, "BLACKWELL_ERR_NOT_FOUND", `no stack ${req.params.stack} for client ${client}`);
    return withFreshness(reply, { client_id: client, stack_id: req.params.stack, state_version: desired.state_version, policy: policyView(desired) });
  });

  app.put<{ Params: Params; Body: unknown }>("/v1/clients/:client/stacks/:stack/policy", { schema: { params: params("client", "stack") } }, async (req, reply) => {
    const client = clientFor(req, reply);
    if (!client) return reply;
    const text = typeof req.body === "string" ? req.body : JSON.stringify(req.body ?? null);
    const policy = parsePolicyDocument(text, "request body");
    const current = (await currentDesired(ctx, client)).get(req.params.stack);
    if (!current) return fail(reply, 404, "BLACKWELL_ERR_NOT_FOUND", `no stack ${req.params.stack} for client ${client}`);
    const { desired_hash: _old, state_version: _v, previous_versions: _p, applied_at: _a, applied_by: _b, ...declared } = current;
    const hash = desiredHash({ ...declared, policy });
    if (hash === current.desired_hash) return { client_id: client, stack_id: req.params.stack, change: "unchanged", state_version: current.state_version };
    const next = {
      ...current, policy, desired_hash: hash, state_version: bumpVersion(current.state_version, "minor"),
      previous_versions: [current.state_version, ...current.previous_versions].slice(0, 20), applied_at: new Date().toISOString(),
      applied_by: principalOf.get(req)!.name, source: "api: PUT policy",
    };
    const topic = ctx.names["desired-state"];
    await o.producer.send({ topic: ctx.names["desired-history"], acks: -1, messages: [historyRecord(ctx, next)] });
    await o.producer.send({ topic, acks: -1, messages: [{ key: `${client}/${req.params.stack}`, value: ctx.serde.encode(topic, "DesiredState", desiredToAvro(next)) }] });
    return { client_id: client, stack_id: req.params.stack, change: "updated", from: current.state_version, state_version: next.state_version };
  });

  app.post<{ Params: Params; Body: { to: string } }>("/v1/clients/:client/stacks/:stack/rollback", {
    schema: { params: params("client", "stack"), body: { type: "object", required: ["to"], additionalProperties: false, properties: { to: { type: "string", pattern: "^v\\d+\\.\\d+\\.\\d+$" } } } },
  }, async (req, reply) => {
    const client = clientFor(req, reply);
    if (!client) return reply;
    return rollbackDesired(ctx, client, req.params.stack, req.body.to, principalOf.get(req)!.name);
  });

  app.post<{ Params: Params; Body: unknown; Querystring: { prune?: boolean; dry_run?: boolean } }>("/v1/clients/:client/desired-state", {
    schema: { params: params("client"), querystring: { type: "object", additionalProperties: false, properties: { prune: { type: "boolean" }, dry_run: { type: "boolean" } } } },
  }, async (req, reply) => {
    const client = req.params.client;
    const p = principalOf.get(req)!;
    // A new client may be applied by its own token or an admin, before the replica knows it.
    if (!TokenAuth.canSee(p, client)) return fail(reply, 404, "BLACKWELL_ERR_NOT_FOUND", `no client ${client}`);
    if (typeof req.body !== "string") return fail(reply, 415, "BLACKWELL_ERR_BAD_REQUEST", "send blackwell.yaml as the body with Content-Type: application/yaml");
    const parsed = parseBlackwellYaml(req.body, "request body");
    if (parsed.client_id !== client) throw new BlackwellError("BLACKWELL_ERR_INVALID_DESIRED_STATE", `the document is for client ${parsed.client_id}, not ${client}`);
    const changes = await applyDesired(ctx, parsed, { file: "api", appliedBy: p.name, prune: req.query.prune ?? false, dryRun: req.query.dry_run ?? false });
    return { client_id: client, dry_run: req.query.dry_run ?? false, changes };
  });

  return app;
}
