import { defineConfig } from "vitest/config";

/** `npm run test:faults`: fault reproductions that do not pass yet (each file says which issue it reproduces). */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    pool: "forks",
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    testTimeout: 300_000,
    hookTimeout: 180_000,
  },
});
