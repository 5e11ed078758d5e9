// Property: clipGradNorm and clipGradValue over 1–4 parameters of random sizes (1–5000) with
// gradients mixing zeros, denormals, tiny, ordinary and huge magnitudes (up to 1e38), any norm
// type, any bound.
//
// Error bounds. The norms are float64 reductions of the float32 gradients (1-, 2- and ∞-norm in
// the kernel's float64 lanes, a general p in float64 JS after scaling by max |g|), so the total
// differs from the float64 reference only by float64 summation: at most N·2^-53 relative for N
// terms (Higham §4.2), with N + 16 allowing for the square root and pow. Each gradient is then
// multiplied by the float32 coefficient fround(maxNorm / (total + 1e-6)) and rounded once: the
// coefficient may differ by one float32 ulp from the reference's (its total differs in the last
// float64 bits), so a scaled value may differ by 2^-23 relative, or a denormal step. Clamping is
// exact: the result must be the clamped float32 value itself.

import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { clipGradNorm, clipGradValue, init, parameter, type Parameter } from "../../src/index.js";
import { DENORMAL, fillMixed, logUniform, mixArbitrary, params, sizeArbitrary } from "./support.js";

beforeAll(async () => {
  await init();
});

const HUGE = 1e38;

function normOf(grads: Float32Array[], p: number): number {
  if (p === Infinity) return Math.max(0, ...grads.map((g) => g.reduce((m, x) => Math.max(m, Math.abs(x)), 0)));
  let largest = 0;
  for (const g of grads) for (const x of g) largest = Math.max(largest, Math.abs(x));
  if (largest === 0) return 0;
  let sum = 0;
  for (const g of grads) for (const x of g) sum += (Math.abs(x) / largest) ** p;
  return largest * sum ** (1 / p);
}

const caseArbitrary = fc.record({
  sizes: fc.array(sizeArbitrary(5000), { minLength: 1, maxLength: 4 }),
  mix: mixArbitrary(HUGE),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

function makeParams(sizes: number[], mix: Parameters<typeof fillMixed>[2], seed: number): Parameter[] {
  return sizes.map((size, i) => {
    const p = parameter([size]);
    fillMixed(p.grad, seed + 7 * i, mix);
    return p;
  });
}

describe("gradient clipping against float64", () => {
  it("clipGradNorm returns the float64 norm and scales by its float32 coefficient", () => {
    const normType = fc.oneof(fc.constantFrom(1, 2, Infinity), fc.double({ min: 0.25, max: 8, noNaN: true }));
    const maxNorm = fc.oneof(fc.constant(0), logUniform(1e-30, 1e30));
    fc.assert(fc.property(caseArbitrary, normType, maxNorm, ({ sizes, mix, seed }, p, bound) => {
      const list = makeParams(sizes, mix, seed);
      try {
        const grads = list.map((param) => param.grad.slice());
        const total = clipGradNorm(list, bound, p);
        const expected = normOf(grads, p);
        const terms = sizes.reduce((a, b) => a + b, 0);
        expect(Math.abs(total - expected)).toBeLessThanOrEqual((terms + 16) * 2 ** -53 * expected);
        const coefficient = Math.fround(bound / (expected + 1e-6));
        list.forEach((param, k) => {
          const before = grads[k]!;
          const after = param.grad;
          for (let i = 0; i < before.length; i++) {
            const want = coefficient < 1 ? Math.fround(before[i]! * coefficient) : before[i]!;
            const error = Math.abs(after[i]! - want);
            if (!(error <= 2 ** -23 * Math.abs(want) + DENORMAL)) {
              throw new Error(`grad[${k}][${i}] = ${after[i]} vs ${want} (was ${before[i]}, coefficient ${coefficient}, total ${total} vs ${expected})`);
            }
          }
        });
      } finally {
        for (const param of list) param.dispose();
      }
    }), params(0.08));
  });

  it("clipGradValue clamps every element exactly", () => {
    const clip = fc.oneof(fc.constant(0), logUniform(1e-40, 1e38));
    fc.assert(fc.property(caseArbitrary, clip, ({ sizes, mix, seed }, c) => {
      const list = makeParams(sizes, mix, seed);
      try {
        const grads = list.map((param) => param.grad.slice());
        clipGradValue(list, c);
        const limit = Math.fround(c);
        list.forEach((param, k) => {
          const before = grads[k]!;
          for (let i = 0; i < before.length; i++) {
            const want = Math.min(limit, Math.max(-limit, before[i]!));
            if (param.grad[i] !== want) throw new Error(`grad[${k}][${i}] = ${param.grad[i]} vs ${want} (was ${before[i]}, clip ${c})`);
          }
        });
      } finally {
        for (const param of list) param.dispose();
      }
    }), params(0.07));
  });
});
