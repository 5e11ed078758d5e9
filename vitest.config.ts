import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The Chromium suite needs a system browser: it runs as `npm run test:browser`, so that
    // `npm test` needs nothing but Node and npm.
    exclude: ["test/browser/**", "**/node_modules/**"],
    // Reference comparisons on 10^5-element tensors and the memory-growth test take seconds.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
