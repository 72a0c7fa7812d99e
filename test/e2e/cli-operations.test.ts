import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desiredToAvro } from "../../src/adapters/kafka/records.js";
import { parseBlackwellYaml } from "../../src/adapters/yaml/parse-blackwell-yaml.js";
import { readFileSync } from "node:fs";
import { blackwell } from "../support/cli.js";
import { createHarness, type Harness } from "../support/reconciler-harness.js";
import { collectTopic, type Collector } from "../support/topic-collector.js";
import { eventually } from "../support/eventually.js";

describe("operator commands of the blackwell CLI, run as a user runs them", () => {
  let h: Harness;
  let env: Record<string, string>;
  let redriven: Collector<Buffer>;

  beforeAll(async () => {
    h = await createHarness(3);
    env = {
      KAFKA_BROKERS: h.config.brokers.join(","),
      SCHEMA_REGISTRY_URL: h.config.registryUrl,
      BLACKWELL_TOPIC_PREFIX: h.config.topicPrefix,
      BLACKWELL_PARTITIONS: "3",
      BLACKWELL_USER: "ops@acme",
    };
    const parsed = parseBlackwellYaml(readFileSync("examples/acme-corp/blackwell.yaml", "utf8"), "blackwell.yaml");
    for (const s of parsed.stacks) {
      await h.produce("desired-state", "DesiredState", `acme-corp/${s.stack_id}`, [
        desiredToAvro({
          ...s,
          state_version: "v1.0.0",
          previous_versions: [],
          applied_at: new Date().toISOString(),
          applied_by: "test",
        }),
      ]);
    }
    await h.startReconciler();
    redriven = await collectTopic(h.ctx.kafka, h.ctx.names["resource-events"], "raw");
  });
  afterAll(async () => {
    await redriven?.stop();
    await h?.close();
  });

  it("produces events from JSON, shows the drift, acknowledges it and keeps history", async () => {
    const event = JSON.stringify({
      client_id: "acme-corp",
      environment: "prod",
      resource_name: "site_bucket",
      status: "deleted",
    });
    const produced = await blackwell(["produce", "resource-events"], env, event);
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stdout).toContain(`produced 1 record(s) to ${h.config.topicPrefix}resource-events`);

    const drift = await eventually(
      "the drift in `blackwell drift`",
      () => blackwell(["drift", "acme-corp", "--json"], env),
      (r) => r.code === 1 && r.stdout.includes("site_bucket"),
    );
    const open = (JSON.parse(drift.stdout) as Array<{ drift_id: string; component: string; observed: string }>).find(
      (d) => d.component === "site_bucket",
    )!;
    expect(open.observed).toBe("deleted");
    const status = await blackwell(["status", "acme-corp"], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/^STACK\s+STATUS\s+DESIRED\s+EVALUATED\s+DRIFTS\s+LAST VERIFIED/);
    expect(status.stdout).toMatch(/acme-corp\/cms-ecom-prod\s+(drift_detected|reconciling)\s+v1\.0\.0/);

    const ack = await blackwell(["ack", "acme-corp", open.drift_id, "--reason", "bucket is being restored"], env);
    expect(ack.code, ack.stdout + ack.stderr).toBe(0);
    expect(ack.stdout).toMatch(/acknowledge drift-[0-9a-f]{24}: done \(drift_acknowledged by ops@acme/);
    const unknown = await blackwell(["ack", "acme-corp", "drift-000000000000000000000000"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("refused: no open drift with this id");
    expect((await blackwell(["ack", "acme-corp", "not-a-drift"], env)).code).toBe(2);

    const history = await blackwell(["history", "acme-corp", "--limit", "4", "--json"], env);
    expect(history.code).toBe(0);
    const events = JSON.parse(history.stdout) as Array<{ action?: string; transition?: string }>;
    expect(events.length).toBeLessThanOrEqual(4);
    expect(events.some((e) => e.action === "drift_acknowledged")).toBe(true);
  });

  // Issue 14 item 9: both said "done" with exit 0 though nothing happened.
  it("says what happened and exits 1 when an operator command did nothing", async () => {
    const drifts = await blackwell(["drift", "acme-corp", "--json"], env);
    const open = (JSON.parse(drifts.stdout) as Array<{ drift_id: string; component: string }>).find(
      (d) => d.component === "site_bucket",
    )!;
    expect((await blackwell(["approve", "acme-corp", open.drift_id, "--false-positive"], env)).code).toBe(2);
    const reject = await blackwell(["reject", "acme-corp", open.drift_id, "--false-positive"], env);
    expect(reject.code, reject.stdout + reject.stderr).toBe(0);
    const approve = await blackwell(["approve", "acme-corp", open.drift_id], env);
    expect(approve.code).toBe(1);
    expect(approve.stdout).toContain("approve " + open.drift_id + ": refused: healing this drift was rejected");
    const stack = await blackwell(["reconcile", "acme-corp", "no-such-stack"], env);
    expect(stack.code).toBe(1);
    expect(stack.stdout).toContain("reconcile no-such-stack: refused: client acme-corp has no stack no-such-stack");
    const client = await blackwell(["reconcile", "nobody-co"], env);
    expect(client.code).toBe(1);
    expect(client.stdout).toContain("reconcile nobody-co: refused: client nobody-co has no stacks");
    const known = await blackwell(["reconcile", "acme-corp", "cms-ecom-prod"], env);
    expect(known.code, known.stdout + known.stderr).toBe(0);
    expect(known.stdout).toContain("reconcile cms-ecom-prod: done");

    // The rejection as a false positive, in the compliance report read from the topics.
    const window = ["--from", "1h", "--to", new Date(Date.now() + 3_600_000).toISOString()];
    const report = await blackwell(["report", "acme-corp", ...window, "--json"], env);
    expect(report.code, report.stderr).toBe(0);
    const kpis = (
      JSON.parse(report.stdout) as {
        clients: Array<{
          client_id: string;
          kpis: {
            false_positives: { rejected_as_false: number };
            manual_interventions: { by_action: Record<string, number> };
          };
        }>;
      }
    ).clients[0]!;
    expect(kpis.client_id).toBe("acme-corp");
    expect(kpis.kpis.false_positives.rejected_as_false).toBe(1);
    expect(kpis.kpis.manual_interventions.by_action.heal_rejected).toBe(1);
    const csv = await blackwell(["report", "acme-corp", ...window, "--format", "csv"], env);
    expect(
      csv.stdout
        .split("\r\n")
        .filter(Boolean)
        .map((l) => l.split(",")[0]),
    ).toEqual(["client_id", "acme-corp", "*"]);
    const md = await blackwell(["report", ...window], env);
    expect(md.stdout).toContain("## Client acme-corp");
    // A mistyped client exited 0 with an empty report; a known client with nothing in the window still gets its own.
    const unknown = await blackwell(["report", "acme-crop", "--json"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toContain('no records of client "acme-crop" in the drift-events and audit topics');
    const quiet = await blackwell(["report", "acme-corp", "--from", "2026-01-01", "--to", "2026-01-02", "--json"], env);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(JSON.parse(quiet.stdout)).toMatchObject({ fleet: { drifts_opened: 0 } });
    expect((await blackwell(["report", "--format", "pdf"], env)).code).toBe(2);
    const backwards = await blackwell(["report", "--from", "2026-01-02", "--to", "2026-01-01"], env);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain("must be before to");
  });

  // Issue 14 item 13: `replay --json` printed log lines and `dlq redrive --json` a KafkaJS warning before the JSON.
  it("prints only JSON on stdout for every command that takes --json, with logs on stderr", async () => {
    const loud = { ...env, LOG_LEVEL: "info" };
    const drifts = await blackwell(["drift", "acme-corp", "--json"], loud);
    const driftId = (JSON.parse(drifts.stdout) as Array<{ drift_id: string }>)[0]!.drift_id;
    const event = JSON.stringify({
      client_id: "acme-corp",
      environment: "prod",
      resource_name: "db",
      status: "healthy",
    });
    const commands: Array<[string[], string?]> = [
      [["apply", "-f", "examples/acme-corp/blackwell.yaml", "--dry-run"]],
      [["status", "acme-corp"]],
      [["drift", "acme-corp"]],
      [["history", "acme-corp", "--limit", "3"]],
      [["report", "acme-corp"]],
      [["ack", "acme-corp", driftId]],
      [["approve", "acme-corp", driftId]],
      [["reject", "acme-corp", driftId]],
      [["pause", "acme-corp", "cms-ecom-staging"]],
      [["resume", "acme-corp", "cms-ecom-staging"]],
      [["reconcile", "acme-corp"]],
      [["rollback", "acme-corp", "cms-ecom-prod", "--to", "v9.9.9"]],
      [["produce", "resource-events"], event],
      [["dlq", "list"]],
      [["dlq", "redrive", "--all", "--dry-run"]],
      [["replay"]],
    ];
    for (const [args, stdin] of commands) {
      const res = await blackwell([...args, "--json"], loud, stdin);
      const what = `blackwell ${args.join(" ")} --json (exit ${res.code})\nstdout: ${res.stdout}\nstderr: ${res.stderr}`;
      expect(() => JSON.parse(res.stdout) as unknown, what).not.toThrow();
      expect(res.code, what).toBeLessThan(4);
    }
  }, 300_000);

  it("refuses invalid events with every problem and produces none of them", async () => {
    const bad = [
      { client_id: "acme-corp", resource_name: "site_bucket", status: "on fire" },
      { resource_name: "x", status: "healthy" },
      { client_id: "acme-corp", resource_name: "site_bucket", status: "healthy" },
    ]
      .map((r) => JSON.stringify(r))
      .join("\n");
    const before = redriven.items.length;
    const res = await blackwell(["produce", "resource-events"], env, bad);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain("nothing produced; 2 invalid record(s)");
    expect(res.stderr).toContain('record 1: status "on fire" is not one of healthy, degraded, unhealthy, deleted');
    expect(res.stderr).toContain("record 2: client_id is required");
    await new Promise((r) => setTimeout(r, 500));
    expect(redriven.items.length).toBe(before);
    expect((await blackwell(["produce", "nope"], env, "{}")).code).toBe(2);
  });

  it("lists dead letters with their reason and re-drives them to their source", async () => {
    const producer = await h.ctx.kafka.producer();
    await producer.send([
      { topic: h.ctx.names["resource-events"], key: "acme-corp", value: Buffer.from("definitely not avro") },
    ]);
    await producer.disconnect();
    const listed = await eventually(
      "the dead letter",
      () => blackwell(["dlq", "list", "--json", "--client", "acme-corp"], env),
      (r) => r.stdout.includes("BLACKWELL_ERR_UNDECODABLE"),
    );
    const letters = JSON.parse(listed.stdout) as Array<{
      dlq: string;
      source_topic: string;
      error_code: string;
      error_message: string;
    }>;
    const letter = letters.find((l) => l.error_code === "BLACKWELL_ERR_UNDECODABLE")!;
    expect(letter.source_topic).toBe(h.ctx.names["resource-events"]);
    const table = await blackwell(["dlq", "list", "--code", "BLACKWELL_ERR_UNDECODABLE"], env);
    expect(table.stdout).toMatch(/^DLQ\s+SOURCE\s+KEY\s+CODE\s+REASON/);
    expect((await blackwell(["dlq", "redrive"], env)).code).toBe(2);
    const unknownSource = await blackwell(["dlq", "list", "--source", "provider-event"], env);
    expect(unknownSource.code).toBe(2);
    expect(unknownSource.stderr).toContain('--source "provider-event" is neither a topic role');
    const dry = await blackwell(["dlq", "redrive", "--at", letter.dlq, "--dry-run"], env);
    expect(dry.stdout).toContain("would re-drive 1 record(s)");
    const redrive = await blackwell(["dlq", "redrive", "--at", letter.dlq], env);
    expect(redrive.code, redrive.stderr).toBe(0);
    expect(redrive.stdout).toContain("re-drove 1 record(s)");
    await redriven.waitFor(
      (i) => i.some((r) => r.headers["blackwell.redriven-from"] === `${h.ctx.names.dlq}:${letter.dlq}`),
      15_000,
      "the re-driven record",
    );
  });
});
