/**
 * docker-compose.yml runs the whole product: the stack is built on the local base images, brought up on free loopback
 * ports, and the demo scenario is played against it from this machine through the published ports. What a user of
 * `docker compose up` would see: every service healthy, three drifts opened, healed and resolved, and the API on its
 * published port answering both stacks healthy.
 */
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runContainersCheck, type CheckReport } from "../../src/infra/containers/containers-check.js";

const root = resolve(import.meta.dirname, "../..");

describe("docker compose runs the whole product", () => {
  let report: CheckReport;
  beforeAll(async () => {
    report = await runContainersCheck(root, (m) => console.log(`[containers check] ${m}`));
  });

  it("detects the scenario's three drifts from events published to the containerised Kafka", () => {
    const opened = report.demo.output.match(/! drift opened/g) ?? [];
    expect(opened).toHaveLength(3);
  });

  it("heals them through the executor container: a CodeBuild build on moto and the Integration API", () => {
    expect(report.demo.output).toMatch(/heal result resource\.rebuild succeeded \(CodeBuild /);
    expect(report.demo.output).toMatch(/heal result integration\.configure succeeded/);
    expect(report.demo.output).toMatch(/heal command provider\.register .*approved by ops@acme\.example/);
  });

  it("resolves every drift from observation and ends with both stacks healthy, read through the API's published port", () => {
    expect(report.demo.output.match(/✓ drift resolved/g) ?? []).toHaveLength(3);
    expect(report.stacks.map((s) => `${s.stack_id} ${s.status}`).sort()).toEqual([
      "cms-ecom-prod healthy",
      "cms-ecom-staging healthy",
    ]);
  });
});
