/** The API's OpenAPI 3.1 document, served at /openapi.json. */
import { ERRORS } from "../errors.js";
import { fleetQuerystring } from "./routes/clients.js";
import { reconciliationQuerystring } from "./routes/reconciliation.js";
import { reportQuerystring } from "./routes/report.js";
import { predictionsQuerystring } from "./routes/predictions.js";
import { whatIfBody, whatIfClientBody } from "./routes/what-if.js";
import { fleetPutQuerystring } from "./routes/fleet-policy.js";
import { promoteBody, promoteQuerystring } from "./routes/promote.js";
import { reasonBody, rejectBody } from "./route-schemas.js";

const id = { type: "string", pattern: "^[a-z0-9][a-z0-9._-]{0,62}$" };
const pathParam = (name: string, schema: object = id) => ({ name, in: "path", required: true, schema });
const error = {
  description: "error",
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
};
const json = (description: string, schema: object = { type: "object" }) => ({
  description,
  content: { "application/json": { schema } },
});
const secured = { security: [{ bearer: [] }] };
const common = { "401": error, "404": error };
/** Query parameters from a route's querystring schema. */
const queryParams = (querystring: { properties: Record<string, object> }) =>
  Object.entries(querystring.properties).map(([name, schema]) => ({ name, in: "query", schema }));
const body = (schema: object) => ({ content: { "application/json": { schema } } });

