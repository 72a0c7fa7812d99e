/**
 * Heal commands on the wire: params stay a JSON string inside Avro, and
 * decoding hands the executor params typed for the command's action, or
 * refuses the record (BLACKWELL_ERR_INVALID_RECORD: it goes to the DLQ) with
 * the problem named.
 */
import { describe, expect, it } from "vitest";
import { healCommandFromAvro, healCommandToAvro } from "../../src/adapters/kafka/records.js";
import type { HealCommandEnvelope, HealCommandOutput } from "../../src/core/model/outputs.js";
import type { HealAction } from "../../src/core/model/vocabulary.js";
import { BlackwellError } from "../../src/errors.js";

const envelope: HealCommandEnvelope = {
  command_key: "heal-1",
  client_id: "acme",
  stack_id: "prod",
  drift_id: "d-1",
  reconciliation_id: "r-1",
  attempt: 1,
  not_before: Date.UTC(2025, 0, 1),
  issued_at: Date.UTC(2025, 0, 1),
  approved_by: null,
};

// A Record over HealAction: a new action without a sample here does not compile.
const SAMPLES: Record<HealAction, HealCommandOutput> = {
  "resource.rebuild": {
    ...envelope,
    action: "resource.rebuild",
    params: { resource: "db", arn: null, project: "site", reason: "db is unhealthy" },
  },
  "site.rebuild": { ...envelope, action: "site.rebuild", params: { project: "site", reason: "content published" } },
  "provider.register": {
    ...envelope,
    action: "provider.register",
    params: { provider_type: "cms", provider_name: "sanity" },
  },
  "integration.configure": {
    ...envelope,
    action: "integration.configure",
    params: { integration: "shopify-products", configuration: { a: 1 } },
  },
  "desired.rollback": {
    ...envelope,
    action: "desired.rollback",
    params: { to_version: "v1.2.0", from_version: "v1.3.0", drifts: ["drift-1"] },
  },
};

const wire = (action: string, params: unknown) => ({
  ...healCommandToAvro(SAMPLES["site.rebuild"]),
  action,
  params_json: JSON.stringify(params),
});

function refusal(value: Record<string, unknown>): string {
  try {
    healCommandFromAvro("acme", value);
  } catch (err) {
    expect(err).toBeInstanceOf(BlackwellError);
    expect((err as BlackwellError).code).toBe("BLACKWELL_ERR_INVALID_RECORD");
    return (err as BlackwellError).message;
  }
  throw new Error("decoded a record that should have been refused");
}

describe("heal commands on the wire", () => {
  it.each(Object.values(SAMPLES))("$action survives encoding and decoding unchanged", (cmd) => {
    const avro = healCommandToAvro(cmd);
    expect(typeof avro.params_json).toBe("string");
    expect(healCommandFromAvro("acme", avro)).toEqual(cmd);
  });

  it("reads absent optional params as null, as commands written by hand or by older reconcilers omit them", () => {
    const cmd = healCommandFromAvro("acme", wire("resource.rebuild", { resource: "db", project: "site" }));
    expect(cmd).toMatchObject({
      action: "resource.rebuild",
      params: { resource: "db", arn: null, project: "site", reason: null },
    });
  });

  it("drops params its action does not declare", () => {
    const cmd = healCommandFromAvro("acme", wire("site.rebuild", { project: "site", extra: true }));
    expect(cmd.params).toEqual({ project: "site", reason: null });
  });

  it("keeps a null configuration: the executor reports the missing integration as a failed heal", () => {
    const cmd = healCommandFromAvro("acme", wire("integration.configure", { integration: "x", configuration: null }));
    expect(cmd.params).toEqual({ integration: "x", configuration: null });
  });

  it.each([
    ["site.rebuild", {}, "params_json.project must be a non-empty string for site.rebuild, got null"],
    ["site.rebuild", { project: "" }, "params_json.project must be a non-empty string for site.rebuild"],
    [
      "resource.rebuild",
      { resource: "db", arn: 42 },
      "params_json.arn must be a non-empty string for resource.rebuild, got 42",
    ],
    [
      "provider.register",
      { provider_type: "cms" },
      "params_json.provider_name must be a non-empty string for provider.register",
    ],
    ["integration.configure", { integration: "x" }, "params_json.configuration is required for integration.configure"],
    [
      "site.destroy",
      { project: "site" },
      'action "site.destroy" is not one of resource.rebuild, site.rebuild, provider.register',
    ],
  ])("refuses %s with params %j, naming the problem", (action, params, message) => {
    expect(refusal(wire(action, params))).toContain(message);
  });

  it("refuses params that are not a JSON object", () => {
    expect(refusal({ ...wire("site.rebuild", {}), params_json: "[1,2]" })).toBe("params_json must be a JSON object");
  });
});
