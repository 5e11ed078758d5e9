// The optimizer spec table (spec.mjs) against the implementation: defaults, state buffers under
// each option set, bad options, the references' wrong variants, the bench rows, the docs table
// and the runtime conformance data.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import * as simdopt from "../../src/index.js";
import { MISTAKES } from "../reference/optimizers-extra.js";
import { PROXIMAL_MISTAKES } from "../reference/proximal.js";
import { FACTORED_MISTAKES } from "../reference/adafactor-lamb.js";
import { MISTAKES_MORE } from "../reference/optimizers-more.js";
import { OPTIMIZERS } from "./spec.mjs";

type Constructor = new (params: simdopt.Parameter[], options?: Record<string, unknown>) => simdopt.Optimizer<object>;

beforeAll(async () => {
  await simdopt.init();
});

describe.each(OPTIMIZERS.map((entry) => [entry.name, entry] as const))("%s", (name, entry) => {
  const Class = (simdopt as unknown as Record<string, Constructor>)[name]!;

  it("is exported and starts from the spec's defaults", () => {
    expect(typeof Class).toBe("function");
    const p = simdopt.parameter([1, 3], { init: "zeros" });
    const optimizer = new Class([p]);
    expect(optimizer.defaults).toEqual(entry.defaults);
    optimizer.dispose(); p.dispose();
  });

  it.each(entry.buffers.map(([options, names, shape = [2, 3]]) => [`${JSON.stringify(options)} on [${shape}]`, options, names, shape] as const))(
    "keeps the spec's state buffers under %s", (_label, options, names, shape) => {
      const p = simdopt.parameter(shape, { init: "ones" });
      p.grad.fill(0.5);
      const optimizer = new Class([p], options);
      // ScheduleFreeAdamW starts in eval mode.
      (optimizer as unknown as { train?: () => void }).train?.();
      optimizer.step();
      expect(Object.keys(optimizer.stateDict().state[0]!.buffers)).toEqual(names);
      expect(optimizer.stateBuffers().map((b) => b.name)).toEqual(names);
      optimizer.dispose(); p.dispose();
    });

  it.each(entry.bad.map(([options, error, message]) => [JSON.stringify(options), options, error, message] as const))(
    "rejects %s", (_label, options, error, message) => {
      const p = simdopt.parameter([3], { init: "zeros" });
      expect(() => new Class([p], options)).toThrow(new error(message));
      p.dispose();
    });

  it("refuses a non-number for each option by name, in the options and in a group", () => {
    const p = simdopt.parameter([2, 3], { init: "zeros" });
    for (const key of Object.keys(entry.defaults)) {
      expect(() => new Class([p], { [key]: {} })).toThrow(TypeError);
      expect(() => new Class([p], { [key]: {} })).toThrow(new RegExp(`^simdopt: ${key} must be .+, got an object$`));
      expect(() => new Class([{ params: [p], [key]: {} } as never])).toThrow(new RegExp(`^simdopt: paramGroups\\[0\\]\\.${key} must be .+, got an object$`));
    }
    p.dispose();
  });

  it("lists the wrong variants its reference makes", () => {
    const made = [MISTAKES, PROXIMAL_MISTAKES, FACTORED_MISTAKES, MISTAKES_MORE].flatMap((table) => (table as Record<string, readonly string[]>)[name] ?? []);
    expect(entry.mistakes).toEqual(made);
  });
});

describe("generated and dependent files", () => {
  const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

  it("every optimizer has bench rows, and every bench row's optimizer is in the spec", async () => {
    type Rows = { algorithms: { name: string }[] };
    const { algorithms } = (await import("../../bench/optim.mjs")) as Rows;
    const { algorithms: muon } = (await import("../../bench/muon.mjs")) as Rows;
    const benchNames = [...algorithms, ...muon].map((a) => a.name);
    const specNames = OPTIMIZERS.flatMap((entry) => entry.bench);
    for (const row of specNames) expect(benchNames, row).toContain(row);
    for (const row of benchNames) expect(specNames, row).toContain(row);
  });

  it("every optimizer has a runtime conformance case and machinery-test variants", async () => {
    const { CASES } = (await import("../runtimes/conformance.mjs")) as { CASES: { spec: { ctor?: string } }[] };
    const covered = new Set(CASES.map((entry) => entry.spec.ctor));
    for (const entry of OPTIMIZERS) {
      expect(covered.has(entry.name), `${entry.name} in test/runtimes/conformance.mjs`).toBe(true);
      if (entry.ownTests === undefined) expect(entry.variants?.length, entry.name).toBeGreaterThan(0);
      else expect(existsSync(root(entry.ownTests)), entry.ownTests).toBe(true);
    }
  });

  it("docs/optimizers.md and the runtime conformance data are up to date", () => {
    expect(() => execFileSync(process.execPath, [root("scripts/optimizer-table.mjs"), "--check"], { stdio: "pipe" })).not.toThrow();
    expect(() => execFileSync(process.execPath, [root("test/runtimes/generate-expected.mjs"), "--check"], { stdio: "pipe" })).not.toThrow();
  });
});
