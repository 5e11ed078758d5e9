// The packed-package runtime harness shared by the Node/Deno/Bun/workerd suite (npm test) and the
// Chromium suite (npm run test:browser): packs once per test file, runs a runtime's runner as a
// child process, and checks its report against what the packed package exports.

import { rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";
// @ts-expect-error -- plain ESM helpers shared with the runners (no declarations)
import { preparePackage, repoRoot, runJson, runtimesDir } from "./pack.mjs";
// @ts-expect-error -- plain ESM, see above
import { CASES } from "./conformance.mjs";


export interface CaseResult { name: string; status: "pass" | "fail" | "skip"; message?: string; maxError?: number }
export interface FeatureSet { simd: boolean; relaxedSimd: boolean; threads: boolean; version: string }
export interface Report {
  runtime: { name: string; version: string | null; engine: string };
  mode: string;
  probe: { simd: boolean; relaxedSimd: boolean; sharedMemory: boolean; crossOriginIsolated: boolean | null };
  featuresBefore: FeatureSet | null;
  featuresAfter: FeatureSet | null;
  cases: CaseResult[];
  growth: { ok: boolean; threads: boolean; heldValid: boolean; gettersOk: boolean } | null;
  ok: boolean;
  error?: string;
  durationMs: number;
  // runner-specific
  origin?: string;
  context?: string;
  service?: string;
  problems?: string[];
  refusals?: Record<string, { threw: boolean; message?: string }>;
}
export interface RunnerOutput { runtime: string; version: string; browserVersion?: string; runs: Report[] }
export interface Pack { dir: string; tarball: string; files: string[]; packedBytes: number; unpackedBytes: number; version: string }

const CASE_LIST = CASES as Array<{ name: string; requires: string[] }>;
let pack: Pack;
/** The cases the packed package has every export for: every runtime must run and pass exactly these. */
let supported: string[];
const matrix: string[] = [];

/** Registers the pack-once set-up and clean-up for the calling test file; returns the pack. */
export function usePackedPackage(): () => Pack {
  beforeAll(async () => {
    delete process.env.SIMDOPT_RUNTIME_DIR;
    pack = preparePackage() as Pack;
    process.env.SIMDOPT_RUNTIME_DIR = pack.dir;
    const entry = pathToFileURL(join(pack.dir, "node_modules", "simdopt", "dist", "index.js")).href;
    const exported = await import(/* @vite-ignore */ entry) as Record<string, unknown>;
    supported = CASE_LIST.filter((entry) => entry.requires.every((name) => exported[name] !== undefined)).map((entry) => entry.name);
  }, 60_000);

  afterAll(() => {
    if (matrix.length > 0) console.info(`runtime matrix:\n  ${matrix.join("\n  ")}`);
    matrix.length = 0;
    delete process.env.SIMDOPT_RUNTIME_DIR;
    if (pack !== undefined) rmSync(pack.dir, { recursive: true, force: true });
  });
  return () => pack;
}

/** The conformance cases every runtime must pass (known once the package is packed). */
export function supportedCases(): string[] {
  return supported;
}

/** Runs test/runtimes/run-<name>.mjs; a runtime that cannot start fails with the runner's reason. */
export async function runRuntime(name: string, timeoutMs = 60_000): Promise<RunnerOutput> {
  try {
    return await runJson(process.execPath, [join(runtimesDir, `run-${name}.mjs`)], {
      cwd: repoRoot,
      env: { SIMDOPT_RUNTIME_DIR: pack.dir },
      timeoutMs,
    }) as RunnerOutput;
  } catch (error) {
    throw new Error(`runtime "${name}" could not run the conformance suite: ${(error as Error).message}`);
  }
}

/** Which build the run loaded: relaxed where supported, unless it was handed the plain build. */
export function expectReport(report: Report, label: string, expected: { relaxedSupported: boolean; threads: boolean; loadsRelaxed: boolean }): void {
  expect(report.error, `${label}: ${report.error}`).toBeUndefined();
  const failures = report.cases.filter((c) => c.status === "fail").map((c) => `${label} ${c.name}: ${c.message}`);
  expect(failures).toEqual([]);
  // Exactly the supported cases ran and passed (a case skipped here but exported is a failure).
  expect(report.cases.filter((c) => c.status === "pass").map((c) => c.name).sort())
    .toEqual(["before-init", "growth", ...supported].sort());
  expect(report.ok).toBe(true);
  expect(report.runtime.version, `${label}: runtime version recorded`).toBeTruthy();

  // features() is truthful: before init it says what the runtime supports (as an independent
  // probe with other instructions finds); after init, what the loaded module uses.
  expect(report.probe.simd).toBe(true);
  expect(report.probe.relaxedSimd, `${label}: relaxed SIMD support`).toBe(expected.relaxedSupported);
  expect(report.probe.sharedMemory, `${label}: shared memory support`).toBe(expected.threads);
  expect(report.featuresBefore).toMatchObject({ simd: true, relaxedSimd: expected.relaxedSupported, threads: expected.threads });
  expect(report.featuresAfter).toMatchObject({
    simd: true,
    relaxedSimd: expected.relaxedSupported && expected.loadsRelaxed,
    threads: expected.threads,
    version: pack.version,
  });
  // Views held across growth survive exactly where the memory is shared.
  expect(report.growth).toMatchObject({ ok: true, gettersOk: true, threads: expected.threads, heldValid: expected.threads });
}

export function record(output: RunnerOutput, detail: string): void {
  matrix.push(`${output.runtime} ${output.browserVersion ?? output.version}: ${detail}`);
}
