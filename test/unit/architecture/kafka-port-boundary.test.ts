import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/** The Kafka port is a boundary the linter enforces: a later move off KafkaJS must be a change of one folder. */
describe("the Kafka port's lint rule", () => {
  const eslint = new ESLint();
  const importing = 'import { Kafka } from "kafkajs";\nexport const client = Kafka;\n';
  const problems = async (filePath: string) =>
    (await eslint.lintText(importing, { filePath }))[0]!.messages.filter((m) => m.ruleId === "no-restricted-imports");

  it("refuses the client library outside src/adapters/kafka", async () => {
    for (const file of [
      "src/runtime/x.ts",
      "src/executor/x.ts",
      "src/api/x.ts",
      "processors/reconciler/x.ts",
      "bench/x.ts",
    ]) {
      const found = await problems(file);
      expect(found, file).toHaveLength(1);
      expect(found[0]!.message).toContain("src/adapters/kafka");
    }
  });

  it("allows it inside src/adapters/kafka", async () => {
    expect(await problems("src/adapters/kafka/x.ts")).toEqual([]);
  });
});
