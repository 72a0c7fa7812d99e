/**
 * The `containers` project (run when BLACKWELL_CONTAINERS=1, as CI does): its own Kafka, registry and moto as
 * containers through testcontainers, from the images docker-compose.yml builds. It provides them to its tests only and
 * leaves `process.env` to the integration project's set-up.
 */
import { resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { buildImages, startContainers } from "./containers.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = resolve(import.meta.dirname, "../..");
  const log = (m: string) => console.log(`[test containers] ${m}`);
  const t0 = Date.now();
  await buildImages(root, log);
  const started = await startContainers(root);
  log(
    `kafka ${started.brokers}, registry ${started.registryUrl}, moto ${started.awsEndpoint} ready in ${Date.now() - t0} ms`,
  );
  project.provide("kafkaBrokers", started.brokers);
  project.provide("registryUrl", started.registryUrl);
  project.provide("awsEndpoint", started.awsEndpoint);
  return started.stop;
}
