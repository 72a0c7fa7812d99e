/** Runs a role of the product as a real OS process, as an operator would. */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

export interface Child {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Every child still running when the test worker exits is killed, even if its test timed out before its own cleanup. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

export function startProcess(script: string, env: Record<string, string>, args: string[] = []): Child {
  let output = "";
  const proc = spawn(process.execPath, ["--import", "tsx", resolve(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout!.on("data", (d: Buffer) => {
    output += d.toString();
  });
  proc.stderr!.on("data", (d: Buffer) => {
    output += d.toString();
  });
  running.add(proc);
  const exited = new Promise<number | null>((res) =>
    proc.on("exit", (code) => {
      running.delete(proc);
      res(code);
    }),
  );
  return {
    proc,
    output: () => output,
    exited,
    kill: async (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
