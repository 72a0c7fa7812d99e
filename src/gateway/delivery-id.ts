/**
 * The id a provider gives one delivery of a webhook, the same on its retries:
 * what a replay is recognised by. As each provider documents it:
 * - Shopify: `X-Shopify-Webhook-Id` (unique per delivery, kept on retries).
 * - Sanity: `idempotency-key`, else the transaction id with the document id
 *   (one transaction can touch several documents).
 * - Contentful: `X-Contentful-Idempotency-Key`, else the entity id, version and
 *   topic from the signed body and headers.
 * - CodeBuild (EventBridge): the event's `id` in the body.
 * - Generic: `event_id` in the body, which the signature covers.
 */
import { BlackwellError } from "../errors.js";
import type { Json } from "./normalize.js";
import type { Headers } from "./signatures.js";
import type { WebhookProvider } from "./webhook-config.js";

const h = (headers: Headers, name: string) => {
  const v = headers[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first ? first : null;
};
// A blank id is no id: the reconciler's decoder dead-letters an event whose event_id is blank, so the gateway
// must refuse it with a 400 instead of accepting it (found by fuzzing, issue 14 item 18).
const str = (v: unknown): string | null =>
  typeof v === "string" && v.trim() !== "" ? v : typeof v === "number" ? String(v) : null;
const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});

/** The delivery id, or throws BLACKWELL_ERR_BAD_REQUEST naming what the request lacks. */
export function deliveryId(provider: WebhookProvider, headers: Headers, body: Json): string {
  const found = ((): string | null => {
    switch (provider) {
      case "shopify":
        return h(headers, "x-shopify-webhook-id");
      case "sanity": {
        const txn = h(headers, "sanity-transaction-id");
        const doc = str(body._id) ?? h(headers, "sanity-document-id");
        return h(headers, "idempotency-key") ?? (txn && doc ? `${txn}:${doc}` : null);
      }
      case "contentful": {
        const sys = obj(body.sys);
        const version = str(sys.version) ?? str(sys.revision);
        const topic = h(headers, "x-contentful-topic");
        const derived = str(sys.id) && version && topic ? `${str(sys.id)}:${version}:${topic}` : null;
        return h(headers, "x-contentful-idempotency-key") ?? derived;
      }
      case "codebuild":
        return str(body.id);
      case "generic":
        return str(body.event_id);
    }
  })();
  if (found === null) throw new BlackwellError("BLACKWELL_ERR_BAD_REQUEST", `${MISSING[provider]} (a delivery id)`);
  return found;
}

const MISSING: Record<WebhookProvider, string> = {
  shopify: "X-Shopify-Webhook-Id is required",
  sanity: "idempotency-key, or sanity-transaction-id with a document id, is required",
  contentful: "X-Contentful-Idempotency-Key, or sys.id and sys.version in the body, is required",
  codebuild: "the EventBridge event id is required",
  generic: "event_id is required in the signed body",
};
