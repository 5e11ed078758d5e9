// Option `accumulate: k` (optax MultiSteps) for every optimizer in the spec table: k − 1 calls
// only add the gradients (returning false, parameters unchanged); the k-th applies their float32
// mean, bit-identical to the same optimizer stepped once with that mean as `.grad`.

import { beforeAll, describe, expect, it } from "vitest";
import * as simdopt from "../../src/index.js";
import { OPTIMIZERS } from "./spec.mjs";

type Constructor = new (params: simdopt.Parameter[], options?: Record<string, unknown>) => simdopt.Optimizer<object>;
const classOf = (name: string) => (simdopt as unknown as Record<string, Constructor>)[name]!;

beforeAll(async () => {
  await simdopt.init();
});

const SIZE = 13;
const K = 3;
const gradientAt = (t: number) => new Float32Array(SIZE).map((_, i) => Math.sin(7 * t + i) * 0.1 + 0.01 * t);

/** The float32 mean the kernels form: a running float32 sum, then one multiplication by fround(1/k). */
function float32Mean(gradients: Float32Array[]): Float32Array {
  const sum = new Float32Array(SIZE);
  for (const g of gradients) for (let i = 0; i < SIZE; i++) sum[i] = Math.fround(sum[i]! + g[i]!);
  const factor = Math.fround(1 / gradients.length);
  return sum.map((s) => Math.fround(s * factor));
}

describe.each(OPTIMIZERS.map((entry) => [entry.name, entry] as const))("%s with accumulate", (name, entry) => {
  const options = { ...entry.buffers[entry.buffers.length - 1]![0], lr: 0.05 };

  it("applies the mean of k gradients every k-th step, and nothing in between", () => {
    const initial = new Float32Array(SIZE).map((_, i) => (i - 6) / 7);
    // 1×13: a 2-D shape, as Muon needs.
    const p = simdopt.parameter([1, SIZE], { init: initial });
    const q = simdopt.parameter([1, SIZE], { init: initial });
    const accumulating = new (classOf(name))([p], { ...options, accumulate: K });
    const plain = new (classOf(name))([q], options);
    // The wrong variant: stepping on the k-th gradient alone (no accumulation).
    const r = simdopt.parameter([1, SIZE], { init: initial });
    const lastOnly = new (classOf(name))([r], options);
    // ScheduleFreeAdamW starts in eval mode.
    for (const o of [accumulating, plain, lastOnly]) (o as unknown as { train?: () => void }).train?.();
    for (let round = 0; round < 2; round++) {
      const gradients: Float32Array[] = [];
      for (let j = 0; j < K; j++) {
        const g = gradientAt(round * K + j);
        gradients.push(g);
        p.grad.set(g);
        const before = p.data.slice();
        const applied = accumulating.step();
        expect(applied).toBe(j === K - 1);
        if (j < K - 1) expect(p.data).toEqual(before);
      }
      q.grad.set(float32Mean(gradients));
      plain.step();
      expect(p.data).toEqual(q.data);
      r.grad.set(gradients[K - 1]!);
      lastOnly.step();
      // ADOPT's first update only initialises v: both are still the initial values.
      if (name !== "ADOPT" || round > 0) expect(p.data).not.toEqual(r.data);
    }
    accumulating.dispose(); plain.dispose(); lastOnly.dispose(); p.dispose(); q.dispose(); r.dispose();
  });
});

describe("accumulate", () => {
  it("resumes mid-accumulation from a state dict bit-identically", () => {
    const make = () => {
      const p = simdopt.parameter([SIZE], { init: "ones" });
      return { p, opt: new simdopt.Adam([p], { accumulate: K }) };
    };
    const a = make();
    for (let t = 0; t < 7; t++) { a.p.grad.set(gradientAt(t)); a.opt.step(); }
    const b = make();
    for (let t = 0; t < 4; t++) { b.p.grad.set(gradientAt(t)); b.opt.step(); }
    const saved = structuredClone(b.opt.stateDict());
    expect(saved.accumulation!.count).toBe(1);
    const c = make();
    c.p.data.set(b.p.data);
    c.opt.loadStateDict(saved);
    for (let t = 4; t < 7; t++) { c.p.grad.set(gradientAt(t)); c.opt.step(); }
    expect(c.p.data).toEqual(a.p.data);
    expect(c.opt.stateDict()).toEqual(a.opt.stateDict());
    for (const x of [a, b, c]) { x.opt.dispose(); x.p.dispose(); }
  });

  it("rejects bad values, mask and rows, and skips non-finite gradients without accumulating", () => {
    const p = simdopt.parameter([2, 3], { init: "ones" });
    expect(() => new simdopt.SGD([p], { accumulate: 0 })).toThrow(/accumulate/);
    expect(() => new simdopt.SGD([p], { accumulate: 1.5 })).toThrow(RangeError);
    expect(() => new simdopt.SGD([p], { accumulat: 2 } as never)).toThrow(/accumulat/);
    const sgd = new simdopt.SGD([p], { lr: 0.1, accumulate: 2 });
    expect(sgd.defaults).not.toHaveProperty("accumulate");
    expect(() => sgd.step({ mask: new Map([[p, new Uint8Array(6)]]) })).toThrow(/cannot be combined with accumulate/);
    expect(() => sgd.step({ rows: new Map([[p, new Int32Array([0])]]) })).toThrow(/cannot be combined with accumulate/);
    p.grad.fill(Number.NaN);
    expect(sgd.step({ skipIfNonfinite: true })).toBe(false);
    expect(sgd.stateDict().accumulation!.count).toBe(0);
    p.grad.fill(1);
    expect(sgd.step()).toBe(false);
    expect(sgd.step()).toBe(true);
    expect(p.data[0]).toBeCloseTo(0.9, 6);
    const bad = sgd.stateDict();
    bad.accumulation!.count = 2;
    expect(() => sgd.loadStateDict(bad)).toThrow(/count/);
    const plain = new simdopt.SGD([p]);
    expect(() => plain.loadStateDict(sgd.stateDict())).toThrow(/made without accumulate/);
    sgd.dispose(); plain.dispose(); p.dispose();
  });
});
