/**
 * Issue 16 part 5: logs on a terminal in a compact human form, JSON lines everywhere else. The format is chosen by
 * `BLACKWELL_LOG_FORMAT` and whether the destination is a terminal; redaction applies in both.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { chooseLogFormat, formatLine, formatRecord, useColour } from "../../../src/observability/pretty-log.js";

const ROOT = resolve(import.meta.dirname, "../../..");

/** Logs one warning with a secret in a child process (never a terminal: its output is a pipe). */
function logOnce(to: "stdout" | "stderr", format?: string): Promise<{ stdout: string; stderr: string }> {
  const code = `const { createLogger } = await import("./src/observability/logger.ts");
createLogger("reconciler", "info", { to: "${to}" }).warn({ token: "s3cret", sasl: { password: "pw" }, partition: 3 }, "a warning");`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.BLACKWELL_LOG_FORMAT;
  if (format !== undefined) env.BLACKWELL_LOG_FORMAT = format;
  return new Promise((res, rej) =>
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", code],
      { cwd: ROOT, env },
      (err, stdout, stderr) => (err ? rej(err) : res({ stdout, stderr })),
    ),
  );
}

const LINE =
  /^\d\d:\d\d:\d\d WARN {2}reconciler {2}a warning {2}token=\[redacted\] sasl=\{"password":"\[redacted\]"\} partition=3\n$/;

describe("log format", () => {
  it("is the human form on a terminal and JSON lines elsewhere, unless BLACKWELL_LOG_FORMAT says", () => {
    expect(chooseLogFormat({}, true)).toBe("pretty");
    expect(chooseLogFormat({}, false)).toBe("json");
    expect(chooseLogFormat({ BLACKWELL_LOG_FORMAT: "json" }, true)).toBe("json");
    expect(chooseLogFormat({ BLACKWELL_LOG_FORMAT: "pretty" }, false)).toBe("pretty");
    expect(chooseLogFormat({ BLACKWELL_LOG_FORMAT: "nonsense" }, false)).toBe("json");
  });

  it("has colours on a terminal only, and never with NO_COLOR", () => {
    expect(useColour({}, true)).toBe(true);
    expect(useColour({}, false)).toBe(false);
    expect(useColour({ NO_COLOR: "1" }, true)).toBe(false);
  });

  it("keeps JSON lines when the output is not a terminal", async () => {
    const out = await logOnce("stderr");
    expect(out.stdout).toBe("");
    expect(JSON.parse(out.stderr)).toMatchObject({
      msg: "a warning",
      token: "[redacted]",
      sasl: { password: "[redacted]" },
    });
  });

  it("writes the human form when asked, with secrets still redacted, on stderr and on stdout", async () => {
    const err = await logOnce("stderr", "pretty");
    expect(err.stdout).toBe("");
    expect(err.stderr).toMatch(LINE);
    expect(err.stderr).not.toContain("s3cret");
    expect(err.stderr).not.toContain("\x1b["); // not a terminal: no colours
    const out = await logOnce("stdout", "pretty");
    expect(out.stdout).toMatch(LINE);
    expect(out.stdout).not.toContain("pw");
  });
});

describe("formatRecord", () => {
  const time = new Date(2026, 0, 2, 14, 2, 3).getTime(); // local time, as the line shows it

  it("shows time, level, name, message and the other fields as key=value", () => {
    expect(
      formatRecord({
        level: 40,
        time,
        service: "reconciler",
        name: "reconciler",
        msg: "late record",
        partition: 3,
        topic: "blackwell.provider-events",
        reason: "older than stream time",
        ok: false,
        ids: [1, 2],
      }),
    ).toBe(
      '14:02:03 WARN  reconciler  late record  partition=3 topic=blackwell.provider-events reason="older than stream time" ok=false ids=[1,2]',
    );
  });

  it("shows a serialised error by type and message, its stack below the line", () => {
    const line = formatRecord({
      level: 50,
      time,
      name: "demo",
      msg: "failed",
      err: { type: "Error", message: "boom", stack: "Error: boom\n    at f (x.ts:1:1)" },
    });
    expect(line.split("\n")).toEqual([
      '14:02:03 ERROR demo  failed  err="Error: boom"',
      "    Error: boom",
      "    at f (x.ts:1:1)",
    ]);
  });

  it("colours the level when asked", () => {
    const line = formatRecord({ level: 50, time, name: "demo", msg: "x" }, true);
    expect(line).toContain("\x1b[31mERROR\x1b[0m");
  });

  it("passes a line that is not JSON through", () => {
    expect(formatLine("not json\n")).toBe("not json");
    expect(formatLine('{"level":30,"time":0,"msg":"hi"}\n')).toMatch(/^\d\d:\d\d:\d\d INFO {2}hi$/);
  });
});
