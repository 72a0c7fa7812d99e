/**
 * `npm run infra:up|infra:down|infra:setup` — local Kafka + schema registry
 * without Docker. Prints the environment to export on `up`.
 */
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import { defaultStateDir } from "../src/config/reconciler-config.js";
import {
  defaultInfraDir,
  ensureArtifacts,
  purgeStateDir,
  startLocalInfra,
  stopLocalInfra,
} from "../src/infra/local-infra.js";
import { localAwsEnv } from "../src/infra/connect.js";
import { ensurePromtool } from "../src/infra/test-tools.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const log = (m: string) => console.error(`[infra] ${m}`);
const command = process.argv[2];

switch (command) {
  case "setup":
    await ensureArtifacts(root, log);
    ensurePromtool(log);
    log("artifacts ready");
    break;
  case "up": {
    const started = Date.now();
    const info = await startLocalInfra({ root, log });
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s (state in ${info.dir})`);
    console.log(`export KAFKA_BROKERS=${info.brokers}`);
    console.log(`export SCHEMA_REGISTRY_URL=${info.registryUrl}`);
    for (const [k, v] of Object.entries(localAwsEnv(info.awsEndpoint))) console.log(`export ${k}=${v}`);
    break;
  }
  case "down": {
    const purge = process.argv.includes("--purge");
    const stopped = await stopLocalInfra(defaultInfraDir(root), purge);
    // Purge means all local state, the roles' stores too (as `blackwell down --purge`).
    if (purge) purgeStateDir(process.env.BLACKWELL_STATE_DIR ?? defaultStateDir(), root);
    log(`${stopped ? "stopped" : "nothing was running"}${purge ? "; local state purged" : ""}`);
    break;
  }
  default:
    console.error("usage: infra.ts setup | up | down [--purge]");
    process.exit(2);
}
