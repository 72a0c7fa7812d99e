/**
 * Provider webhook payloads to our ProviderEvent values (Avro field names).
 * Throws `BLACKWELL_ERR_INVALID_RECORD` with the reason when a payload is not
 * what the provider sends; the gateway answers that with 400.
 */
import { randomUUID } from "node:crypto";
import { ROLES } from "../core/model/desired.js";
import { PROVIDER_EVENT_TYPES } from "../core/model/inputs.js";
import { BlackwellError } from "../errors.js";
import type { Headers } from "./signatures.js";
import type { WebhookProvider, WebhookSource } from "./webhook-config.js";

export type Json = Record<string, unknown>;
export interface Normalized {
  event_type: string;
  provider_name: string;
  provider_role: string | null;
  content_id: string | null;
  content_type: string | null;
  event_id: string;
  at: string;
  payload: Json;
}

const bad = (message: string) => new BlackwellError("BLACKWELL_ERR_INVALID_RECORD", message);
// An empty header is no header: `idempotency-key: ""` must not become an empty event_id, which the
// reconciler's decoder dead-letters (found by fuzzing, issue 14 item 18).
const h = (headers: Headers, name: string) => {
  const v = headers[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first ? first : undefined;
};
const obj = (v: unknown): Json | null =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null;
const str = (v: unknown): string | null =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null;

/** The identifier a source's `match` is compared with. */
export function sourceKey(provider: WebhookProvider, headers: Headers, body: Json): string | null {
  switch (provider) {
    case "shopify":
      return h(headers, "x-shopify-shop-domain") ?? null;
    case "sanity":
      return h(headers, "sanity-project-id") ?? null;
    case "contentful":
      return str(obj(obj(obj(body.sys)?.space)?.sys)?.id);
    case "codebuild":
      return str(obj(body.detail)?.["project-name"]);
    case "generic":
      return h(headers, "x-blackwell-client") ?? null;
  }
}

const SHOPIFY_ACTIONS: Record<string, string> = {
  create: "content.created",
  update: "content.updated",
  delete: "content.deleted",
};
const CONTENTFUL_ACTIONS: Record<string, string> = {
  publish: "content.published",
  unpublish: "content.deleted",
  delete: "content.deleted",
  save: "content.updated",
  auto_save: "content.updated",
  create: "content.created",
  archive: "content.deleted",
};
const BUILD_STATUS: Record<string, string> = {
  IN_PROGRESS: "build.started",
  SUCCEEDED: "build.succeeded",
  FAILED: "build.failed",
  FAULT: "build.failed",
  STOPPED: "build.failed",
  TIMED_OUT: "build.failed",
};

export function normalize(provider: WebhookProvider, headers: Headers, body: Json, now: Date): Normalized {
  const at = now.toISOString();
  switch (provider) {
    case "shopify": {
      const topic = h(headers, "x-shopify-topic") ?? "";
      const [resource, action] = topic.split("/");
      const event_type = SHOPIFY_ACTIONS[action ?? ""];
      if (!resource || !event_type)
        throw bad(`X-Shopify-Topic ${JSON.stringify(topic)} is not <resource>/<create|update|delete>`);
      return {
        event_type,
        provider_name: "shopify",
        provider_role: "ecommerce",
        content_id: str(body.id),
        content_type: resource.replace(/s$/, ""),
        event_id: h(headers, "x-shopify-webhook-id") ?? randomUUID(),
        // Not X-Shopify-Triggered-At: Shopify signs only the body, so that header is the sender's to set, and a
        // claimed time in 2099 would move the stream time of every client on the partition.
        at,
        payload: { topic },
      };
    }
    case "sanity": {
      const op = h(headers, "sanity-operation") ?? "update";
      return {
        event_type: op === "delete" ? "content.deleted" : "content.published",
        provider_name: "sanity",
        provider_role: "cms",
        content_id: str(body._id) ?? h(headers, "sanity-document-id") ?? null,
        content_type: str(body._type),
        event_id: h(headers, "idempotency-key") ?? h(headers, "sanity-transaction-id") ?? randomUUID(),
        at,
        payload: { dataset: h(headers, "sanity-dataset") ?? null },
      };
    }
    case "contentful": {
      const topic = h(headers, "x-contentful-topic") ?? "";
      const action = topic.split(".").at(-1) ?? "";
      const event_type = CONTENTFUL_ACTIONS[action];
      if (!topic.startsWith("ContentManagement.") || !event_type)
        throw bad(
          `X-Contentful-Topic ${JSON.stringify(topic)} is not a ContentManagement.<Type>.<action> we understand`,
        );
      const sys = obj(body.sys) ?? {};
      return {
        event_type,
        provider_name: "contentful",
        provider_role: "cms",
        content_id: str(sys.id),
        content_type: str(obj(obj(sys.contentType)?.sys)?.id) ?? (topic.includes(".Asset.") ? "asset" : null),
        event_id: `${str(sys.id) ?? randomUUID()}:${str(sys.version) ?? str(sys.revision) ?? randomUUID()}:${action}`,
        at: str(sys.updatedAt) ?? at,
        payload: { topic },
      };
    }
    case "codebuild": {
      if (body["detail-type"] !== "CodeBuild Build State Change" || body.source !== "aws.codebuild")
        throw bad('not an EventBridge "CodeBuild Build State Change" event from aws.codebuild');
      const detail = obj(body.detail) ?? {};
      const status = str(detail["build-status"]) ?? "";
      const event_type = BUILD_STATUS[status];
      if (!event_type) throw bad(`detail.build-status ${JSON.stringify(status)} is not a CodeBuild build status`);
      const buildId = str(detail["build-id"]);
      const info = obj(detail["additional-information"]) ?? {};
      return {
        event_type,
        provider_name: "codebuild",
        provider_role: "ssg",
        content_id: null,
        content_type: null,
        event_id: str(body.id) ?? randomUUID(),
        at: str(body.time) ?? at,
        payload: { build_id: buildId, project: str(detail["project-name"]), started_at: str(info["build-start-time"]) },
      };
    }
    case "generic": {
      const event_type = str(body.event_type) ?? "";
      if (!(PROVIDER_EVENT_TYPES as readonly string[]).includes(event_type))
        throw bad(`event_type ${JSON.stringify(body.event_type)} is not one of ${PROVIDER_EVENT_TYPES.join(", ")}`);
      const provider_name = str(body.provider_name);
      if (!provider_name?.trim()) throw bad("provider_name is required");
      // Refused here, with a 400 the sender sees, rather than accepted and dead-lettered by the reconciler.
      const provider_role = str(body.provider_role);
      if (provider_role !== null && !(ROLES as readonly string[]).includes(provider_role))
        throw bad(`provider_role ${JSON.stringify(provider_role)} is not one of ${ROLES.join(", ")}`);
      return {
        event_type,
        provider_name,
        provider_role,
        content_id: str(body.content_id),
        content_type: str(body.content_type),
        event_id: str(body.event_id) ?? randomUUID(),
        at: str(body.timestamp) ?? at,
        payload: obj(body.payload) ?? {},
      };
    }
  }
}

/** The ProviderEvent record for `source`. */
export function providerEventValue(source: WebhookSource, n: Normalized, integration: string | null = null): Json {
  if (Number.isNaN(Date.parse(n.at))) throw bad(`timestamp ${JSON.stringify(n.at)} is not ISO8601`);
  return {
    event_id: n.event_id,
    client_id: source.client_id,
    stack_id: source.stack_id,
    environment: source.environment,
    provider_name: n.provider_name,
    provider_role: n.provider_role,
    event_type: n.event_type,
    content_id: n.content_id,
    content_type: n.content_type,
    integration,
    timestamp: new Date(n.at).toISOString(),
    payload_json: JSON.stringify(n.payload),
  };
}
