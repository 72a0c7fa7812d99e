/**
 * Each provider's own webhook signature scheme, checked on the raw body in
 * constant time:
 * - Shopify: `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(secret, body)).
 * - Sanity: `sanity-webhook-signature: t=<ms>,v1=<base64url(HMAC-SHA256(secret, "<t>.<body>"))>`.
 * - Contentful: `x-contentful-signature` = hex(HMAC-SHA256(secret, canonical request)), the canonical
 *   request being `METHOD\npath\n<signed headers as name:value joined by ;>\nbody`, with the signed
 *   headers listed in `x-contentful-signed-headers` and the time in `x-contentful-timestamp` (ms).
 * - CodeBuild via an EventBridge API destination: the connection's API-key header.
 * - Generic: `x-blackwell-signature: t=<unix seconds>,v1=<hex(HMAC-SHA256(secret, "<t>.<body>"))>`.
 * Timestamped schemes are refused outside the replay window.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export type Headers = Record<string, string | string[] | undefined>;
export type Verdict = { ok: true } | { ok: false; reason: string };

const header = (h: Headers, name: string): string | undefined => {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const hmac = (secret: string, data: string | Buffer) => createHmac("sha256", secret).update(data);

function fresh(atMs: number, now: number, windowMs: number): Verdict {
  if (!Number.isFinite(atMs)) return { ok: false, reason: "signature timestamp is not a number" };
  if (Math.abs(now - atMs) > windowMs)
    return { ok: false, reason: `signature timestamp is outside the ${windowMs / 1000}s replay window` };
  return { ok: true };
}

export function verifyShopify(h: Headers, body: Buffer, secret: string): Verdict {
  const given = header(h, "x-shopify-hmac-sha256");
  if (!given) return { ok: false, reason: "missing X-Shopify-Hmac-Sha256" };
  return equal(hmac(secret, body).digest("base64"), given)
    ? { ok: true }
    : { ok: false, reason: "X-Shopify-Hmac-Sha256 does not match the body" };
}

export function verifySanity(h: Headers, body: Buffer, secret: string, now: number, windowMs: number): Verdict {
  const given = header(h, "sanity-webhook-signature");
  const m = given ? /^t=(\d+)[, ]+v1=([^, ]+)$/.exec(given) : null;
  if (!m) return { ok: false, reason: "missing or malformed sanity-webhook-signature (t=<ms>,v1=<signature>)" };
  const expected = hmac(secret, `${m[1]}.${body.toString("utf8")}`).digest("base64url");
  if (!equal(expected, m[2]!)) return { ok: false, reason: "sanity-webhook-signature does not match the body" };
  return fresh(Number(m[1]), now, windowMs);
}

export function verifyContentful(
  h: Headers,
  method: string,
  path: string,
  body: Buffer,
  secret: string,
  now: number,
  windowMs: number,
): Verdict {
  const given = header(h, "x-contentful-signature");
  const signed = header(h, "x-contentful-signed-headers");
  const ts = header(h, "x-contentful-timestamp");
  if (!given || !signed || !ts)
    return {
      ok: false,
      reason: "missing x-contentful-signature, x-contentful-signed-headers or x-contentful-timestamp",
    };
  const names = signed
    .split(",")
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  if (!names.includes("x-contentful-timestamp"))
    return { ok: false, reason: "x-contentful-timestamp is not among the signed headers" };
  const headerLine = names.map((n) => `${n}:${header(h, n) ?? ""}`).join(";");
  const canonical = `${method.toUpperCase()}\n${path}\n${headerLine}\n${body.toString("utf8")}`;
  if (!equal(hmac(secret, canonical).digest("hex"), given))
    return { ok: false, reason: "x-contentful-signature does not match the request" };
  return fresh(Number(ts), now, windowMs);
}

export function verifyApiKey(h: Headers, headerName: string, key: string): Verdict {
  const given = header(h, headerName);
  if (!given) return { ok: false, reason: `missing ${headerName}` };
  return equal(hmac("blackwell", given).digest("hex"), hmac("blackwell", key).digest("hex"))
    ? { ok: true }
    : { ok: false, reason: `${headerName} is not the configured key` };
}

export function verifyGeneric(h: Headers, body: Buffer, secret: string, now: number, windowMs: number): Verdict {
  const given = header(h, "x-blackwell-signature");
  const m = given ? /^t=(\d+),v1=([0-9a-f]{64})$/.exec(given) : null;
  if (!m) return { ok: false, reason: "missing or malformed x-blackwell-signature (t=<unix seconds>,v1=<hex hmac>)" };
  if (!equal(hmac(secret, `${m[1]}.${body.toString("utf8")}`).digest("hex"), m[2]!))
    return { ok: false, reason: "x-blackwell-signature does not match the body" };
  return fresh(Number(m[1]) * 1000, now, windowMs);
}
