/** Runs the `blackwell` command as a user does (a child process), with its exit code and both outputs. */
import { execFile } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = resolve(ROOT, "bin/blackwell.mjs");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `env` adds to (and overrides) the test's environment; LOG_LEVEL defaults to error. */
export function blackwell(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> {
  return new Promise((res) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...process.env, LOG_LEVEL: "error", ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    child.stdin!.end(stdin);
  });
}
