// StrykerJS over src/ (`npm run test:mutation`; slow, not part of `npm test`).
// The tests import src/ directly (vitest compiles the TypeScript), so Stryker's mutants of src/
// reach them with no build step in between: Stryker instruments src/*.ts in its sandbox and
// vitest runs the instrumented files. The sandbox still needs build/ and dist/ (made by the
// pretest:mutation build) for the few tests that read the .wasm file or run the built package
// in a child process; those cannot see a mutant and simply pass. vitest.mutation.config.ts
// says which test files are left out and why. The AssemblyScript kernels are mutated by
// scripts/kernel-mutants.mjs (`npm run test:mutation:kernels`) instead.
//
// Scores: scripts/mutation-score.mjs reads the JSON report and prints the score per file, with
// the equivalent mutants listed in test/mutation/equivalent-mutants.json left out.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts" },
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // src/bindings/wasm.ts is generated (the wasm builds as base64).
  mutate: ["src/**/*.ts", "!src/bindings/wasm.ts"],
  coverageAnalysis: "perTest",
  concurrency: 2,
  timeoutMS: 30_000,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  disableTypeChecks: "{src,test}/**/*.{ts,mts,js,mjs}",
  // bench/ stays in the sandbox: test/optim/spec.test.ts reads its row lists.
  ignorePatterns: ["reports", "*.tgz"],
  thresholds: { high: 95, low: 90, break: null },
};
