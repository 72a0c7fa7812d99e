#!/usr/bin/env node
// The `blackwell` command. Runs the TypeScript sources through ./ts-hooks.mjs, so no build step is needed.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pinned = readFileSync(join(root, ".node-version"), "utf8").trim();
const major = (version) => Number(version.split(".")[0]);

if (major(process.versions.node) !== major(pinned)) {
  // An older (or newer) node on PATH: hand over to the project's pinned runtime when `make setup` installed it.
  const local = join(root, ".blackwell", "tools", `node-${pinned}`, "bin", "node");
  if (!existsSync(local)) {
    process.stderr.write(
      `blackwell needs Node.js ${major(pinned)} (pinned ${pinned} in .node-version); this is ${process.version}.\n` +
        `Run \`make setup\` once (it installs Node.js ${pinned} into .blackwell/tools/), or install Node.js ${major(pinned)}.\n`,
    );
    process.exit(2);
  }
  const child = spawn(local, process.argv.slice(1), { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1)));
} else {
  await import("./ts-hooks.mjs");
  await import("../src/cli/main.ts");
}
