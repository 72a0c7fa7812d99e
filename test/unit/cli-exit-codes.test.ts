/** The `blackwell` command's exit code follows from the catalog entry of the error it failed with. */
import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { EXIT, UsageError, exitCodeFor } from "../../src/cli/cli-kit.js";
import { BlackwellError } from "../../src/errors.js";

const parseArgsError = Object.assign(new TypeError("Unknown option '--nope'"), { code: "ERR_PARSE_ARGS_UNKNOWN_OPTION" });

describe("exitCodeFor", () => {
  it.each([
    ["a usage error", new UsageError("apply needs -f <file>"), EXIT.usage],
    ["parseArgs refusing an option", parseArgsError, EXIT.usage],
    ["bad configuration", new BlackwellError("BLACKWELL_ERR_CONFIG", "KAFKA_BROKERS is not set"), EXIT.usage],
    ["an invalid blackwell.yaml", new BlackwellError("BLACKWELL_ERR_INVALID_DESIRED_STATE", "x.yaml is invalid"), EXIT.invalid],
    ["a missing input file", Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" }), EXIT.invalid],
    ["the registry away", new BlackwellError("BLACKWELL_ERR_REGISTRY_UNAVAILABLE", "registry unavailable"), EXIT.unavailable],
    ["a raw KafkaJS connection error", new kafkajs.KafkaJSConnectionError("Connection error: ECONNREFUSED"), EXIT.unavailable],
    ["an unclassified failure of a client library", new Error("fetch failed"), EXIT.unavailable],
  ])("%s exits %i", (_what, err, code) => {
    expect(exitCodeFor(err)).toBe(code);
  });
});
