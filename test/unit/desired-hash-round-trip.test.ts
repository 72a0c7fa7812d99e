/**
 * A desired state read back from Kafka hashes as the file that declared it: a promotion or a rollback builds its
 * version from the one read back, and `apply` of the same file must then be no change (found adding promotion
 * approval: the Avro record always carries `min_confidence: 0`, the file leaves it out, so re-applying the file after
 * a promotion published prod again).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { desiredStackFromAvro, desiredToAvro, type AvroDesiredState } from "../../src/adapters/kafka/records.js";
import { loadSchemas } from "../../src/adapters/kafka/schemas.js";
import { desiredHash, parseBlackwellYaml } from "../../src/adapters/yaml/parse-blackwell-yaml.js";
import type { DesiredStack } from "../../src/core/model/desired.js";
import { promotionChainYaml } from "../support/promotion-chain.js";

const avro = loadSchemas().get("DesiredState")!;
const example = readFileSync("examples/acme-corp/blackwell.yaml", "utf8");
const chain = (extra: string) => promotionChainYaml({ promotion: ", approval_required: true", extra });

function readBack(declared: DesiredStack): DesiredStack {
  const published = { ...declared, state_version: "v1.0.0", previous_versions: [], applied_at: "x", applied_by: "y" };
  return desiredStackFromAvro(avro.fromBuffer(avro.toBuffer(desiredToAvro(published))) as AvroDesiredState);
}

describe("the desired hash of a version read back from Kafka", () => {
  it.each([
    ["the example", example],
    ["a promotion chain with approval", chain("")],
    ["a policy that sets min_confidence", chain("      policy: {auto_heal: {enabled: true, min_confidence: 0.8}}\n")],
    ["a policy that sets min_confidence to its default", chain("      policy: {auto_heal: {min_confidence: 0}}\n")],
  ])("is the file's, for %s", (_name, text) => {
    for (const declared of parseBlackwellYaml(text, "blackwell.yaml").stacks as DesiredStack[])
      expect(desiredHash(readBack(declared)), declared.stack_id).toBe(declared.desired_hash);
  });

  it("still tells a changed min_confidence apart", () => {
    const [a, b] = ["0.5", "0.8"].map(
      (c) => parseBlackwellYaml(chain(`      policy: {auto_heal: {min_confidence: ${c}}}\n`), "f.yaml").stacks[1]!,
    );
    expect(a!.desired_hash).not.toBe(b!.desired_hash);
  });
});
