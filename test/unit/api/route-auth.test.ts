/**
 * Authentication is decided on the route Fastify matched. Regression: the old
 * hook looked at the raw URL (`req.url.startsWith("/v1/")`), while the router
 * decodes %-escapes, so `/%761/clients/x/stacks` reached the handler with no
 * token and crashed with 500 (and a route that did not crash would have
 * answered with the data).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACME_TOKEN, DRIFT_ID, OTHER_TOKEN, bearer, stackRow, startUnitApi, type UnitApi } from "./api-fixture.js";

let api: UnitApi;
beforeAll(async () => {
  api = await startUnitApi();
  api.stack("acme-corp", stackRow("secret-stack"));
});
afterAll(async () => api.close());

describe("authentication on the matched route", () => {
  it.each([
    ["GET", "/%761/clients/acme-corp/stacks"],
    ["GET", "/v%31/clients/acme-corp/stacks"],
    ["GET", "/%76%31/clients/acme-corp/stacks/secret-stack"],
    ["GET", "/v%31/clients/acme-corp/drift"],
    ["GET", "/v%31/clients/acme-corp/history"],
    ["GET", "/v%31/clients/acme-corp/stacks/secret-stack/policy"],
    ["POST", `/v%31/clients/acme-corp/drifts/${DRIFT_ID}/acknowledge`],
    ["POST", "/v%31/clients/acme-corp/reconcile"],
  ])("%s %s without a token answers 401 or 404, never 500, never the data", async (method, url) => {
    const body = method === "POST" ? { payload: {} } : {};
    const res = await api.app.inject({ method: method as "GET" | "POST", url, ...body });
    expect([401, 404]).toContain(res.statusCode);
    expect(res.body).not.toContain("secret-stack");
    expect(res.json().error.code).toMatch(/^BLACKWELL_ERR_(UNAUTHORIZED|NOT_FOUND)$/);
    expect(api.producer.sent).toHaveLength(0);
  });

  it("answers an encoded path with a token as the router reads it (the same route, the same scoping)", async () => {
    const res = await api.app.inject({ url: "/v%31/clients/acme-corp/stacks", headers: bearer(ACME_TOKEN) });
    expect(res.statusCode).toBe(200);
    expect(res.json().stacks.map((s: { stack_id: string }) => s.stack_id)).toEqual(["secret-stack"]);
    const other = await api.app.inject({ url: "/v%31/clients/acme-corp/stacks", headers: bearer(OTHER_TOKEN) });
    expect(other.statusCode).toBe(404);
  });

  it("refuses a missing or unknown token with 401, the catalog's code and a Bearer challenge", async () => {
    for (const headers of [{}, bearer("not-a-known-token-at-all")]) {
      const res = await api.app.inject({ url: "/v1/clients/acme-corp/stacks", headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers["www-authenticate"]).toBe('Bearer realm="blackwell"');
      const error = { code: "BLACKWELL_ERR_UNAUTHORIZED", message: "a valid bearer token is required" };
      expect(res.json()).toEqual({ error });
    }
  });

  it("serves the public routes without a token", async () => {
    expect((await api.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    expect((await api.app.inject({ url: "/openapi.json" })).json().openapi).toBe("3.1.0");
    const metrics = await api.app.inject({ url: "/metrics" });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain("state_consistency_score");
    // Never started, so not caught up: probes must see it as not ready.
    const ready = await api.app.inject({ url: "/readyz" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().ready).toBe(false);
  });

  it("keeps the fleet-wide system view from client tokens (403) and from callers without one (401)", async () => {
    const client = await api.app.inject({ url: "/v1/system", headers: bearer(ACME_TOKEN) });
    expect(client.statusCode).toBe(403);
    expect(client.json()).toEqual({
      error: {
        code: "BLACKWELL_ERR_FORBIDDEN",
        message: "the system view is fleet-wide: it needs an admin token",
      },
    });
    expect((await api.app.inject({ url: "/v1/system" })).statusCode).toBe(401);
  });

  it("answers an unknown route 404 in the catalog's error shape", async () => {
    const res = await api.app.inject({ url: "/v2/clients/acme-corp/stacks", headers: bearer(ACME_TOKEN) });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("BLACKWELL_ERR_NOT_FOUND");
  });
});
