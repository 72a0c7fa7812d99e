/** GET /v1/reconciliation: scope, buckets, heal success rate, time-to-resolve percentiles, 400s and ETag/304. */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ACME_TOKEN, ADMIN_TOKEN, OTHER_TOKEN, bearer, stackRow, startUnitApi, type UnitApi } from "./api-fixture.js";
import { openApiDocument } from "../../../src/api/openapi.js";
import { windowBuckets } from "../../../src/api/routes/reconciliation.js";

/** Now, for every request: the 24h window is 2026-03-09T13:00Z to 2026-03-10T13:00Z in 1 h buckets. */
const NOW = Date.parse("2026-03-10T12:34:00.000Z");
let api: UnitApi;
let seq = 0;
const get = (url: string, token: string | null = ACME_TOKEN, headers: Record<string, string> = {}) =>
  api.app.inject({ url, headers: { ...(token ? bearer(token) : {}), ...headers } });
/** A drift event of `transition` at `timestamp` (its own time) for a drift that opened at `detected_at`. */
const event = (client: string, drift: string, transition: string, timestamp: string, detected_at = timestamp) =>
  api.driftEvent({
    event_id: `evt-${++seq}`,
    client_id: client,
    stack_id: "web-prod",
    drift_id: drift,
    transition,
    detected_at,
    timestamp,
  });
const heal = (client: string, action: string, timestamp: string) =>
  api.audit({ audit_id: `aud-${++seq}`, client_id: client, stack_id: "web-prod", action, timestamp });
const day = (hm: string) => `2026-03-10T${hm}:00.000Z`;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  api = await startUnitApi();
  api.stack("acme-corp", stackRow("web-prod", { status: "drift_detected" }));
  api.stack(
    "other-co",
    stackRow("shop", {
      client_id: "other-co",
      drift_details: [stackRow("x").drift_details, stackRow("y").drift_details].flat(),
    }),
  );
  api.desired("newcomer", { stack_id: "site", state_version: "v1.0.0" });
  // drift-a opened and resolved before the window, then again inside it: its resolution matches the later opening.
  event("acme-corp", "drift-a", "opened", "2026-03-08T00:00:00.000Z");
  event("acme-corp", "drift-a", "resolved", "2026-03-08T01:00:00.000Z", "2026-03-08T00:00:00.000Z");
  event("acme-corp", "drift-a", "opened", day("10:10"));
  event("acme-corp", "drift-a", "acknowledged", day("10:15"), day("10:10"));
  event("acme-corp", "drift-a", "resolved", day("10:20"), day("10:10")); // 600 s
  event("acme-corp", "drift-b", "opened", day("10:30"));
  event("acme-corp", "drift-b", "resolved", day("11:30"), day("10:30")); // 3600 s
  event("acme-corp", "drift-c", "opened", day("09:00"));
  event("acme-corp", "drift-c", "resolved", day("12:00"), day("09:00")); // 10800 s
  event("acme-corp", "drift-d", "opened", day("12:05"));
  // Its opening is not in the replica: the event's detected_at stands in.
  event("acme-corp", "drift-e", "resolved", day("11:00"), day("10:59")); // 60 s
  heal("acme-corp", "resource.rebuild:succeeded", day("11:00"));
  heal("acme-corp", "resource.rebuild:succeeded", day("11:01"));
  heal("acme-corp", "site.rebuild:failed", day("11:05"));
  heal("acme-corp", "resource.rebuild:started", day("11:00"));
  heal("acme-corp", "resource.rebuild:succeeded", "2026-03-05T00:00:00.000Z"); // in 7d, not in 24h
  event("other-co", "drift-o", "opened", day("12:10"));
  heal("other-co", "integration.configure:failed", day("12:11"));
});
afterAll(async () => {
  await api.close();
  vi.useRealTimers();
});

const series = (body: { buckets: Array<{ opened: number; resolved: number }> }, key: "opened" | "resolved") =>
  Object.fromEntries(body.buckets.flatMap((b, i) => (b[key] ? [[i, b[key]]] : [])));

