// The relaxed-SIMD build in this process (test/support/relaxed.ts): matmul on its 6×8 fused
// micro-kernel against float64 at sizes around its blocks, and the splits across threads of
// matmul and of Muon's GEMMs cut at multiples of its 6 rows (split hooks of
// test/support/split-hooks.ts), bit-identical to one call.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { matmul, Muon, parameter, type MatmulOptions } from "../../src/index.js";
import { matmulReference, worstErrorRatio } from "../reference/matmul.mjs";
import { randomArray, seededRandom } from "../reference/random.js";
import { initRelaxed } from "../support/relaxed.js";
import { installSplitHooks, removeSplitHooks } from "../support/split-hooks.js";

beforeAll(initRelaxed);

afterEach(() => {
  removeSplitHooks();
});

const floats = (seed: number, length: number) => Float32Array.from(randomArray(seededRandom(seed), length));

describe("relaxed build in process", () => {
  it.each([
    [6, 8, 8, false, false], [7, 9, 17, false, false], [13, 31, 5, true, false], [49, 257, 12, false, true], [12, 3, 33, true, true],
  ] as const)("matmul %i×%i by %i (transA %s, transB %s) matches float64", (m, k, n, transA, transB) => {
    const a = floats(m, m * k), b = floats(n, k * n);
    const options: MatmulOptions = { m, k, n, transA, transB };
    expect(worstErrorRatio(matmul(a, b, options), matmulReference(a, b, options))).toBeLessThanOrEqual(1);
  });

  it("matmul split by rows: bands of 6 rows, bit-identical to one call", () => {
    const [m, k, n] = [37, 11, 6];
    const a = floats(1, m * k), b = floats(2, k * n);
    const one = matmul(a, b, { m, k, n });
    const calls = installSplitHooks(() => 3);
    const split = matmul(a, b, { m, k, n });
    removeSplitHooks();
    expect(calls.map((call) => call.rowMultiple)).toEqual([6]);
    expect(Array.from(split)).toEqual(Array.from(one));
  });

  it("Muon's split GEMMs: bands of 6 rows, bit-identical to one thread", () => {
    const run = (split: boolean) => {
      const random = seededRandom(8);
      const p = parameter([30, 19], { init: new Float32Array(570).map(() => 2 * random() - 1) });
      const optimizer = new Muon([p], { lr: 0.05, nsSteps: 2 });
      const calls = split ? installSplitHooks(() => 3) : [];
      for (let t = 0; t < 2; t++) {
        for (let j = 0; j < p.size; j++) p.grad[j] = 2 * random() - 1;
        optimizer.step();
      }
      removeSplitHooks();
      const data = Array.from(p.data);
      optimizer.dispose(); p.dispose();
      return { data, calls };
    };
    const one = run(false);
    const split = run(true);
    expect(split.calls).toHaveLength(12);
    expect(new Set(split.calls.map((call) => call.rowMultiple))).toEqual(new Set([6]));
    expect(split.data).toEqual(one.data);
  });
});
