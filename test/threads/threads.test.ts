// Threads: results bit-identical to one thread in Node, Deno and Bun; start/stop cycles; calls
// after terminateThreads; the failure paths; a process that never terminates its threads exits.
// The scripts run the built package (dist/) in their own processes, so that each runtime starts
// its workers from the files the package ships.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const bin = (name: string) => fileURLToPath(new URL(`../../node_modules/.bin/${name}`, import.meta.url));
const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

const RUNTIMES: Record<string, (script: string, ...args: string[]) => string[]> = {
  node: (script, ...args) => [process.execPath, script, ...args],
  deno: (script, ...args) => [bin("deno"), "run", "-A", script, ...args],
  bun: (script, ...args) => [bin("bun"), script, ...args],
};

function run(argv: string[], timeout = 240_000): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout, env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" } });
}

interface CheckReport {
  threads: number; workers: number; workerTasks: number; cases: number; workersAfter: number;
  mismatches: Record<string, number>; mismatchesAfter: Record<string, number>;
}

describe.each(Object.keys(RUNTIMES))("threads in %s", (runtime) => {
  it("matmul (all transposes, odd sizes), batch norm (NCHW/NHWC), clipGradNorm, every optimizer's dense, masked, row and guarded steps, Muon's split GEMMs, accumulated steps and EMA updates are bit-identical to one thread", () => {
    if (runtime !== "node") expect(existsSync(bin(runtime)), `${runtime} binary`).toBe(true);
    const report = JSON.parse(run(RUNTIMES[runtime]!(here("check.mjs"), dist)).trim().split("\n").pop()!) as CheckReport;
    expect(report.threads).toBe(2);
    expect(report.workers).toBe(2);
    expect(report.workersAfter).toBe(1);
    // The workers did take part (else the comparison would prove nothing).
    expect(report.workerTasks).toBeGreaterThan(0);
    expect(report.cases).toBeGreaterThanOrEqual(108);
    for (const [name, count] of Object.entries(report.mismatches)) expect(count, `${name} with threads`).toBe(0);
    for (const [name, count] of Object.entries(report.mismatchesAfter)) expect(count, `${name} after terminateThreads`).toBe(0);
  });

  it("a process that never calls terminateThreads exits by itself", () => {
    const output = run(RUNTIMES[runtime]!(here("no-terminate.mjs"), dist), 60_000);
    expect(output.trim().split("\n").pop()).toBe("stepped on 2 threads");
  });
});

describe("thread lifecycle and failures (Node)", () => {
  const report = JSON.parse(run([process.execPath, here("lifecycle.mjs")])) as Record<string, unknown>;

  it("initThreads before init rejects with the init error", () => {
    expect(report.beforeInit).toMatch(/not loaded; call `await init\(\)`/);
  });

  it("start/stop cycles: 2 threads after each start, 1 after each stop, and the steps in between follow the one-thread trajectory", () => {
    expect(report.cycles).toEqual([2, 1, 2, 1, 2, 1, 2, 1]);
    expect(report.trajectoryMatches).toBe(true);
  });

  it("workers unavailable: initThreads resolves to 1", () => {
    expect(report.unavailable).toBe(1);
  });

  it("workers that fail to start: 1 thread and a warning naming the failure", () => {
    expect(report.failedStart).toBe(1);
    expect(report.failedStartWarning).toMatch(/could not start \(simulated start-up failure\)/);
  });

  it("workers that die: calls still complete with the right result, then one thread and a warning", () => {
    expect(report.beforeCrash).toBe(2);
    expect(report.matmulAfterCrash).toBe(256);
    expect(report.matmulLater).toBe(256);
    expect(report.afterCrashWorkers).toBe(1);
    expect(report.crashWarning).toMatch(/worker thread stopped .*continues on 1 thread/);
  });

  it("bad thread counts are rejected naming the argument and value", () => {
    expect(report["bad 0"]).toMatch(/^RangeError: simdopt: initThreads n .* got 0/);
    expect(report["bad 1.5"]).toMatch(/^RangeError: simdopt: initThreads n must be an integer ≥ 1, got 1.5/);
    expect(report["bad -1"]).toMatch(/^RangeError/);
    expect(report["bad 2"]).toMatch(/^TypeError: .*"2"/);
    expect(report["bad NaN"]).toMatch(/^TypeError/);
  });
});
