import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { blackwell } from "../support/cli.js";
import { testConfig } from "../support/kafka-env.js";

describe("the blackwell command, run as a user runs it", () => {
  const config = testConfig(3);
  const env = {
    KAFKA_BROKERS: config.brokers.join(","),
    SCHEMA_REGISTRY_URL: config.registryUrl,
    BLACKWELL_TOPIC_PREFIX: config.topicPrefix,
    BLACKWELL_PARTITIONS: "3",
  };

  it("prints help with exit 0 and refuses unknown commands with exit 2", async () => {
    const help = await blackwell(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("apply -f <file>");
    expect((await blackwell(["apply", "--help"])).stdout).toContain("--prune");
    const unknown = await blackwell(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command frobnicate");
    expect((await blackwell(["apply"], env)).code).toBe(2);
    const world = await blackwell(["demo", "--world", "8090"], env);
    expect(world.code).toBe(2);
    expect(world.stderr).toContain("--world needs host:port");
    expect((await blackwell(["demo", "--api-url", "http://127.0.0.1:8080"], env)).code).toBe(2);
  });

  it("refuses an invalid blackwell.yaml with exit 3, naming file, line and field, and publishes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "blackwell-cli-"));
    const file = join(dir, "blackwell.yaml");
    writeFileSync(
      file,
      "apiVersion: blackwell.io/v1\nkind: Composition\nmetadata:\n  client_id: acme\nspec:\n  stacks:\n    - stack_id: web\n      environment: prod\n      providers: {cms: sanity}\n      staleness: {content_grace: later}\n",
    );
    const res = await blackwell(["apply", "-f", file], env);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(`${file}:10: spec.stacks.0.staleness.content_grace: must be a duration`);
    expect((await blackwell(["apply", "-f", join(dir, "missing.yaml")], env)).code).toBe(3);
  });

  it("applies the example (table and --json), then reports no change on a second apply", async () => {
    const first = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml"], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/STACK\s+CHANGE\s+FROM\s+TO/);
    expect(first.stdout).toMatch(/acme-corp\/cms-ecom-prod\s+created\s+-\s+v1\.0\.0/);
    const second = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml", "--json"], env);
    expect(second.code).toBe(0);
    expect((JSON.parse(second.stdout) as { changes: Array<{ change: string }> }).changes.map((c) => c.change)).toEqual([
      "unchanged",
      "unchanged",
    ]);
  });

  it("rolls a stack back to an earlier version, published as the next version", async () => {
    const cfg = testConfig(3);
    const own = { ...env, BLACKWELL_TOPIC_PREFIX: cfg.topicPrefix };
    const dir = mkdtempSync(join(tmpdir(), "blackwell-cli-"));
    const original = readFileSync("examples/acme-corp/blackwell.yaml", "utf8");
    expect((await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml"], own)).code).toBe(0);
    const changed = join(dir, "blackwell.yaml");
    writeFileSync(changed, original.replace("backoff_base: 30s", "backoff_base: 45s"));
    const second = await blackwell(["apply", "-f", changed, "--json"], own);
    expect((JSON.parse(second.stdout) as { changes: Array<{ to: string }> }).changes.map((c) => c.to)).toEqual([
      "v1.1.0",
      "v1.1.0",
    ]);
    const back = await blackwell(["rollback", "acme-corp", "cms-ecom-prod", "--to", "v1.0.0", "--json"], own);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toEqual({
      client_id: "acme-corp",
      stack_id: "cms-ecom-prod",
      from: "v1.1.0",
      to: "v1.2.0",
      content_of: "v1.0.0",
      published: true,
    });
    // Issue 14 item 10: rolling back to the content the stack holds now says so and publishes no version (the list of
    // known versions below proves it: no v1.3.0).
    const same = await blackwell(["rollback", "acme-corp", "cms-ecom-prod", "--to", "v1.0.0"], own);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain("acme-corp/cms-ecom-prod: already at that content (v1.2.0 equals v1.0.0)");
    expect(same.stdout).toContain("nothing published");
    // The prod stack now holds the original content again; staging still holds the change.
    const again = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml", "--json", "--dry-run"], own);
    expect(
      (JSON.parse(again.stdout) as { changes: Array<{ stack_id: string; change: string }> }).changes.map((c) => [
        c.stack_id,
        c.change,
      ]),
    ).toEqual([
      ["cms-ecom-prod", "unchanged"],
      ["cms-ecom-staging", "updated"],
    ]);
    const unknown = await blackwell(["rollback", "acme-corp", "cms-ecom-prod", "--to", "v9.9.9"], own);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain(
      "version v9.9.9 of acme-corp/cms-ecom-prod is not in the desired history (known: v1.0.0, v1.1.0, v1.2.0)",
    );
    expect((await blackwell(["rollback", "acme-corp", "cms-ecom-prod"], own)).code).toBe(2);
  });

  it("exits 4 with a clear message when Kafka is unreachable", async () => {
    const res = await blackwell(["apply", "-f", "examples/acme-corp/blackwell.yaml"], {
      ...env,
      KAFKA_BROKERS: "127.0.0.1:1",
    });
    expect(res.code).toBe(4);
    expect(res.stderr).toMatch(/blackwell apply: .*(ECONNREFUSED|Connection|connect)/i);
  });
});
