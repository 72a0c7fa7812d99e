import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseBlackwellYaml } from "../../src/adapters/yaml/parse-blackwell-yaml.js";
import { BlackwellError } from "../../src/errors.js";

const EXAMPLE = readFileSync("examples/acme-corp/blackwell.yaml", "utf8");

function problems(text: string) {
  try {
    parseBlackwellYaml(text, "bad.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(BlackwellError);
    expect((err as BlackwellError).code).toBe("BLACKWELL_ERR_INVALID_DESIRED_STATE");
    return {
      message: (err as Error).message,
      list: (err as unknown as { problems: Array<{ line: number; path: string; message: string }> }).problems,
    };
  }
  throw new Error("expected the file to be refused");
}

describe("blackwell.yaml", () => {
  it("parses the shipped example into two stacks with defaults applied and overrides kept", () => {
    const parsed = parseBlackwellYaml(EXAMPLE, "examples/acme-corp/blackwell.yaml");
    expect(parsed.client_id).toBe("acme-corp");
    const [prod, staging] = parsed.stacks;
    expect(prod).toMatchObject({
      stack_id: "cms-ecom-prod",
      environment: "prod",
      build_project: "blackwell-acme-site-prod",
      providers: { cms: "sanity", ecommerce: "shopify", ssg: "codebuild" },
      content_types: ["product", "page", "collection"],
      staleness: {
        provider_silence_seconds: 900,
        resource_ttl_seconds: 600,
        content_grace_seconds: 300,
        webhook_failure_threshold: 3,
      },
    });
    expect(prod!.resources.map((r) => r.name)).toEqual(["content_cache_table", "site_distribution", "site_bucket"]);
    expect(prod!.integrations.find((i) => i.name === "shopify-products")!.ignore_paths).toEqual(["/signing_secret"]);
    expect(prod!.policy.auto_heal).toMatchObject({
      enabled: true,
      max_attempts: 3,
      backoff_strategy: "exponential",
      backoff_base_seconds: 30,
      backoff_cap_seconds: 900,
    });
    expect(prod!.policy.notifications.channels.map((c) => [c.type, c.severity_threshold])).toEqual([
      ["slack", "medium"],
      ["email", "high"],
    ]);
    expect(staging!.staleness).toEqual({
      provider_silence_seconds: 3600,
      resource_ttl_seconds: 1800,
      content_grace_seconds: 900,
      webhook_failure_threshold: 3,
    });
    expect(prod!.desired_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(prod!.desired_hash).not.toBe(staging!.desired_hash);
  });

  it("hashes the canonical form: key order and formatting do not change desired_hash", () => {
    const a = parseBlackwellYaml(EXAMPLE, "a.yaml").stacks[0]!.desired_hash;
    const reordered = EXAMPLE.replace(
      '            format: json\n            api_version: "2026-10"\n          # Shopify',
      '            api_version: "2026-10"\n            format: json\n          # Shopify',
    );
    expect(reordered).not.toBe(EXAMPLE);
    expect(parseBlackwellYaml(reordered, "b.yaml").stacks[0]!.desired_hash).toBe(a);
    const changed = EXAMPLE.replace("format: json", "format: xml");
    expect(parseBlackwellYaml(changed, "c.yaml").stacks[0]!.desired_hash).not.toBe(a);
  });

  it("names the file, line and field of every problem at once", () => {
    const { message, list } = problems(
      [
        "apiVersion: blackwell.io/v1", // 1
        "kind: Composition", // 2
        "metadata:", // 3
        "  client_id: Acme/Corp", // 4
        "spec:", // 5
        "  stacks:", // 6
        "    - stack_id: web", // 7
        "      environment: prod", // 8
        "      providers: {cms: sanity, crm: hubspot}", // 9
        "      staleness: {provider_silence: soon}", // 10
        "      resources:", // 11
        "        db: not-an-arn", // 12
        "      policy:", // 13
        "        auto_heal:", // 14
        "          backoff_strategy: random", // 15
        "          allowed_drift_types: [provider_missing, everything]", // 16
      ].join("\n"),
    );
    expect(list.map((p) => [p.line, p.path])).toEqual([
      [4, "metadata.client_id"],
      [9, "spec.stacks.0.providers.crm"],
      [10, "spec.stacks.0.staleness.provider_silence"],
      [12, "spec.stacks.0.resources.db"],
      [15, "spec.stacks.0.policy.auto_heal.backoff_strategy"],
      [16, "spec.stacks.0.policy.auto_heal.allowed_drift_types.1"],
    ]);
    expect(message).toContain(
      'bad.yaml:10: spec.stacks.0.staleness.provider_silence: must be a duration like 30s, 15m or 2h, got "soon"',
    );
  });

  it("refuses YAML syntax errors with their line", () => {
    const { list } = problems("apiVersion: blackwell.io/v1\nkind: [Composition\nmetadata: {}\n");
    expect(list[0]!.path).toBe("(syntax)");
    expect(list[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it("refuses duplicate stacks, a missing provider set, and tracked content without a build project", () => {
    const { list } = problems(
      [
        "apiVersion: blackwell.io/v1",
        "kind: Composition",
        "metadata: {client_id: acme}",
        "spec:",
        "  stacks:",
        "    - {stack_id: web, environment: prod, content_types: [page]}",
        "    - {stack_id: web, environment: staging, providers: {cms: sanity}}",
      ].join("\n"),
    );
    expect(list.map((p) => p.message)).toEqual(
      expect.arrayContaining([
        "declare at least one provider (cms, ecommerce or ssg)",
        "tracking content needs a build_project that builds the site",
        "duplicate stack_id web",
      ]),
    );
  });

  it("refuses an unknown top-level field instead of ignoring a typo", () => {
    const { list } = problems(EXAMPLE.replace("spec:\n", "sepc: {}\nspec:\n"));
    expect(list.map((p) => p.path)).toContain("sepc");
  });

  it("reads auto_heal.min_confidence, refuses one outside 0..1, and leaves the hash alone when it is not declared", () => {
    const declared = (value: string) =>
      EXAMPLE.replace(
        "        content_quiet_period: 2m\n",
        `        content_quiet_period: 2m\n        min_confidence: ${value}\n`,
      );
    expect(declared("0.9")).toContain("min_confidence: 0.9");
    const [prod] = parseBlackwellYaml(declared("0.9"), "c.yaml").stacks;
    expect(prod!.policy.auto_heal.min_confidence).toBe(0.9);
    const [plain] = parseBlackwellYaml(EXAMPLE, "c.yaml").stacks;
    expect(plain!.policy.auto_heal).not.toHaveProperty("min_confidence");
    expect(prod!.desired_hash).not.toBe(plain!.desired_hash);
    for (const bad of ["1.5", "-0.1", "high"]) {
      const { list } = problems(declared(bad));
      expect(list).toContainEqual(
        expect.objectContaining({
          path: expect.stringContaining("auto_heal.min_confidence"),
          message: expect.stringContaining("must be a number from 0 to 1"),
        }),
      );
    }
  });

  it("reads auto_heal.preempt, and refuses one without a confidence or a drift kind", () => {
    const declared = (block: string) =>
      EXAMPLE.replace("        content_quiet_period: 2m\n", `        content_quiet_period: 2m\n${block}`);
    const [prod] = parseBlackwellYaml(
      declared("        preempt: {min_confidence: 0.8, drift_types: [site_stale]}\n"),
      "p.yaml",
    ).stacks;
    expect(prod!.policy.auto_heal.preempt).toEqual({ min_confidence: 0.8, drift_types: ["site_stale"] });
    const { list } = problems(declared("        preempt: {drift_types: [site_stal]}\n"));
    expect(list.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        expect.stringContaining("auto_heal.preempt.min_confidence"),
        expect.stringContaining("auto_heal.preempt.drift_types"),
      ]),
    );
  });

  // Issue 14 item 6: "Cannot access 'policyTimezone' before initialization" when a window had no timezone.
  it("puts a heal window without a timezone in UTC, whatever the schedule's zone", () => {
    const text = EXAMPLE.replace(
      "        content_quiet_period: 2m\n",
      "        content_quiet_period: 2m\n        windows:\n          - {action: deny, start: '22:00', end: '06:00'}\n",
    ).replace("        timezone: UTC\n", "        timezone: Europe/Berlin\n");
    expect(text).toContain("windows:");
    const [prod] = parseBlackwellYaml(text, "w.yaml").stacks;
    expect(prod!.policy.schedule.timezone).toBe("Europe/Berlin");
    expect(prod!.policy.auto_heal.windows).toEqual([
      {
        action: "deny",
        days: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
        start: "22:00",
        end: "06:00",
        timezone: "UTC",
        drift_types: [],
      },
    ]);
  });

  // Issue 14 item 7: `config: *cfg` became {"source":"cfg"} and an alias of a scalar was refused.
  it("resolves anchors and aliases, of mappings and of scalars", () => {
    const text = [
      "apiVersion: blackwell.io/v1",
      "kind: Composition",
      "metadata: {client_id: acme}",
      "spec:",
      "  stacks:",
      "    - stack_id: web",
      "      environment: &env prod",
      "      providers: {cms: sanity}",
      "      integrations:",
      "        one: {config: &cfg {url: 'https://a.example', topics: [x, y]}}",
      "        two: {config: *cfg, ignore: ['/url']}",
      "    - stack_id: web-2",
      "      environment: *env",
      "      providers: {cms: sanity}",
    ].join("\n");
    const [web, web2] = parseBlackwellYaml(text, "a.yaml").stacks;
    const config = { url: "https://a.example", topics: ["x", "y"] };
    expect(web!.integrations).toEqual([
      { name: "one", config, ignore_paths: [] },
      { name: "two", config, ignore_paths: ["/url"] },
    ]);
    expect(web2!.environment).toBe("prod");
  });

  it("refuses an alias bomb by the size it expands to, with a clear message", () => {
    const levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++)
      levels.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(", ")}]`,
      );
    // 10^9 nodes if expanded: refused by counting, so the test's own timeout would catch an expansion.
    const text = `apiVersion: blackwell.io/v1\n${levels.join("\n")}\n`;
    const { message } = problems(text);
    expect(message).toContain("expands to more than 100000 nodes");
  });

  it("refuses a file larger than the size cap before parsing it", () => {
    const { message } = problems(`# ${"x".repeat(1024 * 1024)}\n${EXAMPLE}`);
    expect(message).toMatch(/more than the limit of 1048576 bytes/);
  });
});
