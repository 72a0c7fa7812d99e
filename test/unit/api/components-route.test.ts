/**
 * GET /v1/clients/{client}/stacks/{stack}/components: every declared component of the example's prod stack with what
 * the desired state says and whether it was verified matching, read from the replica and scoped to the token.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../../src/adapters/kafka/records.js";
import { parseBlackwellYaml } from "../../../src/adapters/yaml/parse-blackwell-yaml.js";
import { ACME_TOKEN, DRIFT_ID, OTHER_TOKEN, bearer, stackRow, startUnitApi, type UnitApi } from "./api-fixture.js";

const root = resolve(import.meta.dirname, "../../..");
let api: UnitApi;
const get = (url: string, token = ACME_TOKEN, headers: Record<string, string> = {}) =>
  api.app.inject({ url, headers: { ...bearer(token), ...headers } });
const URL = "/v1/clients/acme-corp/stacks/cms-ecom-prod/components";

beforeAll(async () => {
  api = await startUnitApi();
  const file = "examples/acme-corp/blackwell.yaml";
  const prod = parseBlackwellYaml(readFileSync(join(root, file), "utf8"), file).stacks.find(
    (s) => s.stack_id === "cms-ecom-prod",
  )!;
  const desired = { ...prod, state_version: "v1.0.0", previous_versions: [], applied_at: "", applied_by: "test" };
  api.desired("acme-corp", desiredToAvro(desired) as never);
  // The evaluated state: the site bucket's drift open (stackRow's one drift), verified at a known time.
  api.stack(
    "acme-corp",
    stackRow("cms-ecom-prod", {
      last_verified: "2026-01-01T00:05:00.000Z",
      consistency_score: 6 / 7,
      component_observed_at: {
        "provider:cms": "2026-01-01T00:04:30.000Z",
        "resource:site_bucket": "2026-01-01T00:03:00.000Z",
      },
    }),
  );
});
afterAll(async () => api.close());

describe("a stack's declared components", () => {
  it("lists each with what is declared, marks the drifting one with its drift, the rest matching at last_verified", async () => {
    const res = await get(URL);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ stack_id: "cms-ecom-prod", last_verified: "2026-01-01T00:05:00.000Z" });
    const rows = body.components.map((c: { kind: string; name: string; matching: boolean }) => [
      c.kind,
      c.name,
      c.matching,
    ]);
    expect(rows).toContainEqual(["resource", "site_bucket", false]);
    expect(rows).toContainEqual(["resource", "site_distribution", true]);
    expect(rows).toContainEqual(["integration", "shopify-products", true]);
    expect(rows).toContainEqual(["provider", "cms", true]);
    const bucket = body.components.find((c: { name: string }) => c.name === "site_bucket");
    expect(bucket.drift_ids).toEqual([DRIFT_ID]);
    const cms = body.components.find((c: { name: string }) => c.name === "cms");
    expect(cms.desired).toBe("sanity");
    // When each was last observed, as of last_verified; a component never observed says null.
    expect(cms.observed_at).toBe("2026-01-01T00:04:30.000Z");
    expect(bucket.observed_at).toBe("2026-01-01T00:03:00.000Z");
    expect(body.components.find((c: { name: string }) => c.name === "site_distribution").observed_at).toBeNull();
    expect(body.consistency_score).toBeCloseTo(6 / 7);
  });

  it("answers 404 to another client's token and for a stack not declared, and 304 while unchanged", async () => {
    expect((await get(URL, OTHER_TOKEN)).statusCode).toBe(404);
    expect((await get("/v1/clients/acme-corp/stacks/nope/components")).statusCode).toBe(404);
    const first = await get(URL);
    const again = await get(URL, ACME_TOKEN, { "if-none-match": String(first.headers.etag) });
    expect(again.statusCode).toBe(304);
  });
});
