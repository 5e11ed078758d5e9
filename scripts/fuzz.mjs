// `npm run test:fuzz`: the property-based tests (test/property/) with many more cases than
// `npm test` runs — 10^5 in all by default, or SIMDOPT_FUZZ_RUNS — and a fresh random seed each
// time (fast-check prints it with any failure; SIMDOPT_FUZZ_SEED=<seed> replays it).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const vitest = join(dirname(require.resolve("vitest/package.json")), "vitest.mjs");
const env = { ...process.env, SIMDOPT_FUZZ_RUNS: process.env.SIMDOPT_FUZZ_RUNS ?? "100000" };
console.log(`fuzzing with ${env.SIMDOPT_FUZZ_RUNS} cases${env.SIMDOPT_FUZZ_SEED ? `, seed ${env.SIMDOPT_FUZZ_SEED}` : ""}`);
const result = spawnSync(process.execPath, [vitest, "run", "test/property", "--testTimeout=1800000"], { stdio: "inherit", env });
process.exit(result.status ?? 1);
