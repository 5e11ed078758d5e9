import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Reference comparisons on 10^5-element tensors and the memory-growth test take seconds.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
