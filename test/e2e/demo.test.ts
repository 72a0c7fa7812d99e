import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { testConfig } from "../support/kafka-env.js";

const BIN = resolve(import.meta.dirname, "../../bin/blackwell.mjs");

describe("the main job (`blackwell demo`, what `make demo` runs)", () => {
  it("detects three drifts, heals them through CodeBuild and the Integration API (one after approval), and ends with healthy stacks", async () => {
    const config = testConfig(3);
    const stateDir = mkdtempSync(join(tmpdir(), "blackwell-demo-state-"));
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, "demo"], {
        env: { ...process.env, LOG_LEVEL: "error", KAFKA_BROKERS: config.brokers.join(","), SCHEMA_REGISTRY_URL: config.registryUrl, BLACKWELL_TOPIC_PREFIX: config.topicPrefix, BLACKWELL_PARTITIONS: "3", BLACKWELL_STATE_DIR: stateDir },
        timeout: 180_000,
      });
      expect(stdout.match(/! drift opened/g)).toHaveLength(3);
      expect(stdout).toMatch(/→ heal command resource\.rebuild for cms-ecom-prod \(attempt 1, by policy\)/);
      expect(stdout).toMatch(/← heal result resource\.rebuild started \(CodeBuild blackwell-acme-site-prod:/);
      expect(stdout).toMatch(/← heal result integration\.configure succeeded/);
      expect(stdout).toMatch(/→ heal command provider\.register for cms-ecom-prod \(attempt 1, approved by ops@acme\.example\)/);
      expect(stdout.indexOf("approves re-registering")).toBeLessThan(stdout.indexOf("heal command provider.register"));
      expect(stdout.match(/✓ drift resolved/g)).toHaveLength(3);
      expect(stdout).toMatch(/stack-state acme-corp\/cms-ecom-prod: healthy/);
      expect(stdout).toMatch(/stack-state acme-corp\/cms-ecom-staging: healthy/);
      expect(stderr).not.toMatch(/NodeVersionSupportWarning/);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
