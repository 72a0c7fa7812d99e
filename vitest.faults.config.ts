import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

/** `npm run test:faults`: fault reproductions that are not yet passing (see the issue each file names). */
export default mergeConfig(base, defineConfig({ test: { include: ["test/faults/**/*.test.ts"], exclude: ["**/node_modules/**"], reporters: ["default"] } }));
