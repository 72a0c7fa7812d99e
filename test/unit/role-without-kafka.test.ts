/**
 * A deployed role with no Kafka configured stops at once and says how to get one. It used to start a
 * local Kafka through Maven and write fake AWS credentials into its environment, which hid a missing
 * KAFKA_BROKERS in production behind a private, empty broker.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
// Where a local Kafka would be started (BLACKWELL_HOME): it must never appear.
const scratch = mkdtempSync(join(tmpdir(), "blackwell-no-kafka-"));
const localHome = join(scratch, "local");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Exit {
  code: number | null;
  output: string;
  ms: number;
}

/** Runs `args` with node and nothing of the caller's environment but PATH (so Maven and java could be found). */
function runClean(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  const t0 = Date.now();
  return new Promise((res) => {
    execFile(
      process.execPath,
      args,
      {
        cwd: ROOT,
        timeout: 60_000,
        killSignal: "SIGKILL",
        env: { PATH: process.env.PATH ?? "", BLACKWELL_HOME: localHome, LOG_LEVEL: "error", ...env },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        res({ code, output: stdout + stderr, ms: Date.now() - t0 });
      },
    );
  });
}

function expectStoppedForMissingKafka(run: Exit): void {
  expect(run.output).toContain("KAFKA_BROKERS and SCHEMA_REGISTRY_URL are not set");
  expect(run.output).toContain("`blackwell demo`");
  expect(run.output).toContain("`blackwell up`");
  expect(run.output).not.toMatch(/using the local Kafka/);
  // Starting a Kafka takes tens of seconds; refusing takes the time to load the code.
  expect(run.ms).toBeLessThan(30_000);
  expect(existsSync(localHome)).toBe(false);
}

// Each case is a child process that mostly waits for tsx to load the code: run them side by side.
describe.concurrent("a deployed role without KAFKA_BROKERS", () => {
  // Every main.ts has the same guard; the reconciler and the API (which also needs tokens) stand for all four,
  // and test/unit/config covers each role's reader.
  it.each(["reconciler", "api"])(
    "processors/%s/main.ts exits 1 at once, starting no Kafka",
    async (role) => {
      const env: Record<string, string> = role === "api" ? { BLACKWELL_API_TOKENS: "ops@*:0123456789abcdef0123" } : {};
      const run = await runClean(["--import", "tsx", `processors/${role}/main.ts`], env);
      expect(run.code, run.output).toBe(1);
      expect(run.output).toMatch(new RegExp(`^blackwell ${role}: `));
      expect(run.output).not.toMatch(/\n\s+at /); // a message for an operator, not a stack trace
      expectStoppedForMissingKafka(run);
    },
    60_000,
  );

  it("`blackwell run all` exits 2 (configuration) before starting any role", async () => {
    const run = await runClean(["bin/blackwell.mjs", "run", "all"], {
      BLACKWELL_API_TOKENS: "ops@*:0123456789abcdef0123",
    });
    expect(run.code, run.output).toBe(2);
    expectStoppedForMissingKafka(run);
  }, 60_000);

  it("`blackwell run api` with Kafka set but a bad port names BLACKWELL_API_PORT and connects to nothing", async () => {
    const run = await runClean(["bin/blackwell.mjs", "run", "api"], {
      // Nothing listens on port 1: a role that tried to connect would fail differently and later.
      KAFKA_BROKERS: "127.0.0.1:1",
      SCHEMA_REGISTRY_URL: "http://127.0.0.1:1",
      BLACKWELL_API_TOKENS: "ops@*:0123456789abcdef0123",
      BLACKWELL_API_PORT: "http",
    });
    expect(run.code, run.output).toBe(2);
    expect(run.output).toContain('BLACKWELL_API_PORT must be a port number 0-65535 (got "http")');
    expect(run.output).not.toMatch(/ECONNREFUSED|Connection error/i);
  }, 60_000);
});
