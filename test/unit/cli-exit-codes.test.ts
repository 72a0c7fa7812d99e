/** The `blackwell` command's exit code follows from the catalog entry of the error it failed with. */
import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { EXIT, UsageError, crashMessage, exitCodeFor } from "../../src/cli/cli-kit.js";
import { BlackwellError, ERRORS } from "../../src/errors.js";

const parseArgsError = Object.assign(new TypeError("Unknown option '--nope'"), {
  code: "ERR_PARSE_ARGS_UNKNOWN_OPTION",
});
const bw = (code: ConstructorParameters<typeof BlackwellError>[0]) => new BlackwellError(code, "message");
// What the serde makes of a refused connection to the registry (the registry client reports no HTTP status).
const registryDown = new BlackwellError(
  "BLACKWELL_ERR_REGISTRY_UNAVAILABLE",
  "registering ProviderEvent: schema registry unavailable: connect ECONNREFUSED",
);

describe("exitCodeFor", () => {
  it.each([
    ["a usage error", new UsageError("apply needs -f <file>"), EXIT.usage],
    ["parseArgs refusing an option", parseArgsError, EXIT.usage],
    ["bad configuration", bw("BLACKWELL_ERR_CONFIG"), EXIT.usage],
    ["an invalid blackwell.yaml", bw("BLACKWELL_ERR_INVALID_DESIRED_STATE"), EXIT.invalid],
    ["a missing input file", Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" }), EXIT.invalid],
    ["the registry away", bw("BLACKWELL_ERR_REGISTRY_UNAVAILABLE"), EXIT.unavailable],
    ["a raw KafkaJS connection error", new kafkajs.KafkaJSConnectionError("ECONNREFUSED"), EXIT.unavailable],
    ["a registry that refused the connection", registryDown, EXIT.unavailable],
    ["a Kafka timeout", new kafkajs.KafkaJSRequestTimeoutError("Request Produce(key: 0, version: 7) timed out"), 4],
    // Issue 14 item 14: these exited 4 ("unavailable"), so a script retried a bug; 4 now means Kafka/registry only.
    ["a crash of our own code", new ReferenceError("Cannot access 'policyTimezone' before initialization"), 5],
    ["an unclassified failure of a client library", new Error("fetch failed"), EXIT.internal],
    ["our own internal error", bw("BLACKWELL_ERR_INTERNAL"), EXIT.internal],
  ])("%s exits %i", (_what, err, code) => {
    expect(exitCodeFor(err)).toBe(code);
  });

  it("gives every exit code one meaning: only Kafka and registry outages exit 4", () => {
    const unavailable = Object.entries(ERRORS)
      .filter(([, spec]) => spec.exit === EXIT.unavailable)
      .map(([code]) => code);
    expect(
      unavailable.every((c) => c.startsWith("BLACKWELL_ERR_KAFKA") || c === "BLACKWELL_ERR_REGISTRY_UNAVAILABLE"),
    ).toBe(true);
    expect(EXIT.internal).toBe(5);
  });
});

describe("crashMessage", () => {
  const crash = new TypeError("Cannot destructure property 'a' of 'undefined'");

  it("says in one line which command crashed and why, without a stack trace by default", () => {
    const line = crashMessage("apply", crash, false);
    expect(line.split("\n")).toHaveLength(1);
    expect(line).toBe(
      "blackwell apply: internal error: Cannot destructure property 'a' of 'undefined' (a fault in blackwell; BLACKWELL_DEBUG=1 shows the stack trace)",
    );
  });

  it("adds the stack trace after that line on request", () => {
    const text = crashMessage("apply", crash, true);
    expect(text.split("\n")[0]).toBe("blackwell apply: internal error: Cannot destructure property 'a' of 'undefined'");
    expect(text).toContain("at ");
  });
});
