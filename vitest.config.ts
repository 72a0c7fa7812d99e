import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // Integration tests share one broker; a few at a time keeps a 2-core machine responsive.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", ["junit", { outputFile: "test-results/junit.xml" }], ["json", { outputFile: "test-results/results.json" }]],
  },
});
