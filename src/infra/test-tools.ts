/**
 * Tools the test suite needs beyond Node, Java and Python: promtool (Debian
 * package `prometheus`, pinned by the distribution) for the alert rules.
 * Installed with apt-get when missing and we may; otherwise a clear error.
 */
import { spawnSync } from "node:child_process";

function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

export function ensurePromtool(log: (m: string) => void = () => {}): void {
  if (has("promtool")) return;
  const root = process.getuid?.() === 0;
  if (!root || !has("apt-get")) {
    throw new Error(
      "promtool is not installed; install the Debian package `prometheus` (sudo apt-get install --no-install-recommends prometheus)",
    );
  }
  log("installing promtool (Debian package prometheus)...");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", "prometheus"], { stdio: "inherit", env })
      .status === 0;
  if (!install()) {
    spawnSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
    if (!install()) throw new Error("apt-get install prometheus failed; promtool is needed to check the alert rules");
  }
  // The package may start a server where an init system runs; tests need only the binary.
  spawnSync(
    "sh",
    ["-c", "command -v systemctl >/dev/null && systemctl disable --now prometheus >/dev/null 2>&1 || true"],
    { stdio: "ignore" },
  );
}
