/** The fleet route (scope, pagination, filters), ETag revalidation of the read routes, and the console's files. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACME_TOKEN, ADMIN_TOKEN, OTHER_TOKEN, bearer, stackRow, startUnitApi, type UnitApi } from "./api-fixture.js";
import { openApiDocument } from "../../../src/api/openapi.js";

let api: UnitApi;
const get = (url: string, token: string | null = ACME_TOKEN, headers: Record<string, string> = {}) =>
  api.app.inject({ url, headers: { ...(token ? bearer(token) : {}), ...headers } });
const drift = (severity: string, n: number) => ({
  drift_id: `drift-${String(n).padStart(24, "0")}`,
  type: "resource",
  component: `c${n}`,
  expected_json: '"healthy"',
  observed_json: '"deleted"',
  severity,
  detected_at: "2026-01-01T00:00:00.000Z",
  acknowledged: false,
});

beforeAll(async () => {
  api = await startUnitApi();
  // acme-corp: one drifted stack (one high drift), one healthy.
  // web-prod carries its state consistency score; web-staging is a record from before the field (healthy: 1).
  api.stack("acme-corp", stackRow("web-prod", { status: "drift_detected", consistency_score: 0.75 }));
  api.stack("acme-corp", stackRow("web-staging", { status: "healthy", drift_details: [] }));
  // other-co: one stack in error with a critical and a low drift.
  api.stack(
    "other-co",
    stackRow("shop", {
      client_id: "other-co",
      status: "error",
      drift_details: [drift("critical", 1), drift("low", 2)],
    }),
  );
  // Admin-only clients: healthy ones, and one declared but never evaluated.
  for (let i = 0; i < 5; i++) api.stack(`zeta-${i}`, stackRow("site", { status: "healthy", drift_details: [] }));
  api.desired("newcomer", { stack_id: "site", state_version: "v1.0.0" });
});
afterAll(async () => api.close());

describe("GET /v1/clients (the fleet)", () => {
  it("shows a client token its own client only, with counts by status and severity", async () => {
    const res = await get("/v1/clients");
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.clients.map((c: { client_id: string }) => c.client_id)).toEqual(["acme-corp"]);
    expect(body.total).toBe(1);
    expect(body.clients[0]).toMatchObject({
      stacks: 2,
      declared_stacks: 0,
      statuses: { healthy: 1, drift_detected: 1, reconciling: 0, error: 0 },
      open_drifts: { total: 1, high: 1, critical: 0 },
      worst_status: "drift_detected",
    });
    expect(body.totals).toMatchObject({ stacks: 2, health_score: 0.5, open_drifts: { total: 1 } });
    expect(body.clients[0].consistency_score).toBeCloseTo(0.875);
    expect(body.totals.consistency_score).toBeCloseTo(0.875);
    expect(JSON.stringify(body)).not.toContain("other-co");
    const other = (await get("/v1/clients", OTHER_TOKEN)).json();
    expect(other.clients.map((c: { client_id: string }) => c.client_id)).toEqual(["other-co"]);
    expect(other.clients[0]).toMatchObject({ worst_status: "error", open_drifts: { total: 2, critical: 1, low: 1 } });
    expect(JSON.stringify(other)).not.toContain("acme-corp");
  });

  it("shows an admin every known client, including one declared but not evaluated yet", async () => {
    const body = (await get("/v1/clients?limit=100", ADMIN_TOKEN)).json();
    expect(body.total).toBe(8);
    expect(body.clients.map((c: { client_id: string }) => c.client_id)).toContain("newcomer");
    expect(body.clients.find((c: { client_id: string }) => c.client_id === "newcomer")).toMatchObject({
      stacks: 0,
      declared_stacks: 1,
      worst_status: null,
      health_score: 1,
    });
    expect(body.totals).toMatchObject({ stacks: 8, statuses: { healthy: 6, error: 1 }, open_drifts: { total: 3 } });
    expect(body.totals.health_score).toBeCloseTo(6 / 8);
    expect(body.replica).toMatchObject({ caught_up: true });
  });

  it("paginates with limit and offset, and says where the next page starts", async () => {
    const first = (await get("/v1/clients?limit=3", ADMIN_TOKEN)).json();
    expect(first.clients.map((c: { client_id: string }) => c.client_id)).toEqual(["acme-corp", "newcomer", "other-co"]);
    expect(first).toMatchObject({ limit: 3, offset: 0, next_offset: 3, total: 8 });
    const last = (await get("/v1/clients?limit=3&offset=6", ADMIN_TOKEN)).json();
    expect(last.clients.map((c: { client_id: string }) => c.client_id)).toEqual(["zeta-3", "zeta-4"]);
    expect(last.next_offset).toBeNull();
  });

  it("filters by a stack status and by part of the client id, and sorts by a whitelisted key", async () => {
    const errors = (await get("/v1/clients?status=error", ADMIN_TOKEN)).json();
    expect(errors.clients.map((c: { client_id: string }) => c.client_id)).toEqual(["other-co"]);
    const zeta = (await get("/v1/clients?q=zeta&limit=2", ADMIN_TOKEN)).json();
    expect(zeta.total).toBe(5);
    expect(zeta.totals.stacks).toBe(5);
    // A LIKE wildcard in q is taken literally.
    expect((await get("/v1/clients?q=_", ADMIN_TOKEN)).json().total).toBe(0);
    const worst = (await get("/v1/clients?sort=worst_status&order=desc&limit=2", ADMIN_TOKEN)).json();
    expect(worst.clients.map((c: { worst_status: string }) => c.worst_status)).toEqual(["error", "drift_detected"]);
    const consistent = (await get("/v1/clients?sort=consistency&order=asc&limit=2", ADMIN_TOKEN)).json();
    expect(consistent.clients.map((c: { client_id: string }) => c.client_id)).toEqual(["other-co", "acme-corp"]);
    const drifts = (await get("/v1/clients?sort=open_drifts&order=desc&limit=1", ADMIN_TOKEN)).json();
    expect(drifts.clients[0].client_id).toBe("other-co");
    // A client token's filter never widens its scope.
    expect((await get("/v1/clients?status=error")).json().clients).toEqual([]);
  });

  it("refuses a bad query with 400 and a message naming the parameter", async () => {
    for (const [query, word] of [
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["offset=-1", "offset"],
      ["status=sad", "status"],
      ["sort=json", "sort"],
      ["order=up", "order"],
      ["q=%27%3B%20DROP", "q"],
      ["surprise=1", "additional"],
    ]) {
      const res = await get(`/v1/clients?${query}`, ADMIN_TOKEN);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe("BLACKWELL_ERR_BAD_REQUEST");
      expect(res.json().error.message, query).toContain(word);
    }
  });

  it("needs a token, and is in the OpenAPI document", async () => {
    expect((await get("/v1/clients", null)).statusCode).toBe(401);
    const doc = openApiDocument() as { paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }> };
    expect(doc.paths["/v1/clients"]?.get?.parameters?.map((p) => p.name)).toEqual([
      "limit",
      "offset",
      "status",
      "q",
      "sort",
      "order",
    ]);
  });
});

describe("ETag revalidation of the read routes", () => {
  it("answers 304 without a body while the data is unchanged, and 200 with a new tag once it changes", async () => {
    for (const url of ["/v1/clients", "/v1/clients/acme-corp/stacks", "/v1/clients/acme-corp/history"]) {
      const first = await get(url);
      const tag = first.headers.etag as string;
      expect(tag, url).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
      expect(first.headers["cache-control"]).toBe("private, no-cache");
      const again = await get(url, ACME_TOKEN, { "if-none-match": tag });
      expect(again.statusCode, url).toBe(304);
      expect(again.body).toBe("");
      expect(again.headers["x-blackwell-replica-lag"]).toBe("0");
      expect((await get(url, ACME_TOKEN, { "if-none-match": '"other", ' + tag })).statusCode).toBe(304);
      expect((await get(url, ACME_TOKEN, { "if-none-match": 'W/"stale"' })).statusCode).toBe(200);
    }
    const before = (await get("/v1/clients/acme-corp/stacks")).headers.etag as string;
    api.stack("acme-corp", stackRow("web-dev", { status: "healthy", drift_details: [] }));
    const after = await get("/v1/clients/acme-corp/stacks", ACME_TOKEN, { "if-none-match": before });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(before);
    // The fleet's counts are cached until the replica's database changes: a new stack shows at once.
    const fleet = await get("/v1/clients", ACME_TOKEN);
    api.stack("acme-corp", stackRow("web-qa", { status: "error", drift_details: [] }));
    const changed = await get("/v1/clients", ACME_TOKEN, { "if-none-match": fleet.headers.etag as string });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().clients[0]).toMatchObject({
      stacks: fleet.json().clients[0].stacks + 1,
      worst_status: "error",
    });
  });

  it("never answers 304 to a token that may not see the client", async () => {
    const tag = (await get("/v1/clients/acme-corp/stacks")).headers.etag as string;
    const res = await get("/v1/clients/acme-corp/stacks", OTHER_TOKEN, { "if-none-match": tag });
    expect(res.statusCode).toBe(404);
  });
});

describe("the console's static files at /ui", () => {
  it("serves the page, script and stylesheet with their content types, caching and security headers, no token", async () => {
    const page = await get("/ui/", null);
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.body).toContain('<script type="module" src="/ui/app.js">');
    expect(page.headers["cache-control"]).toBe("no-cache");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    const js = await get("/ui/app.js", null);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.body).not.toContain("innerHTML");
    expect((await get("/ui/style.css", null)).headers["content-type"]).toBe("text/css; charset=utf-8");
    const redirect = await get("/ui", null);
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe("/ui/");
    const revalidated = await get("/ui/app.js", null, { "if-none-match": js.headers.etag as string });
    expect(revalidated.statusCode).toBe(304);
  });

  it("answers 404 for any other name, and no path reaches a file outside the console", async () => {
    for (const url of [
      "/ui/nope.js",
      "/ui/../package.json",
      "/ui/%2e%2e/package.json",
      "/ui/%2e%2e%2fpackage.json",
      "/ui/..%2f..%2fpackage.json",
      "/ui/%2e%2e%5cpackage.json",
      "/ui/ui.ts",
      "/ui/constructor",
      "/ui/__proto__",
      "/ui/app.js%00.html",
    ]) {
      const res = await get(url, null);
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toContain('"name": "blackwell');
      expect(res.body, url).not.toContain("blackwell-state-reconciler");
    }
  });
});
