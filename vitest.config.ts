import { defineConfig } from "vitest/config";

/**
 * Two projects: `unit` needs no broker, registry, moto or promtool, so it runs in seconds
 * (`npm run test:unit`); `integration` starts them once in its global set-up. `npm test` runs
 * both and writes one report, which `.ci/run` counts.
 */
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
    ],
  },
});
