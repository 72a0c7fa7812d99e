/**
 * Kafka, the registry and moto as containers through testcontainers, from the images docker-compose.yml builds (the
 * same pinned versions as the no-Docker default, on the local base images where Docker Hub is out of reach). Loaded
 * only on the containers paths, so the default run needs no Docker at all.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { freePort } from "../../src/infra/free-port.js";
import { buildStack, defineStack } from "../../src/infra/containers/compose-stack.js";
import { prepareContainers } from "../../src/infra/containers/containers-check.js";

export interface StartedInfra {
  brokers: string;
  registryUrl: string;
  awsEndpoint: string;
  stop: () => Promise<void>;
}

/** The image docker-compose.yml names for `service`. */
export function composeImage(root: string, service: string): string {
  const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true }) as {
    services: Record<string, { image?: string }>;
  };
  const image = compose.services[service]?.image;
  if (!image) throw new Error(`docker-compose.yml has no image for ${service}`);
  return image;
}

/** Makes sure the engine runs and the stack's images exist (a cached rebuild when they do). */
export async function buildImages(root: string, log: (m: string) => void): Promise<void> {
  const images = await prepareContainers(root, log);
  await buildStack(await defineStack(root, "blackwell", images), log);
}

export async function startContainers(root: string): Promise<StartedInfra> {
  // Ryuk, testcontainers' reaper, is an image from Docker Hub; `stop` removes what we start instead.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
  // A local engine publishes on loopback (ours starts dockerd with --ip 127.0.0.1); testcontainers would otherwise
  // guess the bridge's gateway as the host when it believes itself inside a container.
  if (!process.env.DOCKER_HOST) process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";
  const { GenericContainer, Wait } = await import("testcontainers");
  // The broker advertises the host port, so it is mapped one-to-one to a free one.
  const port = await freePort();
  const kafka = await new GenericContainer(composeImage(root, "kafka"))
    .withExposedPorts({ container: 9092, host: port })
    .withEnvironment({ KAFKA_ADVERTISED: `127.0.0.1:${port}`, KAFKA_INTERNAL: "127.0.0.1:19092" })
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(180_000)
    .start();
  const registry = await new GenericContainer(composeImage(root, "registry"))
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(180_000)
    .start();
  const moto = await new GenericContainer(composeImage(root, "moto"))
    .withExposedPorts(5000)
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(180_000)
    .start();
  return {
    brokers: `127.0.0.1:${port}`,
    awsEndpoint: `http://${moto.getHost()}:${moto.getMappedPort(5000)}`,
    registryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
    stop: async () => {
      await moto.stop();
      await registry.stop();
      await kafka.stop();
    },
  };
}
