// matmul's error messages (each names the argument, the expected shape and what was given) and
// the ownership of its result: without `out` it returns a fresh array that later calls leave
// alone.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { init, matmul, parameter, type MatmulOptions } from "../../src/index.js";
import { randomArray, seededRandom } from "../reference/random.js";
import { matmulReference, worstErrorRatio } from "../reference/matmul.mjs";
import * as instance from "../../src/bindings/instance.js";
import { allocatedBytes } from "../../src/bindings/memory.js";
import { installSplitHooks, removeSplitHooks } from "../support/split-hooks.js";

beforeAll(async () => {
  await init();
});

const floats = (seed: number, length: number) => Float32Array.from(randomArray(seededRandom(seed), length));
const a = floats(1, 12), b = floats(2, 20);

describe("matmul error messages", () => {
  it.each<[string, () => unknown, RegExp]>([
    ["m = 0", () => matmul(a, b, { m: 0, k: 4, n: 5 }), /^simdopt: matmul: m must be a positive integer, got 0$/],
    ["k = -1", () => matmul(a, b, { m: 3, k: -1, n: 5 }), /^simdopt: matmul: k must be an integer ≥ 0, got -1$/],
    ["a too short", () => matmul(a.subarray(1), b, { m: 3, k: 4, n: 5 }), /^simdopt: matmul: a has 11 elements but m×k = 3×4 needs 12$/],
    ["a too short, transA", () => matmul(a.subarray(1), b, { m: 3, k: 4, n: 5, transA: true }), /^simdopt: matmul: a has 11 elements but Aᵀ stored k×m = 4×3 needs 12$/],
    ["b too short", () => matmul(a, b.subarray(1), { m: 3, k: 4, n: 5 }), /^simdopt: matmul: b has 19 elements but k×n = 4×5 needs 20$/],
    ["b too short, transB", () => matmul(a, b.subarray(1), { m: 3, k: 4, n: 5, transB: true }), /^simdopt: matmul: b has 19 elements but Bᵀ stored n×k = 5×4 needs 20$/],
    ["out too short", () => matmul(a, b, { m: 3, k: 4, n: 5, out: new Float32Array(14) }), /^simdopt: matmul: out has 14 elements but m×n = 3×5 needs 15$/],
    ["a null", () => matmul(null as never, b, { m: 3, k: 4, n: 5 }), /^simdopt: matmul: a must be a Float32Array, got null$/],
    ["b an array", () => matmul(a, [1] as never, { m: 3, k: 4, n: 5 }), /^simdopt: matmul: b must be a Float32Array, got \[1\]$/],
    ["transB a number", () => matmul(a, b, { m: 3, k: 4, n: 5, transB: 1 as never }), /^simdopt: matmul: transB must be a boolean \(true or false\), got 1$/],
    ["beta a string", () => matmul(a, b, { m: 3, k: 4, n: 5, out: new Float32Array(15), beta: "1" as never }), /^simdopt: matmul: beta must be a number, got "1" \(string\)$/],
    ["no options", () => matmul(a, b, undefined as never), /^simdopt: matmul: options \{ m, k, n \} are required, got (undefined|null)$/],
    ["null options", () => matmul(a, b, null as never), /^simdopt: matmul: options \{ m, k, n \} are required, got (undefined|null)$/],
  ])("%s", (_label, run, message) => {
    expect(run).toThrow(message);
  });
});

describe("matmul results", () => {
  it("without out, each call returns its own array: a later call does not change an earlier result", () => {
    const options: MatmulOptions = { m: 3, k: 4, n: 5 };
    const first = matmul(a, b, options);
    const copy = first.slice();
    const second = matmul(floats(3, 12), floats(4, 20), options);
    expect(Array.from(first)).toEqual(Array.from(copy));
    expect(second).not.toBe(first);
    expect(worstErrorRatio(first, matmulReference(a, b, options))).toBeLessThanOrEqual(1);
  });

  it("library views as a and b without out: read in place, result in a fresh array", () => {
    const pa = parameter([7, 9], { init: floats(5, 63) });
    const pb = parameter([11, 9], { init: floats(6, 99) });
    for (const transB of [false, true]) {
      const options: MatmulOptions = transB ? { m: 7, k: 9, n: 11, transB } : { m: 7, k: 9, n: 11 };
      const bData = transB ? pb.data : pb.data.subarray(0, 99);
      const result = matmul(pa.data, bData, options);
      expect(result.buffer).not.toBe(pa.data.buffer);
      expect(worstErrorRatio(result, matmulReference(pa.data, bData, options))).toBeLessThanOrEqual(1);
    }
    pa.dispose();
    pb.dispose();
  });
});

