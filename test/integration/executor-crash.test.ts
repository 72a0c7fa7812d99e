import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { buildsOf, codebuildClient, createBuildProject } from "../support/aws.js";
import { startProcess, type Child } from "../support/child-process.js";
import { healCommandValue } from "../support/events.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";

interface HealResult {
  command_key: string;
  status: string;
  error_message: string | null;
  details_json: string;
}

describe("an executor process killed while acting", () => {
  let h: Harness;
  let cb: CodeBuildClient;
  let results: Collector<HealResult>;
  const children: Child[] = [];

  beforeAll(async () => {
    h = await createHarness(3);
    cb = codebuildClient();
    results = await collectTopic(h.ctx.kafka, h.ctx.names["heal-results"], "HealResult", h.ctx.serde);
  });
  afterAll(async () => {
    for (const c of children) await c.kill("SIGKILL");
    await results?.stop();
    cb?.destroy();
    await h?.close();
  });

  const startExecutorProcess = (fault?: string) => {
    const child = startProcess("processors/executor/main.ts", {
      KAFKA_BROKERS: h.config.brokers.join(","),
      SCHEMA_REGISTRY_URL: h.config.registryUrl,
      BLACKWELL_TOPIC_PREFIX: h.config.topicPrefix,
      BLACKWELL_PARTITIONS: "3",
      BLACKWELL_EXECUTOR_GROUP: `${h.config.topicPrefix}executor`,
      BLACKWELL_SESSION_TIMEOUT_MS: "6000",
      BLACKWELL_BUILD_WATCH_INTERVAL_MS: "200",
      LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? "warn",
      ...(fault ? { BLACKWELL_FAULT: fault } : {}),
    });
    children.push(child);
    return child;
  };

  it("after starting a build but before committing: the restarted executor reports that build and starts no second one", async () => {
    const project = await createBuildProject(cb);
    const cmd = healCommandValue({
      client_id: "crashy",
      action: "resource.rebuild",
      params: { project, resource: "db" },
    });
    const dying = startExecutorProcess("exit-after-effect");
    await h.produce("heal-commands", "HealCommand", "crashy", [cmd]);
    await dying.exited;
    expect(dying.proc.signalCode).toBe("SIGKILL");
    const firstBuilds = await buildsOf(cb, project);
    expect(firstBuilds).toHaveLength(1);
    expect(results.values().filter((r) => r.command_key === cmd.command_key)).toHaveLength(0);

    startExecutorProcess();
    await results.waitFor(
      () => results.values().some((r) => r.command_key === cmd.command_key && r.status === "started"),
      60_000,
      "the started result after restart",
    );
    await new Promise((r) => setTimeout(r, 1000));
    const started = results.values().filter((r) => r.command_key === cmd.command_key && r.status === "started");
    expect(started).toHaveLength(1);
    expect(JSON.parse(started[0]!.details_json).build_id).toBe(firstBuilds[0]);
    expect(await buildsOf(cb, project)).toEqual(firstBuilds);
  });

  it("before acting: the restarted executor does not act on the interrupted command and says the outcome is unknown", async () => {
    for (const c of children) await c.kill("SIGKILL");
    const project = await createBuildProject(cb);
    const cmd = healCommandValue({ client_id: "crashy2", action: "site.rebuild", params: { project } });
    const dying = startExecutorProcess("exit-after-intent");
    await h.produce("heal-commands", "HealCommand", "crashy2", [cmd]);
    await dying.exited;
    startExecutorProcess();
    await results.waitFor(
      () => results.values().some((r) => r.command_key === cmd.command_key),
      60_000,
      "the result after restart",
    );
    expect(results.values().find((r) => r.command_key === cmd.command_key)).toMatchObject({
      status: "failed",
      error_message: expect.stringContaining("outcome unknown"),
    });
    expect(await buildsOf(cb, project)).toHaveLength(0);
  });
});

describe("executors sharing heal-commands, one killed while acting", () => {
  it("a second executor takes the command over, reports the build the first one started, and starts no other", async () => {
    const h = await createHarness(1); // one partition: exactly one executor owns it at a time
    const cb = codebuildClient();
    const results = await collectTopic<HealResult>(h.ctx.kafka, h.ctx.names["heal-results"], "HealResult", h.ctx.serde);
    const children: Child[] = [];
    const start = (fault?: string) => {
      const child = startProcess("processors/executor/main.ts", {
        KAFKA_BROKERS: h.config.brokers.join(","),
        SCHEMA_REGISTRY_URL: h.config.registryUrl,
        BLACKWELL_TOPIC_PREFIX: h.config.topicPrefix,
        BLACKWELL_PARTITIONS: "1",
        BLACKWELL_EXECUTOR_GROUP: `${h.config.topicPrefix}executor`,
        BLACKWELL_SESSION_TIMEOUT_MS: "6000",
        BLACKWELL_BUILD_WATCH_INTERVAL_MS: "200",
        LOG_LEVEL: "info",
        ...(fault ? { BLACKWELL_FAULT: fault } : {}),
      });
      children.push(child);
      return child;
    };
    try {
      const project = await createBuildProject(cb);
      // Both carry the fault: whichever owns the partition acts and dies; the other must take over without acting.
      const a = start("exit-after-effect");
      const b = start("exit-after-effect");
      const deadline = Date.now() + 60_000;
      const started = (c: Child) => c.output().includes('"msg":"executor started"');
      while (!(started(a) && started(b)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1000)); // let the group settle
      const cmd = healCommandValue({ client_id: "shared", action: "site.rebuild", params: { project } });
      await h.produce("heal-commands", "HealCommand", "shared", [cmd]);
      const dead = await Promise.race([a.exited.then(() => a), b.exited.then(() => b)]);
      const survivor = dead === a ? b : a;
      expect(dead.proc.signalCode).toBe("SIGKILL");
      const builds = await buildsOf(cb, project);
      expect(builds).toHaveLength(1);
      await results.waitFor(
        () => results.values().some((r) => r.command_key === cmd.command_key && r.status === "started"),
        60_000,
        "the takeover's result",
      );
      await new Promise((r) => setTimeout(r, 1500));
      expect(
        results
          .values()
          .filter((r) => r.command_key === cmd.command_key && r.status === "started")
          .map((r) => JSON.parse(r.details_json).build_id),
      ).toEqual(builds);
      expect(await buildsOf(cb, project)).toEqual(builds);
      expect(survivor.output()).toContain(
        "heal command's effect was already recorded; reporting it without acting again",
      );
      expect(survivor.proc.exitCode).toBeNull(); // it never acted, so its fault never fired
    } finally {
      for (const c of children) await c.kill("SIGKILL");
      await results.stop();
      cb.destroy();
      await h.close();
    }
  }, 120_000);
});
