import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { testConfig } from "../support/kafka-env.js";

const ROOT = resolve(import.meta.dirname, "../..");

describe("the main job (`blackwell demo`, what `make demo` runs)", () => {
  it("detects three drifts, heals them (one after approval), ends with healthy stacks and the API up, and stops on Ctrl-C", async () => {
    const config = testConfig(3);
    const stateDir = mkdtempSync(join(tmpdir(), "blackwell-demo-state-"));
    const child = spawn(process.execPath, [join(ROOT, "bin/blackwell.mjs"), "demo"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        LOG_LEVEL: "error",
        KAFKA_BROKERS: config.brokers.join(","),
        SCHEMA_REGISTRY_URL: config.registryUrl,
        BLACKWELL_TOPIC_PREFIX: config.topicPrefix,
        BLACKWELL_PARTITIONS: "3",
        BLACKWELL_STATE_DIR: stateDir,
        BLACKWELL_API_PORT: "0",
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      const deadline = Date.now() + 150_000;
      while (!stdout.includes("press Ctrl-C") && child.exitCode === null && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect(stdout, stderr).toContain("press Ctrl-C");
      expect(stdout.match(/! drift opened/g)).toHaveLength(3);
      expect(stdout).toMatch(/→ heal command resource\.rebuild for cms-ecom-prod \(attempt 1, by policy\)/);
      expect(stdout).toMatch(/← heal result resource\.rebuild started \(CodeBuild blackwell-acme-site-prod:/);
      expect(stdout).toMatch(/← heal result integration\.configure succeeded/);
      expect(stdout).toMatch(
        /→ heal command provider\.register for cms-ecom-prod \(attempt 1, approved by ops@acme\.example\)/,
      );
      expect(stdout.indexOf("approves re-registering")).toBeLessThan(stdout.indexOf("heal command provider.register"));
      expect(stdout.match(/✓ drift resolved/g)).toHaveLength(3);
      expect(stdout).toMatch(/stack-state acme-corp\/cms-ecom-prod: healthy/);
      expect(stdout).toMatch(/stack-state acme-corp\/cms-ecom-staging: healthy/);
      expect(stderr).not.toMatch(/NodeVersionSupportWarning/);

      // The printed curl line works.
      const curl = /curl -s -H 'Authorization: Bearer (\S+)' (\S+\/drift)/.exec(stdout);
      expect(curl).not.toBeNull();
      // So does the console's address.
      const ui = /console +(\S+\/ui\/)/.exec(stdout);
      expect(ui, stdout).not.toBeNull();
      expect((await fetch(ui![1]!)).status).toBe(200);
      const res = await fetch(curl![2]!, { headers: { authorization: `Bearer ${curl![1]}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { client_id: string; has_drift: boolean; stacks: Record<string, string> };
      expect(body).toMatchObject({
        client_id: "acme-corp",
        has_drift: false,
        stacks: { "cms-ecom-prod": "healthy", "cms-ecom-staging": "healthy" },
      });
      const metrics = await (await fetch(curl![2]!.replace(/\/v1\/.*$/, "/metrics"))).text();
      expect(metrics).toMatch(/^drift_detected_total\{drift_type="resource",severity="high"\} 1$/m);
      expect(metrics).toMatch(/^auto_heal_success_total\{action="resource.rebuild"\} 1$/m);

      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