export function openApiDocument(): object {
  const commandOp = (summary: string, schema: object = reasonBody) => ({
    ...secured,
    summary,
    parameters: [pathParam("client"), pathParam("drift", { type: "string", pattern: "^drift-[0-9a-f]{24}$" })],
    requestBody: body(schema),
    responses: {
      "200": json("processed by the reconciler; the audit entry is included"),
      "202": json("accepted; not processed within the wait"),
      "400": error,
      ...common,
    },
  });
  return {
    openapi: "3.1.0",
    info: {
      title: "Blackwell State Reconciler API",
      version: "1.0.0",
      description:
        "The spec's StateManagerAPI. Reads come from a local replica (see the `replica` field and `x-blackwell-replica-lag` header); writes are Kafka records.",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              // The codes are the catalog's (src/errors.ts); the status of an answer follows from its code.
              properties: { code: { type: "string", enum: Object.keys(ERRORS) }, message: { type: "string" } },
            },
          },
        },
        Replica: {
          type: "object",
          properties: {
            lag_records: { type: "integer" },
            caught_up: { type: "boolean" },
            as_of: { type: ["string", "null"] },
          },
        },
      },
    },
    paths: {
      "/healthz": { get: { summary: "liveness", responses: { "200": json("alive") } } },
      "/readyz": {
        get: {
          summary: "ready when connected and the replica has caught up",
          responses: { "200": json("ready"), "503": json("not ready") },
        },
      },
      "/metrics": {
        get: { summary: "Prometheus metrics", responses: { "200": { description: "text exposition format" } } },
      },
      "/v1/clients": {
        get: {
          ...secured,
          summary:
            "the fleet: every client the token may see (all for an admin token, its own for a client token) with its " +
            "stacks counted by status, its open drifts by severity, its worst status, health score (share of healthy stacks) and " +
            "state consistency score (mean of its stacks' consistency_score); the totals " +
            "and fleet health score of every matching client; paginated (limit, offset; next_offset is null on the " +
            "last page) and filtered (status: clients with a stack in that status; q: part of the client id). " +
            "Answers an ETag: send it as If-None-Match to get 304 while unchanged",
          parameters: Object.entries(fleetQuerystring.properties).map(([name, schema]) => ({
            name,
            in: "query",
            schema,
          })),
          responses: {
            "200": json("fleet"),
            "304": { description: "unchanged since the ETag sent" },
            "400": error,
            "401": error,
          },
        },
      },
      "/v1/system": {
        get: {
          ...secured,
          summary:
            "admin tokens only (a client token gets 403): the reconciler's consumer lag in records, input records " +
            "arriving and processed per second over the last samples (null until two samples 15 s apart exist), the " +
            "dead-letter topic's records (retained, ever written, added in the window), the fleet's health, this " +
            "API's replica lag, and the alerts those fire (ReconcilerStalled, ReconcilerBehind, StacksInError, " +
            "CriticalDriftOpen, DeadLettersArriving, ReplicaBehind). Kafka is asked at most every 5 s",
          responses: { "200": json("system"), "401": error, "403": error, "503": error },
        },
      },
      "/v1/reconciliation": {
        get: {
          ...secured,
          summary:
            "reconciliation over a window (1h, 6h, 24h default, 7d) cut into 24 aligned buckets: drifts opened and " +
            "resolved per bucket, heals succeeded and failed with the success rate (null when none finished), time to " +
            "resolve in seconds (p50, p90, p99, null when none; count) of the drifts resolved in the window, and the " +
            "drifts open now. Every client the token may see, or one (client); another client is a 404. Answers an " +
            "ETag: send it as If-None-Match to get 304 while unchanged",
          parameters: Object.entries(reconciliationQuerystring.properties).map(([name, schema]) => ({
            name,
            in: "query",
            schema,
          })),
          responses: {
            "200": json("reconciliation"),
            "304": { description: "unchanged since the ETag sent" },
            "400": error,
            ...common,
          },
        },
      },
      "/v1/clients/{client}/stacks": {
        get: {
          ...secured,
          summary: "StateRecords of every stack of the client",
          parameters: [pathParam("client")],
          responses: { "200": json("stacks"), ...common },
        },
      },
      "/v1/clients/{client}/stacks/{stack}": {
        get: {
          ...secured,
          summary: "getState: the StateRecord of one stack",
          parameters: [pathParam("client"), pathParam("stack")],
          responses: { "200": json("StateRecord"), ...common },
        },
      },
      "/v1/clients/{client}/stacks/{stack}/components": {
        get: {
          ...secured,
          summary:
            "every declared component of the stack (provider roles, resources, integrations, the site build) with what " +
            "the desired state says and whether it was verified matching at last_verified (no open drift on it), the " +
            "per-component view of consistency_score. Answers an ETag",
          parameters: [pathParam("client"), pathParam("stack")],
          responses: { "200": json("components"), "304": { description: "unchanged since the ETag sent" }, ...common },
        },
      },
      "/v1/clients/{client}/drift": {
        get: {
          ...secured,
          summary: "getDriftStatus: DriftStatus of the client",
          parameters: [pathParam("client")],
          responses: { "200": json("DriftStatus"), ...common },
        },
      },
      "/v1/clients/{client}/drifts/{drift}/acknowledge": { post: commandOp("acknowledgeDrift") },
      "/v1/clients/{client}/drifts/{drift}/approve": { post: commandOp("approve the pending heal of a drift") },
      "/v1/clients/{client}/drifts/{drift}/reject": {
        post: commandOp(
          "reject healing a drift (alert only); false_positive: true records that the drift was not real (the compliance report counts it)",
          rejectBody,
        ),
      },
      "/v1/clients/{client}/report": {
        get: {
          ...secured,
          summary:
            "the compliance report of the client over a window: time to detection and to recovery (mean, p95), auto-heal " +
            "success rate, false-positive rate, manual interventions, configuration compliance per stack, and every heal " +
            "with its approver and outcome; as JSON (default), Markdown (format=md) or CSV (format=csv)",
          parameters: [pathParam("client"), ...queryParams(reportQuerystring)],
          responses: { "200": json("ComplianceReport"), "400": error, ...common },
        },
      },
      "/v1/clients/{client}/policy/what-if": {
        post: {
          ...secured,
          summary:
            "what a proposed policy would have changed for the client over the recorded history: both runs replayed in " +
            "a sandbox (no command reaches an executor), heals issued, avoided and added, approvals asked, breaker " +
            "openings, heals exhausted, time in error; answers when the replays are done; 429 while another runs",
          parameters: [pathParam("client")],
          requestBody: { content: { "application/json": { schema: whatIfClientBody } } },
          responses: { "200": json("what-if report"), "400": error, "429": error, ...common },
        },
      },
      "/v1/fleet-policy": {
        get: {
          ...secured,
          summary:
            "the fleet policy: defaults every stack inherits and rules no stack's policy may break (null: none set)",
          responses: { "200": json("fleet_policy"), "401": error },
        },
        put: {
          ...secured,
          summary:
            "set the fleet policy (admin tokens only; YAML or JSON {defaults, rules}): publishes the next version of " +
            "every stack whose effective policy changes; refused, naming every stack and field, when a rule would be " +
            "broken; dry_run=true changes nothing",
          parameters: queryParams(fleetPutQuerystring),
          responses: { "200": json("version, dry_run, changes"), "400": error, "403": error, "401": error },
        },
      },
      "/v1/clients/{client}/stacks/{stack}/policy/explain": {
        get: {
          ...secured,
          summary:
            "the stack's effective policy field by field, each with where it came from (stack, fleet or default), the " +
            "fleet rules in force and what they forbid in it",
          parameters: [pathParam("client"), pathParam("stack")],
          responses: { "200": json("policy explanation"), ...common },
        },
      },
      "/v1/policy/what-if": {
        post: {
          ...secured,
          summary: "the same for every client, or one named in the body (admin tokens only)",
          requestBody: { content: { "application/json": { schema: whatIfBody } } },
          responses: { "200": json("what-if report"), "400": error, "403": error, "429": error, "401": error },
        },
      },
      "/v1/clients/{client}/predictions": {
        get: {
          ...secured,
          summary:
            "the client's predicted drifts: the open ones (default), or all with their outcome (confirmed with its lead " +
            "time, or expired), newest first",
          parameters: [pathParam("client"), ...queryParams(predictionsQuerystring)],
          responses: { "200": json("predictions"), "400": error, ...common },
        },
      },
      "/v1/report": {
        get: {
          ...secured,
          summary: "the compliance report of every client and the fleet (admin tokens only); as for a client's",
          parameters: queryParams(reportQuerystring),
          responses: { "200": json("ComplianceReport"), "400": error, "403": error, "401": error },
        },
      },
      "/v1/clients/{client}/reconcile": {
        post: {
          ...secured,
          summary:
            "triggerReconciliation: a forced pass; answers the ReconciliationResult once the reconciler processed it. " +
            "Heals run after the pass, in the executors: auto_heal_success_count is the number of heals of the " +
            "pass's scope (the client, or stack_id) audited as succeeded since the previous pass of the same scope",
          parameters: [pathParam("client")],
          requestBody: {
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  additionalProperties: false,
                  properties: { stack_id: id, reason: { type: "string" } },
                },
              },
            },
          },
          responses: {
            "200": json("ReconciliationResult"),
            "202": json("accepted; not processed within the wait"),
            "400": error,
            ...common,
          },
        },
      },
      "/v1/clients/{client}/history": {
        get: {
          ...secured,
          summary: "getReconciliationHistory: drift transitions and audit entries, newest first",
          parameters: [
            pathParam("client"),
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 50 } },
          ],
          responses: { "200": json("events"), "400": error, ...common },
        },
      },
      "/v1/clients/{client}/stacks/{stack}/policy": {
        get: {
          ...secured,
          summary: "getReconciliationPolicy",
          parameters: [pathParam("client"), pathParam("stack")],
          responses: { "200": json("policy in blackwell.yaml format"), ...common },
        },
        put: {
          ...secured,
          summary:
            "setReconciliationPolicy: replaces the whole policy (every field GET answers is required) " +
            "and publishes a new desired-state version with it",
          parameters: [pathParam("client"), pathParam("stack")],
          requestBody: {
            content: {
              "application/json": { schema: { type: "object" } },
              "application/yaml": { schema: { type: "string" } },
            },
          },
          responses: { "200": json("new state_version, or unchanged"), "400": error, "413": error, ...common },
        },
        patch: {
          ...secured,
          summary:
            "updateReconciliationPolicy: applies a JSON merge patch (RFC 7386) to the current policy " +
            "(null removes a field, which then must have a value again) and publishes the result as a new version",
          parameters: [pathParam("client"), pathParam("stack")],
          requestBody: { content: { "application/merge-patch+json": { schema: { type: "object" } } } },
          responses: {
            "200": json("new state_version, or unchanged"),
            "400": error,
            "413": error,
            "415": error,
            ...common,
          },
        },
      },
      "/v1/clients/{client}/stacks/{stack}/rollback": {
        post: {
          ...secured,
          summary: "publish the desired state of an earlier version as the next version",
          parameters: [pathParam("client"), pathParam("stack")],
          requestBody: {
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["to"],
                  properties: { to: { type: "string", pattern: "^v\\d+\\.\\d+\\.\\d+$" } },
                },
              },
            },
          },
          responses: { "200": json("from, to, content_of"), "400": error, ...common },
        },
      },
      "/v1/clients/{client}/stacks/{stack}/promote": {
        post: {
          ...secured,
          summary:
            "promote an earlier environment's stack into this one: its promoted parts as this stack's next version, " +
            "when it was judged under its current version, is healthy with no open drift and has soaked; 409 with " +
            "every reason when a gate refuses; 202 with a pending request when this stack's promotion requires an approval",
          parameters: [pathParam("client"), pathParam("stack"), ...queryParams(promoteQuerystring)],
          requestBody: { content: { "application/json": { schema: promoteBody } } },
          responses: {
            "200": json("client_id, from, to, published, dry_run, approval_required"),
            "202": json("the promotion awaits approval: client_id, from, to, published (false), request"),
            "400": error,
            "409": error,
            ...common,
          },
        },
        get: {
          ...secured,
          summary:
            "the stack's latest promotion request and what became of it (pending, approved, rejected, superseded); " +
            "a pending one says in `stale` why an approval would be refused (null: it would not)",
          parameters: [pathParam("client"), pathParam("stack")],
          responses: { "200": json("a PromotionRequest with stale"), "400": error, ...common },
        },
      },
      "/v1/clients/{client}/stacks/{stack}/promote/approve": {
        post: {
          ...secured,
          summary:
            "approve the stack's pending promotion: its gates are checked again and it is published; 403 for its " +
            "requester, 409 when nothing is pending, either stack has moved on since the request (the request is " +
            "superseded) or a gate refuses. The body may be left out.",
          parameters: [pathParam("client"), pathParam("stack")],
          requestBody: { required: false, ...body({ type: "object", additionalProperties: false, properties: {} }) },
          responses: {
            "200": json("client_id, from, to, published, request"),
            "400": error,
            "403": error,
            "409": error,
            ...common,
          },
        },
      },
      "/v1/clients/{client}/stacks/{stack}/promote/reject": {
        post: {
          ...secured,
          summary:
            "reject the stack's pending promotion (its requester may, to withdraw it); 409 when nothing is pending",
          parameters: [pathParam("client"), pathParam("stack")],
          requestBody: { required: false, ...body(reasonBody) },
          responses: { "200": json("the rejected PromotionRequest"), "400": error, "409": error, ...common },
        },
      },
      "/v1/clients/{client}/desired-state": {
        post: {
          ...secured,
          summary: "apply a blackwell.yaml for the client",
          parameters: [
            pathParam("client"),
            { name: "prune", in: "query", schema: { type: "boolean" } },
            { name: "dry_run", in: "query", schema: { type: "boolean" } },
          ],
          requestBody: { content: { "application/yaml": { schema: { type: "string" } } } },
          responses: { "200": json("changes per stack"), "400": error, "413": error, "415": error, ...common },
        },
      },
    },
  };
}
