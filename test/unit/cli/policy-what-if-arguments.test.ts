/** `blackwell policy what-if` refuses what cannot be a what-if before anything connects to Kafka. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT, UsageError, exitCodeFor } from "../../../src/cli/cli-kit.js";
import { policyCommand } from "../../../src/cli/commands/policy.js";

const dir = mkdtempSync(join(tmpdir(), "blackwell-what-if-"));
const bad = join(dir, "bad.yaml");
writeFileSync(bad, "auto_heal:\n  enabled: maybe\n  max_attempts: -1\n");

describe("blackwell policy what-if arguments", () => {
  it.each([
    [["explain"], "explain needs <client> <stack>"],
    [["nope"], "policy needs a subcommand: what-if, fleet show|set, explain"],
    [["fleet", "set"], "policy fleet set needs -f <fleet policy file>"],
    [["fleet", "nope"], "policy fleet needs show or set"],
    [["what-if"], "what-if needs -f <proposed policy file>"],
    [["what-if", "-f", bad, "--stack", "web"], "--stack needs --client"],
    [["what-if", "-f", bad, "--client", "Not An Id"], '--client "Not An Id" is not an id'],
    [["what-if", "-f", bad, "--from", "2026-02-30"], "2026-02-30"],
    [["what-if", "-f", bad, "--from", "1d", "--to", "2d"], "must be before"],
  ])("policy %j is a usage error", async (args, message) => {
    const refused = policyCommand(args);
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow(message);
  });

  it("names every problem of an invalid proposed policy with its line, and exits 3", async () => {
    const err = await policyCommand(["what-if", "-f", bad]).catch((e: unknown) => e);
    expect(exitCodeFor(err)).toBe(EXIT.invalid);
    expect(String(err)).toContain("bad.yaml:2: policy.auto_heal.enabled: must be true or false");

    expect(String(err)).toContain("bad.yaml:3: policy.auto_heal.max_attempts");
  });

  it("exits 3 for a proposed policy file that is not there", async () => {
    const err = await policyCommand(["what-if", "-f", join(dir, "missing.yaml")]).catch((e: unknown) => e);
    expect(exitCodeFor(err)).toBe(EXIT.invalid);
  });
});
