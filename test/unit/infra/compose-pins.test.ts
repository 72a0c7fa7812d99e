/**
 * docker-compose.yml and the Dockerfiles run the versions the no-Docker default pins, and publish only on loopback:
 * a version bumped in one place and not the other would make the two paths test different software.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = resolve(import.meta.dirname, "../../..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const compose = parse(read("docker-compose.yml"), { merge: true }) as {
  services: Record<string, { image?: string; ports?: string[]; build?: { dockerfile?: string } }>;
};
const tag = (service: string) => compose.services[service]?.image?.split(":")[1];

describe("docker-compose.yml", () => {
  it("tags Kafka, the registry and moto with the versions infra/ pins", () => {
    expect(tag("kafka")).toBe(/<kafka\.version>([^<]+)</.exec(read("infra/kafka/pom.xml"))?.[1]);
    expect(tag("registry")).toBe((JSON.parse(read("infra/registry/registry.json")) as { version: string }).version);
    expect(tag("moto")).toBe(/^moto==(\S+)$/m.exec(read("infra/moto/requirements.lock.txt"))?.[1]);
  });

  it("runs every role from the one product image, tagged with the package version", () => {
    const version = (JSON.parse(read("package.json")) as { version: string }).version;
    for (const role of ["init", "reconciler", "executor", "api", "notifier", "integration-api"])
      expect(compose.services[role]?.image, role).toBe(`blackwell/blackwell:${version}`);
  });

  it("publishes ports on 127.0.0.1 only", () => {
    const ports = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(ports.length).toBeGreaterThan(0);
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:/);
  });
});

describe("the product Dockerfile", () => {
  it("defaults to the official Node.js image of the pinned version", () => {
    const pinned = read(".node-version").trim();
    expect(read("Dockerfile")).toContain(`ARG BASE_IMAGE=node:${pinned}-bookworm-slim`);
    expect(read("docker-compose.yml")).toContain(`BLACKWELL_NODE_IMAGE:-node:${pinned}-bookworm-slim`);
  });
});