describe("matmul scratch", () => {
  it("a first call takes one block: packing plus a, b and C, each rounded up to whole v128s", async () => {
    vi.resetModules();
    const fresh = await import("../../src/index.js");
    const memory = await import("../../src/bindings/memory.js");
    const instance = await import("../../src/bindings/instance.js");
    await fresh.init();
    const wasm = instance.kernels();
    const slots = (floats: number) => Math.ceil(floats / 4) * 4;
    const before = memory.allocatedBytes();
    const [m, k, n] = [3, 5, 7];
    const result = fresh.matmul(floats(11, m * k), floats(12, k * n), { m, k, n, out: new Float32Array(m * n) });
    expect(worstErrorRatio(result, matmulReference(floats(11, m * k), floats(12, k * n), { m, k, n }))).toBeLessThanOrEqual(1);
    const expected = slots(wasm.matmulPackedBSize(k, n)) + slots(m * k) + slots(k * n) + slots(m * n);
    expect(memory.allocatedBytes() - before).toBe(Math.ceil((expected * 4) / 16) * 16);
  });
});

describe("matmul scratch growth", () => {
  it("a call that needs more scratch grows it by exactly what it needs more: packing, a, b and C", () => {
    const { matmulPackedASize: packA, matmulPackedBSize: packB } = instance.kernels();
    const slots = (floats: number) => Math.ceil(floats / 4) * 4;
    const need = (m: number, k: number, n: number, transA: boolean) =>
      (transA ? slots(packA(m, k)) : 0) + slots(packB(k, n)) + slots(m * k) + slots(k * n) + slots(m * n);
    // Larger than any call before in this file, so the first one sets the scratch's size.
    const first = [45, 31, 53] as const, second = [47, 33, 61] as const;
    for (const transA of [false, true]) {
      matmul(floats(1, first[0] * first[1]), floats(2, first[1] * first[2]), { m: first[0], k: first[1], n: first[2], transA, out: new Float32Array(first[0] * first[2]) });
      const before = allocatedBytes();
      const [m, k, n] = transA ? [second[0] + 2, second[1] + 2, second[2] + 2] : second;
      const result = matmul(floats(3, m * k), floats(4, k * n), { m, k, n, transA, out: new Float32Array(m * n) });
      expect(worstErrorRatio(result, matmulReference(floats(3, m * k), floats(4, k * n), { m, k, n, transA }))).toBeLessThanOrEqual(1);
      const had = transA ? need(second[0], second[1], second[2], false) : need(first[0], first[1], first[2], false);
      expect(allocatedBytes() - before).toBe(4 * (need(m, k, n, transA) - had));
    }
  });
});

describe("matmul split across threads", () => {
  afterEach(() => {
    removeSplitHooks();
  });

  // Bands of columns (n ≥ 32 per share) and of rows (narrow C, or Aᵀ with m ≥ n).
  it.each([
    [13, 9, 70, false, false], [13, 9, 70, true, true], [37, 11, 6, false, true], [37, 11, 6, true, false], [5, 3, 40, true, false],
  ] as const)("%i×%i by %i (transA %s, transB %s): split as asked, each share packing into its own space; bit-identical to one call", (m, k, n, transA, transB) => {
    const a = floats(m + k, m * k), b = floats(n + k, k * n);
    const options: MatmulOptions = { m, k, n, transA, transB, alpha: 0.5, beta: 2 };
    const start = floats(m * n, m * n);
    const one = matmul(a, b, { ...options, out: start.slice() });
    const shares = 2 + ((m + n + k) % 3);
    const calls = installSplitHooks(() => shares);
    const viewOut = parameter([m * n], { init: start });
    const split = matmul(a, b, { ...options, out: start.slice() });
    const inPlace = matmul(a, b, { ...options, out: viewOut.data });
    removeSplitHooks();
    expect(Array.from(split)).toEqual(Array.from(one));
    expect(Array.from(inPlace)).toEqual(Array.from(one));
    const { matmulPackedASize: packA, matmulPackedBSize: packB, relaxedBuild } = instance.kernels();
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call).toMatchObject({ m, k, n, transA, transB, shares, rowMultiple: relaxedBuild() === 1 ? 6 : 5 });
      expect(call.packedB - call.packedA).toBe(transA ? 4 * Math.ceil(packA(m, k) / 4) * 4 : 0);
      expect(call.packedStride).toBe(call.packedB - call.packedA + 4 * Math.ceil(packB(k, n) / 4) * 4);
    }
    viewOut.dispose();
  });
});