describe("GET /v1/reconciliation", () => {
  it("counts a client token's own client: buckets, heals, time to resolve and open drifts", async () => {
    const res = await get("/v1/reconciliation?window=24h");
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      window: "24h",
      client: "acme-corp",
      bucket_seconds: 3600,
      from: "2026-03-09T13:00:00.000Z",
      to: "2026-03-10T13:00:00.000Z",
      open_drifts: 1,
      heals: { succeeded: 2, failed: 1 },
      time_to_resolve: { count: 4, p50: 600, p90: 10800, p99: 10800 },
    });
    expect(body.heals.success_rate).toBeCloseTo(2 / 3);
    expect(body.buckets).toHaveLength(24);
    expect(body.buckets[21].start).toBe(day("10:00"));
    expect(series(body, "opened")).toEqual({ 20: 1, 21: 2, 23: 1 });
    expect(series(body, "resolved")).toEqual({ 21: 1, 22: 2, 23: 1 });
    expect(JSON.stringify(body)).not.toContain("other-co");
  });

  it("narrows the buckets with the window, and defaults to 24h", async () => {
    const hour = (await get("/v1/reconciliation?window=1h")).json();
    expect(hour).toMatchObject({ bucket_seconds: 150, from: day("11:35"), to: day("12:35") });
    expect(hour.buckets.reduce((n: number, b: { opened: number }) => n + b.opened, 0)).toBe(1);
    expect(hour.time_to_resolve).toMatchObject({ count: 1, p50: 10800 });
    expect(hour.heals).toEqual({ succeeded: 0, failed: 0, success_rate: null });
    const week = (await get("/v1/reconciliation?window=7d")).json();
    expect(week.time_to_resolve.count).toBe(5);
    expect(week.heals).toMatchObject({ succeeded: 3, failed: 1 });
    expect((await get("/v1/reconciliation")).json().window).toBe("24h");
    expect(windowBuckets("7d", NOW)).toEqual({ startMs: Date.parse("2026-03-03T13:00:00.000Z"), bucketMs: 25_200_000 });
  });

  it("answers nulls when nothing finished", async () => {
    const body = (await get("/v1/reconciliation?client=newcomer", ADMIN_TOKEN)).json();
    expect(body).toMatchObject({
      client: "newcomer",
      open_drifts: 0,
      heals: { succeeded: 0, failed: 0, success_rate: null },
      time_to_resolve: { count: 0, p50: null, p90: null, p99: null },
    });
    expect(body.buckets.every((b: { opened: number; resolved: number }) => b.opened + b.resolved === 0)).toBe(true);
  });

  it("gives another client's name a 404, and an admin the fleet or one client", async () => {
    for (const client of ["other-co", "nobody"]) {
      const res = await get(`/v1/reconciliation?client=${client}`);
      expect(res.statusCode, client).toBe(404);
      expect(res.body).not.toContain(`"open_drifts"`);
    }
    expect((await get("/v1/reconciliation?client=acme-corp")).statusCode).toBe(200);
    const other = (await get("/v1/reconciliation", OTHER_TOKEN)).json();
    expect(other).toMatchObject({ client: "other-co", open_drifts: 2, heals: { succeeded: 0, failed: 1 } });
    expect(other.heals.success_rate).toBe(0);
    const fleet = (await get("/v1/reconciliation", ADMIN_TOKEN)).json();
    expect(fleet).toMatchObject({
      client: null,
      open_drifts: 3,
      heals: { succeeded: 2, failed: 2, success_rate: 0.5 },
    });
    expect(series(fleet, "opened")).toEqual({ 20: 1, 21: 2, 23: 2 });
    const one = (await get("/v1/reconciliation?client=other-co", ADMIN_TOKEN)).json();
    expect(one).toMatchObject({ client: "other-co", open_drifts: 2 });
    expect((await get("/v1/reconciliation?client=nobody", ADMIN_TOKEN)).statusCode).toBe(404);
  });

  it("refuses a bad query with 400 naming the parameter", async () => {
    for (const [query, word] of [
      ["window=2h", "window"],
      ["window=", "window"],
      ["client=%27%3B", "client"],
      ["surprise=1", "surprise"],
      ["window=1h&limit=5", "limit"],
    ]) {
      const res = await get(`/v1/reconciliation?${query}`, ADMIN_TOKEN);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe("BLACKWELL_ERR_BAD_REQUEST");
      expect(res.json().error.message, query).toContain(word);
    }
    expect((await get("/v1/reconciliation", null)).statusCode).toBe(401);
  });

  it("answers 304 to its ETag until the data changes", async () => {
    const first = await get("/v1/reconciliation?window=6h");
    const tag = String(first.headers.etag);
    expect(tag).toMatch(/^W\//);
    expect(first.headers["x-blackwell-replica-lag"]).toBeDefined();
    const again = await get("/v1/reconciliation?window=6h", ACME_TOKEN, { "if-none-match": tag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe("");
    // Scope first: the tag never turns another client's 404 into a 304.
    expect((await get("/v1/reconciliation?client=acme-corp", OTHER_TOKEN, { "if-none-match": tag })).statusCode).toBe(
      404,
    );
    event("acme-corp", "drift-f", "opened", day("12:30"));
    const changed = await get("/v1/reconciliation?window=6h", ACME_TOKEN, { "if-none-match": tag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(tag);
  });

  it("is in the OpenAPI document", () => {
    const doc = openApiDocument() as { paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }> };
    expect(doc.paths["/v1/reconciliation"]?.get?.parameters?.map((p) => p.name)).toEqual(["window", "client"]);
  });

  it("has a console page linked beside Fleet, built without innerHTML", async () => {
    const page = await get("/ui/index.html", null);
    expect(page.body).toMatch(/href="#\/fleet">Fleet<\/a>\s*<a href="#\/reconciliation">Reconciliation<\/a>/);
    const js = (await get("/ui/app.js", null)).body;
    expect(js).toContain("/v1/reconciliation?");
    expect(js).toContain("createElementNS");
    expect(js).not.toContain("innerHTML");
  });
});
