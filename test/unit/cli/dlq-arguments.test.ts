/**
 * `blackwell dlq` refuses a selection that cannot match (found trying a fresh clone: `redrive --at zz:yy --dry-run`
 * printed "would re-drive 0 record(s)" and exited 0). These are refused before anything connects to Kafka.
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/cli/cli-kit.js";
import { dlq } from "../../../src/cli/commands/dlq.js";

describe("blackwell dlq arguments", () => {
  it.each([
    [["redrive", "--at", "zz:yy", "--dry-run"], '--at "zz:yy" is not <dlq-partition>:<dlq-offset>'],
    [["redrive", "--at", "0:12", "--at", "zz"], '--at "zz" is not <dlq-partition>:<dlq-offset>'],
    [["list", "--code", "UNDECODABLE"], '--code "UNDECODABLE" is not an error code'],
    [["list", "--limit", "0"], '--limit must be a whole number >= 1, got "0"'],
    [["list", "--limit", "ten"], '--limit must be a whole number >= 1, got "ten"'],
  ])("dlq %j is a usage error", async (args, message) => {
    const refused = dlq(args);
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow(message);
  });
});
