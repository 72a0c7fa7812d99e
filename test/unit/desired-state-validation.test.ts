/**
 * One validation of a desired state, whichever way it comes in. Issue 14 item 5: a DesiredState record
 * produced straight to Kafka with `ignore_paths: ["foo"]` passed the Avro decoder (only the YAML parser
 * checked pointers), `decide` threw on it and the partition retried forever.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { desiredToAvro, toInput } from "../../src/adapters/kafka/records.js";
import { loadSchemas } from "../../src/adapters/kafka/schemas.js";
import { parseBlackwellYaml } from "../../src/adapters/yaml/parse-blackwell-yaml.js";
import type { DesiredStack } from "../../src/core/model/desired.js";
import { BlackwellError } from "../../src/errors.js";

const EXAMPLE = readFileSync("examples/acme-corp/blackwell.yaml", "utf8");
const avro = loadSchemas().get("DesiredState")!;

/** The example's production stack as `apply` publishes it, changed by `change`, through the Avro wire format. */
function record(change: (d: DesiredStack) => void = () => {}) {
  const declared = parseBlackwellYaml(EXAMPLE, "blackwell.yaml").stacks[0]!;
  const desired: DesiredStack = {
    ...declared,
    state_version: "v1.0.0",
    previous_versions: [],
    applied_at: "2026-01-01T00:00:00.000Z",
    applied_by: "test",
  };
  change(desired);
  const value = avro.fromBuffer(avro.toBuffer(desiredToAvro(desired))) as Record<string, unknown>;
  return { key: `${desired.client_id}/${desired.stack_id}`, value };
}

function decodeError(r: { key: string; value: Record<string, unknown> }): BlackwellError {
  try {
    toInput("desired-state", r.key, r.value as never, Date.parse("2026-01-01T00:00:01Z"));
  } catch (err) {
    expect(err).toBeInstanceOf(BlackwellError);
    return err as BlackwellError;
  }
  throw new Error("expected the record to be refused");
}

describe("desired-state records are validated like blackwell.yaml", () => {
  it("decodes a valid desired state", () => {
    const { key, value } = record();
    const input = toInput("desired-state", key, value as never, Date.parse("2026-01-01T00:00:01Z"));
    expect(input).toMatchObject({ kind: "DesiredStateApplied", desired: { stack_id: "cms-ecom-prod" } });
  });

  it("accepts a record without providers or with content but no build project, which only blackwell.yaml refuses", () => {
    // Records accepted once must stay accepted: a replay of older history decides as live did.
    const { key, value } = record((d) => {
      d.providers = { cms: null, ecommerce: null, ssg: null };
      d.build_project = null;
    });
    const input = toInput("desired-state", key, value as never, Date.parse("2026-01-01T00:00:01Z"));
    expect(input).toMatchObject({ kind: "DesiredStateApplied", desired: { providers: { cms: null } } });
  });

  it("refuses an integration ignore path that is not a JSON pointer as an invalid record (DLQ), naming it", () => {
    const err = decodeError(record((d) => (d.integrations[0]!.ignore_paths = ["foo"])));
    expect(err.code).toBe("BLACKWELL_ERR_INVALID_RECORD");
    expect(err.message).toContain(
      'integrations.shopify-products.ignore_paths.0: JSON pointer "foo" must start with "/"',
    );
  });

  it("refuses a resource ignore path, an unknown drift kind and a zero backoff the same way", () => {
    const err = decodeError(
      record((d) => {
        d.resources[0]!.ignore_paths = ["nope"];
        d.policy.auto_heal.require_approval = ["everything"];
        d.policy.auto_heal.backoff_base_seconds = 0;
      }),
    );
    expect(err.code).toBe("BLACKWELL_ERR_INVALID_RECORD");
    expect(err.message).toContain("resources.content_cache_table.ignore_paths.0");
    expect(err.message).toContain('policy.auto_heal.require_approval.0: "everything"');
    expect(err.message).toContain("policy.auto_heal.backoff_base_seconds");
  });

  it("applies the same rules to blackwell.yaml: a resource ignore path must be a JSON pointer", () => {
    const text = EXAMPLE.replace(
      'site_bucket: "arn:aws:s3:::acme-site-prod"',
      'site_bucket: {arn: "arn:aws:s3:::acme-site-prod", ignore: ["tags"]}',
    );
    expect(text).not.toBe(EXAMPLE);
    expect(() => parseBlackwellYaml(text, "b.yaml")).toThrow(
      /spec\.stacks\.0\.resources\.site_bucket\.ignore_paths\.0: JSON pointer "tags" must start with "\/"/,
    );
  });
});
