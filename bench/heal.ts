/**
 * The heal part of the benchmark: resource drifts with auto-heal on, offered
 * at a fixed rate to a live reconciler and executor; measures, per drift, the
 * time from the event's produce to (a) its heal command being readable and
 * (b) the executor's `started` result (CodeBuild StartBuild done, on moto
 * locally), and checks one build per drift.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import * as hdr from "hdr-histogram-js";
import { CodeBuildClient, CreateProjectCommand, ListBuildsForProjectCommand } from "@aws-sdk/client-codebuild";
import "../src/executor/codebuild.js"; // the pinned SDK's Node 22 notice is tracked in our issues, not printed
import { desiredToAvro } from "../src/adapters/kafka/records.js";
import type { DesiredStack } from "../src/core/model/desired.js";
import type { AppContext } from "../src/runtime/app-context.js";

export interface HealFigures {
  drifts: number;
  commands: number;
  started: number;
  builds: number;
  command_p50_ms: number;
  command_p99_ms: number;
  started_p50_ms: number;
  started_p99_ms: number;
  started_max_ms: number;
}

export async function healRun(
  ctx: AppContext,
  options: {
    root: string;
    clients: number;
    rate: number;
    desired: (client: string) => DesiredStack;
    say: (m: string) => void;
    startReconciler: () => { stop: () => Promise<void> };
  },
): Promise<HealFigures> {
  const { root, clients, rate, say } = options;
  const project = `${ctx.config.topicPrefix.replace(/\.$/, "")}-site`;
  const cb = new CodeBuildClient({});
  await cb.send(
    new CreateProjectCommand({
      name: project,
      source: { type: "S3", location: `${project}/src.zip` },
      artifacts: { type: "NO_ARTIFACTS" },
      environment: {
        type: "LINUX_CONTAINER",
        image: "aws/codebuild/standard:7.0",
        computeType: "BUILD_GENERAL1_SMALL",
      },
      serviceRole: "arn:aws:iam::123456789012:role/bench",
    }),
  );
  const names = Array.from({ length: clients }, (_, i) => `heal-${String(i).padStart(5, "0")}`);
  const producer = await ctx.kafka.producer();
  const topicD = ctx.names["desired-state"];
  await producer.send(
    names.map((c) => ({
      topic: topicD,
      key: `${c}/web`,
      value: ctx.serde.encode(topicD, "DesiredState", desiredToAvro({ ...options.desired(c), build_project: project })),
    })),
  );
  const reconciler = options.startReconciler();
  const executor = spawn(
    process.execPath,
    ["--import", join(root, "bin/ts-hooks.mjs"), join(root, "processors/executor/main.ts")],
    {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        ...process.env,
        KAFKA_BROKERS: ctx.config.brokers.join(","),
        SCHEMA_REGISTRY_URL: ctx.config.registryUrl,
        BLACKWELL_TOPIC_PREFIX: ctx.config.topicPrefix,
        BLACKWELL_PARTITIONS: String(ctx.config.partitions),
        BLACKWELL_EXECUTOR_GROUP: `${ctx.config.topicPrefix}executor`,
        // The figure is latency, not guards: budgets and the global breaker high enough never to defer.
        BLACKWELL_BUDGET_CODEBUILD: "100000/min",
        BLACKWELL_BUDGET_CODEBUILD_PER_CLIENT: "1000/min",
        BLACKWELL_GLOBAL_BREAKER_MAX_HEALS: "1000000",
        LOG_LEVEL: "warn",
      },
    },
  );
  const sentAt = new Map<string, number>();
  const toCommand = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
  });
  const toStarted = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
  });
  let commands = 0;
  let started = 0;
  const watched = [ctx.names["heal-commands"], ctx.names["heal-results"]];
  const watcher = ctx.kafka.consumer({
    groupId: `${ctx.config.topicPrefix}heal-watch`,
    topics: watched,
    maxWaitMs: 20,
  });
  let joined!: () => void;
  const hasJoined = new Promise<void>((r) => (joined = r));
  await watcher.start({
    onAssigned: () => joined(),
    eachBatch: async (batch) => {
      const arrived = Date.now();
      for (const message of batch.records) {
        if (!message.value) continue;
        const sent = sentAt.get(message.key?.toString() ?? "");
        if (sent === undefined) continue;
        if (message.topic === ctx.names["heal-commands"]) {
          toCommand.recordValue(Math.max(1, arrived - sent));
          commands++;
        } else {
          const v = await ctx.serde.decode<{ status: string }>("HealResult", message.value);
          if (v.status !== "started") continue;
          toStarted.recordValue(Math.max(1, arrived - sent));
          started++;
        }
      }
    },
  });
  await hasJoined;
  // Let the reconciler read the desired states and the executor join before the clock starts.
  await new Promise((r) => setTimeout(r, 5000));
  say(
    `heal: ${clients} resource drifts with auto-heal at ${rate}/s to a live reconciler and executor (CodeBuild at ${process.env.AWS_ENDPOINT_URL ?? "AWS"})`,
  );
  const topicR = ctx.names["resource-events"];
  const start = Date.now();
  for (let i = 0; i < names.length; i++) {
    const c = names[i]!;
    sentAt.set(c, Date.now());
    await producer.send([
      {
        topic: topicR,
        key: c,
        value: ctx.serde.encode(topicR, "ResourceEvent", {
          event_id: `bench-${c}`,
          client_id: c,
          stack_id: null,
          environment: "prod",
          resource_name: "db",
          resource_arn: null,
          status: "unhealthy",
          source: "bench",
          timestamp: new Date().toISOString(),
          details_json: "{ }",
        }),
      },
    ]);
    const wait = start + ((i + 1) / rate) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const until = Date.now() + 60_000;
  while (started < clients && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  const builds = (await cb.send(new ListBuildsForProjectCommand({ projectName: project }))).ids?.length ?? 0;
  await watcher.stop();
  await producer.disconnect();
  executor.kill("SIGTERM");
  await reconciler.stop();
  cb.destroy();
  return {
    drifts: clients,
    commands,
    started,
    builds,
    command_p50_ms: toCommand.getValueAtPercentile(50),
    command_p99_ms: toCommand.getValueAtPercentile(99),
    started_p50_ms: toStarted.getValueAtPercentile(50),
    started_p99_ms: toStarted.getValueAtPercentile(99),
    started_max_ms: toStarted.maxValue,
  };
}
