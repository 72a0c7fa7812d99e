/** The `blackwell` command's exit code follows from the catalog entry of the error it failed with. */
import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { EXIT, UsageError, exitCodeFor } from "../../src/cli/cli-kit.js";
import { BlackwellError } from "../../src/errors.js";

const parseArgsError = Object.assign(new TypeError("Unknown option '--nope'"), {
  code: "ERR_PARSE_ARGS_UNKNOWN_OPTION",
});
const bw = (code: ConstructorParameters<typeof BlackwellError>[0]) => new BlackwellError(code, "message");

describe("exitCodeFor", () => {
  it.each([
    ["a usage error", new UsageError("apply needs -f <file>"), EXIT.usage],
    ["parseArgs refusing an option", parseArgsError, EXIT.usage],
    ["bad configuration", bw("BLACKWELL_ERR_CONFIG"), EXIT.usage],
    ["an invalid blackwell.yaml", bw("BLACKWELL_ERR_INVALID_DESIRED_STATE"), EXIT.invalid],
    ["a missing input file", Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" }), EXIT.invalid],
    ["the registry away", bw("BLACKWELL_ERR_REGISTRY_UNAVAILABLE"), EXIT.unavailable],
    ["a raw KafkaJS connection error", new kafkajs.KafkaJSConnectionError("ECONNREFUSED"), EXIT.unavailable],
    ["an unclassified failure of a client library", new Error("fetch failed"), EXIT.unavailable],
  ])("%s exits %i", (_what, err, code) => {
    expect(exitCodeFor(err)).toBe(code);
  });
});
