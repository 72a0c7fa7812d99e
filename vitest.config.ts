import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

/**
 * Two projects: `unit` needs no broker, registry, moto or promtool, so it runs in seconds
 * (`npm run test:unit`); `integration` starts them once in its global set-up. `npm test` runs
 * both and writes one report, which `.ci/run` counts.
 *
 * With `BLACKWELL_CONTAINERS=1` (CI sets it after `npm run containers -- setup`), a third project,
 * `containers`, runs last: the compose stack checked end to end (test/containers), and integration
 * suites again against Kafka, the registry and moto started by testcontainers from the same images.
 */
const CONTAINER_SUITES = [
  "test/integration/reconciler-e2e.test.ts",
  "test/integration/schemas-registry.test.ts",
  "test/integration/api.test.ts",
];
const containers: TestProjectInlineConfiguration[] =
  process.env.BLACKWELL_CONTAINERS === "1"
    ? [
        {
          extends: true,
          test: {
            name: "containers",
            include: ["test/containers/**/*.test.ts", ...CONTAINER_SUITES],
            globalSetup: ["test/support/global-setup-containers.ts"],
            setupFiles: ["test/support/no-runtime-warnings.ts"],
            testTimeout: 60_000,
            // The compose check builds (cached) and starts the whole stack in its set-up.
            hookTimeout: 1_200_000,
            sequence: { groupOrder: 2 },
          },
        },
      ]
    : [];

export default defineConfig({
  test: {
    // Integration tests share one broker; a few at a time keeps a 2-core machine responsive.
    // The limit is global: projects cannot set their own fork counts.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: [
      "default",
      ["junit", { outputFile: "test-results/junit.xml" }],
      ["json", { outputFile: "test-results/results.json" }],
    ],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Some unit tests start a role as a child process; tsx start-up on a loaded machine takes seconds.
          testTimeout: 60_000,
          // Runs first: a broken core shows in seconds, before the broker has even started.
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          setupFiles: ["test/support/no-runtime-warnings.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
      ...containers,
    ],
  },
});
