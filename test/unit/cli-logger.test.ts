/**
 * Issue 14 item 13: the `blackwell` command's logger wrote JSON lines to stdout, so `--json` output did not parse
 * (`replay --json` printed 27 log lines first). Its logs go to stderr; the processors' logs stay on stdout.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

function logOnce(to: "stdout" | "stderr"): Promise<{ stdout: string; stderr: string }> {
  const code = `const { createLogger } = await import("./src/observability/logger.ts");
createLogger("blackwell-cli", "info", { to: "${to}" }).warn({ token: "s3cret" }, "a warning");`;
  return new Promise((res, rej) =>
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", code],
      // JSON lines whatever the developer's own BLACKWELL_LOG_FORMAT (the output here is a pipe, never a terminal).
      { cwd: ROOT, env: { ...process.env, BLACKWELL_LOG_FORMAT: "json" } },
      (err, stdout, stderr) => (err ? rej(err) : res({ stdout, stderr })),
    ),
  );
}

describe("createLogger", () => {
  it("writes to stderr when asked (the CLI), leaving stdout to the command's answer", async () => {
    const out = await logOnce("stderr");
    expect(out.stdout).toBe("");
    expect(JSON.parse(out.stderr)).toMatchObject({ msg: "a warning", service: "blackwell-cli", token: "[redacted]" });
  });

  it("writes to stdout by default (the processors)", async () => {
    const out = await logOnce("stdout");
    expect(JSON.parse(out.stdout)).toMatchObject({ msg: "a warning" });
  });
});
