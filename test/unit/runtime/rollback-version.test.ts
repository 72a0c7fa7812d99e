/** Issue 14 item 10: a rollback to the content the stack already holds created a new version with the same content. */
import { describe, expect, it } from "vitest";
import { rollbackVersion } from "../../../src/runtime/rollback.js";
import { desiredStack } from "../../support/core-spec.js";

const v1 = desiredStack({ state_version: "v1.0.0", desired_hash: "h1" });
const v2 = desiredStack({ state_version: "v1.1.0", desired_hash: "h2", previous_versions: ["v1.0.0"] });
const v3 = desiredStack({ state_version: "v1.2.0", desired_hash: "h1", previous_versions: ["v1.1.0", "v1.0.0"] });
const now = new Date("2026-02-01T00:00:00Z");

describe("rollbackVersion", () => {
  it("publishes nothing when the stack already holds the content of that version", () => {
    expect(rollbackVersion(v3, v1, "v1.0.0", "ops", now)).toBeNull();
    expect(rollbackVersion(v2, v2, "v1.1.0", "ops", now)).toBeNull();
  });

  it("makes the old content the next version, saying what it rolled back to", () => {
    expect(rollbackVersion(v2, v1, "v1.0.0", "ops", now)).toMatchObject({
      desired_hash: "h1",
      state_version: "v1.2.0",
      previous_versions: ["v1.1.0", "v1.0.0"],
      applied_by: "ops",
      applied_at: "2026-02-01T00:00:00.000Z",
      source: "rollback to v1.0.0",
    });
  });
});
