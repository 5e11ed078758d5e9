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

  it("a state dict holds copies of the sums: later steps leave it as it was", () => {
    const p = simdopt.parameter([SIZE], { init: "ones" });
    const opt = new simdopt.SGD([p], { accumulate: K });
    expect(opt.stateDict().accumulation!.sums[0]).toEqual(new Float32Array(SIZE));
    p.grad.set(gradientAt(0));
    opt.step();
    const saved = opt.stateDict();
    const copy = structuredClone(saved);
    p.grad.set(gradientAt(1));
    opt.step();
    expect(saved).toEqual(copy);
    opt.dispose(); p.dispose();
  });

  it("a parameter joining mid-accumulation ahead of the others gets its own zeroed sum; theirs are kept", () => {
    const initial = new Float32Array(SIZE).map((_, i) => (i - 6) / 7);
    const a = simdopt.parameter([SIZE], { init: initial });
    const b = simdopt.parameter([SIZE], { init: initial });
    const opt = new simdopt.SGD([a], { lr: 0.05, accumulate: K });
    const aGrads = [0, 1, 2].map(gradientAt);
    const bGrads = [new Float32Array(SIZE), gradientAt(5), gradientAt(6)];
    a.grad.set(aGrads[0]!);
    expect(opt.step()).toBe(false);
    // First in step order, so the "is a sum missing?" scan meets it before the others.
    opt.paramGroups[0]!.params.unshift(b);
    for (const t of [1, 2]) {
      a.grad.set(aGrads[t]!);
      b.grad.set(bGrads[t]!);
      expect(opt.step()).toBe(t === 2);
    }
    for (const [p, grads] of [[a, aGrads], [b, bGrads]] as const) {
      const q = simdopt.parameter([SIZE], { init: initial });
      const plain = new simdopt.SGD([q], { lr: 0.05 });
      q.grad.set(float32Mean(grads));
      plain.step();
      expect(p.data).toEqual(q.data);
      plain.dispose(); q.dispose();
    }
    opt.dispose(); a.dispose(); b.dispose();
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

describe("accumulation state refusals by exact message, nothing changed", () => {
  it("count, sums and their lengths", () => {
    const p = simdopt.parameter([3], { init: [1, 2, 3] });
    const q = simdopt.parameter([2], { init: [1, 2] });
    const sgd = new simdopt.SGD([p, q], { lr: 0.1, accumulate: 3 });
    p.grad.fill(1);
    q.grad.fill(2);
    sgd.step();
    const good = sgd.stateDict();
    expect(good.accumulation).toEqual({ count: 1, sums: [Float32Array.of(1, 1, 1), Float32Array.of(2, 2)] });
    const load = (accumulation: unknown) => () => sgd.loadStateDict({ ...structuredClone(good), accumulation } as never);
    expect(load(null)).toThrow(new TypeError("simdopt: stateDict.accumulation must be an object { count, sums }, got null"));
    expect(load(3)).toThrow(new TypeError("simdopt: stateDict.accumulation must be an object { count, sums }, got 3"));
    expect(load({ count: 3, sums: good.accumulation!.sums })).toThrow(new RangeError("simdopt: stateDict.accumulation.count must be a finite integer ≥ 0 and ≤ 2, got 3"));
    expect(load({ count: -1, sums: good.accumulation!.sums })).toThrow(new RangeError("simdopt: stateDict.accumulation.count must be a finite integer ≥ 0 and ≤ 2, got -1"));
    expect(load({ sums: good.accumulation!.sums })).toThrow(new TypeError("simdopt: stateDict.accumulation.requires the option count"));
    expect(load({ count: 2, sums: [new Float32Array(3)] })).toThrow(new RangeError("simdopt: stateDict.accumulation.sums must hold 2 Float32Arrays, got an array of length 1"));
    expect(load({ count: 2, sums: "x" })).toThrow(new RangeError('simdopt: stateDict.accumulation.sums must hold 2 Float32Arrays, got "x" (string)'));
    expect(load({ count: 2, sums: [new Float32Array(3), new Float32Array(3)] })).toThrow(new RangeError("simdopt: stateDict.accumulation.sums[1] must be a Float32Array of 2 values, got a Float32Array of length 3"));
    expect(load({ count: 2, sums: [[0, 0, 0], new Float32Array(2)] })).toThrow(new RangeError("simdopt: stateDict.accumulation.sums[0] must be a Float32Array of 3 values, got [0, 0, 0]"));
    expect(sgd.stateDict()).toEqual(good);
    // Count 2 of 3 with these sums: the next step applies (sum + grad)/3.
    sgd.loadStateDict({ ...structuredClone(good), accumulation: { count: 2, sums: [Float32Array.of(2, 2, 2), Float32Array.of(4, 4)] } });
    expect(sgd.step()).toBe(true);
    expect([...p.data]).toEqual([1, 2, 3].map((x) => Math.fround(x - Math.fround(0.1))));
    expect(sgd.stateDict().accumulation).toEqual({ count: 0, sums: [new Float32Array(3), new Float32Array(2)] });
    // A state without accumulation loads as an empty one.
    sgd.step();
    const { accumulation: _, ...plain } = sgd.stateDict();
    sgd.loadStateDict(plain as never);
    expect(sgd.stateDict().accumulation).toEqual({ count: 0, sums: [new Float32Array(3), new Float32Array(2)] });
    sgd.dispose(); p.dispose(); q.dispose();
  });
});
