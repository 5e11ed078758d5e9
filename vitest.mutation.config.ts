// The vitest configuration StrykerJS runs (`npm run test:mutation`, stryker.config.mjs).
// Tests import src/ directly (vitest compiles the TypeScript), so Stryker's mutants of src/
// reach them without a build. Left out, because they cannot see a mutant of src/ and only
// cost time on every run:
//  - test/runtimes.test.ts: packs dist/ and runs it in Deno, Bun, workerd and Chromium;
//  - test/demo.test.ts and test/no-allocation.test.ts: run dist/ in a child process.
// (The relaxed-SIMD child-process cases inside matmul/batchnorm tests also run dist/; they
// stay, as they are single tests and cover little of src/ in this process.)
import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

export default mergeConfig(base, defineConfig({
  test: {
    exclude: ["test/runtimes.test.ts", "test/demo.test.ts", "test/no-allocation.test.ts", "**/node_modules/**"],
  },
}));
