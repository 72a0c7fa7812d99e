/**
 * One Kafka broker and one schema registry per test run:
 * - `KAFKA_BROKERS` + `SCHEMA_REGISTRY_URL` + `AWS_ENDPOINT_URL` (moto) set: use them;
 * - `BLACKWELL_TEST_CONTAINERS=1`: testcontainers, from the images docker-compose.yml builds;
 * - otherwise: start the local no-Docker pair in a temporary directory
 *   (never the developer's own `.blackwell/local`) and stop it afterwards.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalInfra, stopLocalInfra } from "../../src/infra/local-infra.js";
import { buildImages, startContainers } from "./containers.js";
import { localAwsEnv } from "../../src/infra/connect.js";
import { ensureChromium, ensurePromtool } from "../../src/infra/test-tools.js";

declare module "vitest" {
  export interface ProvidedContext {
    kafkaBrokers: string;
    registryUrl: string;
    awsEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = resolve(import.meta.dirname, "../..");
  ensurePromtool((m) => console.log(`[test tools] ${m}`));
  // Installed here, outside any test's timeout: the console's browser test (test/e2e/console.test.ts) drives it.
  ensureChromium((m) => console.log(`[test tools] ${m}`));
  let teardown = async () => {};
  let brokers = process.env.KAFKA_BROKERS;
  let registryUrl = process.env.SCHEMA_REGISTRY_URL;
  let awsEndpoint = process.env.AWS_ENDPOINT_URL;
  if (!brokers || !registryUrl || !awsEndpoint) {
    if (process.env.BLACKWELL_TEST_CONTAINERS === "1") {
      await buildImages(root, (m) => console.log(`[test containers] ${m}`));
      const started = await startContainers(root);
      brokers = started.brokers;
      registryUrl = started.registryUrl;
      awsEndpoint = started.awsEndpoint;
      teardown = started.stop;
    } else {
      const dir = mkdtempSync(join(tmpdir(), "blackwell-test-infra-"));
      const t0 = Date.now();
      const info = await startLocalInfra({ root, dir, log: (m) => console.log(`[test infra] ${m}`) });
      console.log(
        `[test infra] kafka ${info.brokers}, registry ${info.registryUrl}, moto ${info.awsEndpoint} ready in ${Date.now() - t0} ms`,
      );
      brokers = info.brokers;
      registryUrl = info.registryUrl;
      awsEndpoint = info.awsEndpoint;
      teardown = async () => {
        await stopLocalInfra(dir);
        rmSync(dir, { recursive: true, force: true });
      };
    }
  }
  process.env.KAFKA_BROKERS = brokers;
  process.env.SCHEMA_REGISTRY_URL = registryUrl;
  Object.assign(process.env, localAwsEnv(awsEndpoint));
  project.provide("kafkaBrokers", brokers);
  project.provide("registryUrl", registryUrl);
  project.provide("awsEndpoint", awsEndpoint);
  return teardown;
}
