/**
 * Tools the test suite needs beyond Node, Java and Python: promtool for the alert rules and the Prometheus server
 * the dashboards' queries are checked against, both from the Debian package `prometheus` (pinned by the
 * distribution). Installed with apt-get when missing and we may; otherwise a clear error.
 */
import { spawnSync } from "node:child_process";

function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** `binary` from the Debian package `prometheus` (which ships both `prometheus` and `promtool`), for `purpose`. */
function ensurePrometheusPackage(binary: string, purpose: string, log: (m: string) => void): void {
  if (has(binary)) return;
  const root = process.getuid?.() === 0;
  if (!root || !has("apt-get")) {
    throw new Error(
      `${binary} is not installed; install the Debian package \`prometheus\` (sudo apt-get install --no-install-recommends prometheus)`,
    );
  }
  log(`installing ${binary} (Debian package prometheus)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", "prometheus"], { stdio: "inherit", env })
      .status === 0;
  if (!install()) {
    spawnSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
    if (!install()) throw new Error(`apt-get install prometheus failed; ${binary} is needed ${purpose}`);
  }
  // The package may start a server where an init system runs; tests need only the binaries.
  spawnSync(
    "sh",
    ["-c", "command -v systemctl >/dev/null && systemctl disable --now prometheus >/dev/null 2>&1 || true"],
    { stdio: "ignore" },
  );
  if (!has(binary)) throw new Error(`the Debian package prometheus is installed but ${binary} is not on PATH`);
}

export function ensurePromtool(log: (m: string) => void = () => {}): void {
  ensurePrometheusPackage("promtool", "to check the alert rules", log);
}

/** The Prometheus server, for tests that scrape the roles and query what a dashboard shows. */
export function ensurePrometheus(log: (m: string) => void = () => {}): void {
  ensurePrometheusPackage("prometheus", "to check the dashboards' queries against a real server", log);
}

/** Debian's Chromium, for the console's browser test (driven by playwright-core). Nothing downloads a browser. */
export const CHROMIUM = "/usr/bin/chromium";

export function ensureChromium(log: (m: string) => void = () => {}): string {
  if (has(CHROMIUM)) return CHROMIUM;
  const root = process.getuid?.() === 0;
  if (!root || !has("apt-get"))
    throw new Error(`${CHROMIUM} is missing; install the Debian package \`chromium\` (sudo apt-get install chromium)`);
  log("installing chromium (Debian package chromium)...");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", "chromium"], { stdio: "inherit", env })
      .status === 0;
  if (!install()) {
    spawnSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
    if (!install())
      throw new Error("apt-get install chromium failed; Chromium is needed for the console's browser test");
  }
  if (!has(CHROMIUM)) throw new Error(`the Debian package chromium is installed but ${CHROMIUM} is missing`);
  return CHROMIUM;
}
