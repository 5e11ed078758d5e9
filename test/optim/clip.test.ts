// clipGradNorm / clipGradValue against float64 evaluations of torch.nn.utils.clip_grad_norm_ and
// clip_grad_value_, on awkward sizes that exercise the SIMD tails (1, 3, 5, 17, 1037, ...).

import { beforeAll, describe, expect, it } from "vitest";
import { clipGradNorm, clipGradValue, init, parameter, type Parameter } from "../../src/index.js";

beforeAll(async () => {
  await init();
});

/** Deterministic values in (−scale, scale) with a few exact zeros. */
function fill(target: Float32Array, seed: number, scale = 1): void {
  let state = seed >>> 0 || 1;
  for (let i = 0; i < target.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    target[i] = i % 11 === 7 ? 0 : ((state / 2 ** 32) * 2 - 1) * scale;
  }
}

function makeParams(sizes: number[], seed: number, scale = 1): Parameter[] {
  return sizes.map((size, i) => {
    const p = parameter([size]);
    fill(p.grad, seed * 31 + i, scale);
    fill(p.data, seed * 17 + i + 1000);
    return p;
  });
}

/** torch's total norm in float64: the p-norm of the per-parameter p-norms. */
function referenceNorm(grads: Float32Array[], p: number): number {
  const norms = grads.map((g) => {
    if (p === Infinity) {
      let m = 0;
      for (const x of g) m = Number.isNaN(x) || Number.isNaN(m) ? NaN : Math.max(m, Math.abs(x));
      return m;
    }
    let s = 0;
    for (const x of g) s += Math.abs(x) ** p;
    return s ** (1 / p);
  });
  if (p === Infinity) return norms.reduce((a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)), 0);
  let s = 0;
  for (const n of norms) s += n ** p;
  return s ** (1 / p);
}

const SIZES = [1, 3, 5, 17, 1037, 4, 8, 2];

describe("clipGradNorm", () => {
  for (const normType of [2, 1, Infinity, 3, 0.5, 1.5]) {
    it(`norm ${normType}: returns the float64 total norm and scales by min(1, maxNorm/(total+1e-6))`, () => {
      const params = makeParams(SIZES, 7 + normType);
      const before = params.map((p) => p.grad.slice());
      const dataBefore = params.map((p) => p.data.slice());
      const reference = referenceNorm(before, normType);
      const maxNorm = reference / 3;
      const total = clipGradNorm(params, maxNorm, normType);
      // f64 sums of exact f32 squares/abs in another order: agreement to ~n·2⁻⁵³; pow-based p-norms
      // go through Math.pow on scaled values, a few ulps of f64 at most.
      expect(Math.abs(total - reference) / reference).toBeLessThan(1e-12);
      const coefficient = Math.fround(maxNorm / (total + 1e-6));
      expect(coefficient).toBeLessThan(1);
      params.forEach((p, i) => {
        const expected = before[i]!.map((g) => Math.fround(g * coefficient));
        expect(p.grad).toEqual(expected);
        expect(p.data).toEqual(dataBefore[i]); // values untouched
      });
    });

    it(`norm ${normType}: leaves gradients bit-identical when the total is within maxNorm`, () => {
      const params = makeParams(SIZES, 3);
      const before = params.map((p) => p.grad.slice());
      const reference = referenceNorm(before, normType);
      const total = clipGradNorm(params, reference * 2, normType);
      expect(Math.abs(total - reference) / reference).toBeLessThan(1e-12);
      params.forEach((p, i) => expect(p.grad).toEqual(before[i]));
    });
  }

  it("defaults to the 2-norm and accepts a single Parameter", () => {
    const [p] = makeParams([1037], 5);
    const g = p!.grad.slice();
    const total = clipGradNorm(p!, 1);
    expect(Math.abs(total - referenceNorm([g], 2)) / total).toBeLessThan(1e-12);
    const coefficient = Math.fround(1 / (total + 1e-6));
    expect(p!.grad).toEqual(g.map((x) => Math.fround(x * coefficient)));
  });

  it("accumulates the 2-norm in float64: 10^6 equal values give n·x² to f64 precision", () => {
    // A float32 running sum drifts by up to n·2^-24 ≈ 6e-2 relative here (and by ~1e-3 in practice);
    // the f64 lanes are bounded by n·2^-53 ≈ 1.1e-10 — five orders below one float32 ulp.
    const p = parameter([1_000_003]);
    p.grad.fill(0.1);
    const x = Math.fround(0.1);
    const expected = Math.sqrt(1_000_003 * x * x);
    expect(Math.abs(clipGradNorm(p, 1e9) - expected) / expected).toBeLessThan(1.2e-10);
    expect(Math.abs(clipGradNorm(p, 1e9, 1) - 1_000_003 * x) / (1_000_003 * x)).toBeLessThan(1.2e-10);
    expect(clipGradNorm(p, 1e9, Infinity)).toBe(x);
    p.dispose();
  });

  it("general p-norms survive values whose p-th power overflows float64", () => {
    const p = parameter([37]);
    fill(p.grad, 11, 1e30);
    const g = p.grad.slice();
    // Reference with the same max-scaling done by hand: 1e30^20 = 1e600 overflows f64.
    let m = 0;
    for (const x of g) m = Math.max(m, Math.abs(x));
    let s = 0;
    for (const x of g) s += (Math.abs(x) / m) ** 20;
    const expected = m * s ** (1 / 20);
    const total = clipGradNorm(p, 1e40, 20);
    expect(Number.isFinite(total)).toBe(true);
    expect(Math.abs(total - expected) / expected).toBeLessThan(1e-12);
    // Tiny (subnormal) values do not underflow to 0 either.
    p.grad.fill(1e-44);
    expect(clipGradNorm(p, 1, 2)).toBeCloseTo(Math.sqrt(37) * Math.fround(1e-44), 50);
    expect(clipGradNorm(p, 1, 7)).toBeGreaterThan(0);
  });

  it("all-zero gradients: total 0, nothing scaled", () => {
    const p = parameter([5]);
    for (const normType of [1, 2, Infinity, 3]) expect(clipGradNorm(p, 1, normType)).toBe(0);
    expect(p.grad).toEqual(new Float32Array(5));
  });

  it("an empty list returns 0", () => {
    expect(clipGradNorm([], 1)).toBe(0);
  });

  it("maxNorm 0 zeroes every gradient", () => {
    const params = makeParams([3, 17], 9);
    clipGradNorm(params, 0);
    for (const p of params) for (const x of p.grad) expect(x === 0).toBe(true);
  });

  for (const [label, bad] of [["NaN", NaN], ["+Inf", Infinity], ["-Inf", -Infinity]] as const) {
    for (const normType of [2, 1, Infinity, 3]) {
      it(`${label} in a SIMD tail of the last parameter, norm ${normType}: errorIfNonfinite throws before scaling`, () => {
        const params = makeParams([17, 1037], 21);
        params[1]!.grad[1036] = bad; // 1037 = 4·259 + 1: the tail lane
        const before = params.map((p) => p.grad.slice());
        expect(() => clipGradNorm(params, 1, normType, { errorIfNonfinite: true })).toThrow(/non-finite/);
        try {
          clipGradNorm(params, 1, normType, { errorIfNonfinite: true });
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect(String(error)).toMatch(/errorIfNonfinite/);
        }
        params.forEach((p, i) => expect(p.grad).toEqual(before[i]));
      });

      it(`${label} in the last parameter, norm ${normType}: without the error, gradients scale as PyTorch's do`, () => {
        const params = makeParams([17, 1037], 22);
        params[1]!.grad[1036] = bad;
        const before = params.map((p) => p.grad.slice());
        const total = clipGradNorm(params, 1, normType);
        if (Number.isNaN(bad)) {
          // NaN norm → NaN coefficient (clamp keeps NaN) → every gradient becomes NaN.
          expect(Number.isNaN(total)).toBe(true);
          for (const p of params) for (const x of p.grad) expect(Number.isNaN(x)).toBe(true);
        } else {
          // Infinite norm → coefficient 0 → finite entries 0, the infinite one NaN (Inf·0).
          expect(total).toBe(Infinity);
          params.forEach((p, i) => before[i]!.forEach((g, j) => {
            if (Number.isFinite(g)) expect(p.grad[j] === 0).toBe(true);
            else expect(Number.isNaN(p.grad[j])).toBe(true);
          }));
        }
      });
    }
  }

  it("an infinite gradient in the first parameter and NaN in another make the norm NaN", () => {
    const params = makeParams([5, 3], 2);
    params[0]!.grad[0] = Infinity;
    params[1]!.grad[2] = NaN;
    for (const normType of [1, 2, Infinity]) expect(Number.isNaN(clipGradNorm(params, 1, normType))).toBe(true);
  });

  it("rejects bad arguments, naming them, before changing anything", () => {
    const params = makeParams([5, 17], 4);
    const before = params.map((p) => p.grad.slice());
    expect(() => clipGradNorm(params, -1)).toThrow(RangeError);
    expect(() => clipGradNorm(params, -1)).toThrow(/maxNorm/);
    expect(() => clipGradNorm(params, NaN)).toThrow(/maxNorm/);
    expect(() => clipGradNorm(params, "1" as unknown as number)).toThrow(TypeError);
    for (const normType of [0, -1, -Infinity, NaN]) {
      expect(() => clipGradNorm(params, 1, normType)).toThrow(RangeError);
      expect(() => clipGradNorm(params, 1, normType)).toThrow(/normType/);
    }
    expect(() => clipGradNorm(params, 1, "2" as unknown as number)).toThrow(/normType/);
    expect(() => clipGradNorm(params, 1, 2, { errorIfNonfinite: 1 as unknown as boolean })).toThrow(/errorIfNonfinite/);
    expect(() => clipGradNorm(params, 1, 2, { errorIfNonFinite: true } as never)).toThrow(/errorIfNonFinite/);
    expect(() => clipGradNorm([params[0]!, {} as Parameter], 1)).toThrow(TypeError);
    expect(() => clipGradNorm([params[0]!, params[0]!], 1)).toThrow(RangeError);
    expect(() => clipGradNorm(new Float32Array(3) as unknown as Parameter, 1)).toThrow(/params/);
    const disposed = parameter([4]);
    disposed.dispose();
    expect(() => clipGradNorm([...params, disposed], 1e-3)).toThrow(/disposed/);
    expect(() => clipGradValue([...params, disposed], 1e-3)).toThrow(/disposed/);
    expect(() => clipGradValue(params, -0.5)).toThrow(RangeError);
    expect(() => clipGradValue(params, -0.5)).toThrow(/clipValue/);
    expect(() => clipGradValue(params, NaN)).toThrow(/clipValue/);
    params.forEach((p, i) => expect(p.grad).toEqual(before[i]));
  });
});

describe("clipGradValue", () => {
  it("clamps every element to [−clipValue, clipValue] on every size, NaN kept", () => {
    const params = makeParams(SIZES, 13);
    params[4]!.grad[1036] = NaN;
    params[4]!.grad[1035] = Infinity;
    params[3]!.grad[16] = -Infinity;
    const before = params.map((p) => p.grad.slice());
    const dataBefore = params.map((p) => p.data.slice());
    clipGradValue(params, 0.3);
    const bound = Math.fround(0.3); // torch casts the bound to the tensor's dtype
    params.forEach((p, i) => {
      const expected = before[i]!.map((g) => (Number.isNaN(g) ? NaN : Math.min(Math.max(g, -bound), bound)));
      expect(p.grad).toEqual(expected);
      expect(p.data).toEqual(dataBefore[i]);
    });
    expect(params[4]!.grad[1035]).toBe(bound);
    expect(params[3]!.grad[16]).toBe(-bound);
  });

  it("clipValue 0 zeroes, a single Parameter is accepted, and values inside are bit-identical", () => {
    const [p] = makeParams([17], 8, 0.01);
    const before = p!.grad.slice();
    clipGradValue(p!, 1);
    expect(p!.grad).toEqual(before);
    clipGradValue(p!, 0);
    for (const x of p!.grad) expect(x === 0).toBe(true);
  });
});

describe("clipping refusals by exact message, gradients untouched", () => {
  it("clipGradNorm and clipGradValue", () => {
    const p = parameter([2], { name: "p", init: [1, 1] });
    p.grad.set([3, 4]);
    const gone = parameter([1], { name: "gone" });
    gone.dispose();
    const cases: Array<[() => unknown, Error]> = [
      [() => clipGradNorm(new Float32Array(2) as never, 1), new TypeError("simdopt: clipGradNorm params must be a Parameter or an array of Parameters, got a Float32Array of length 2")],
      [() => clipGradValue(null as never, 1), new TypeError("simdopt: clipGradValue params must be a Parameter or an array of Parameters, got null")],
      [() => clipGradNorm([p, 3] as never, 1), new TypeError("simdopt: clipGradNorm params[1] must be a Parameter, got 3")],
      [() => clipGradNorm([p, gone], 1), new TypeError('simdopt: clipGradNorm params[1] ("gone") has been disposed')],
      [() => clipGradValue([p, p], 1), new RangeError('simdopt: clipGradValue params lists "p" twice')],
      [() => clipGradNorm(p, -1), new RangeError("simdopt: clipGradNorm maxNorm must be a number ≥ 0 or Infinity, got -1")],
      [() => clipGradNorm(p, NaN), new RangeError("simdopt: clipGradNorm maxNorm must be a number ≥ 0 or Infinity, got NaN")],
      [() => clipGradNorm(p, "1" as never), new TypeError('simdopt: clipGradNorm maxNorm must be a number ≥ 0 or Infinity, got "1" (string)')],
      [() => clipGradNorm(p, 1, 0), new RangeError("simdopt: clipGradNorm normType must be a number > 0 or Infinity, got 0")],
      [() => clipGradNorm(p, 1, NaN), new RangeError("simdopt: clipGradNorm normType must be a number > 0 or Infinity, got NaN")],
      [() => clipGradNorm(p, 1, "2" as never), new TypeError('simdopt: clipGradNorm normType must be a number > 0 or Infinity, got "2" (string)')],
      [() => clipGradNorm(p, 1, 2, { errorIfNonfinite: 1 } as never), new TypeError("simdopt: clipGradNorm errorIfNonfinite must be a boolean (true or false), got 1")],
      [() => clipGradNorm(p, 1, 2, { errorIfNonFinite: true } as never), new TypeError('simdopt: clipGradNorm has no option "errorIfNonFinite"; did you mean "errorIfNonfinite"? (options: errorIfNonfinite)')],
      [() => clipGradNorm(p, 1, 2, 5 as never), new TypeError("simdopt: clipGradNorm options must be an object, got 5")],
      [() => clipGradValue(p, -0.5), new RangeError("simdopt: clipGradValue clipValue must be a number ≥ 0 or Infinity, got -0.5")],
    ];
    for (const [call, error] of cases) {
      expect(call).toThrow(error);
      expect([...p.grad]).toEqual([3, 4]);
    }
    p.grad[1] = Infinity;
    for (const [normType, shown] of [[2, "2"], [1, "1"], [Infinity, "Infinity"], [3, "3"]] as const) {
      expect(() => clipGradNorm(p, 1, normType, { errorIfNonfinite: true })).toThrow(new Error(
        `simdopt: the total norm of order ${shown} for gradients from \`params\` is non-finite, so it cannot be clipped. ` +
        "To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`"));
    }
    expect([...p.grad]).toEqual([3, Infinity]);
    p.dispose();
  });

  it("a single Parameter, an empty list, and bounds of 0 and Infinity", () => {
    const p = parameter([2], { init: [1, 1] });
    p.grad.set([3, -4]);
    expect(clipGradNorm([], 1)).toBe(0);
    expect(clipGradNorm(p, Infinity)).toBe(5);
    expect([...p.grad]).toEqual([3, -4]);
    // Exactly at the bound the coefficient rounds to 1 or above: nothing is scaled.
    expect(clipGradNorm(p, 5 + 1e-6)).toBe(5);
    expect([...p.grad]).toEqual([3, -4]);
    clipGradValue(p, Infinity);
    expect([...p.grad]).toEqual([3, -4]);
    clipGradValue(p, 3.5);
    expect([...p.grad]).toEqual([3, -3.5]);
    clipGradValue(p, 0);
    expect([...p.grad]).toEqual([0, -0]);
    expect(clipGradNorm(p, 0)).toBe(0);
    p.dispose();
  });
});

describe("clipGradNorm's reductions", () => {
  it("norms 1, 2 and ∞ are one SIMD reduction per parameter; other orders read the gradients in a JS loop", async () => {
    const { kernels, setKernelOverride } = await import("../../src/bindings/instance.js");
    const real = kernels();
    const calls: string[] = [];
    const counting = { ...real };
    for (const name of ["sumSquares", "sumAbs", "maxAbs"] as const) {
      counting[name] = (ptr: number, length: number) => { calls.push(name); return real[name](ptr, length); };
    }
    const params = makeParams([5, 17], 3);
    setKernelOverride(counting);
    try {
      for (const [normType, expected] of [[2, ["sumSquares", "sumSquares"]], [1, ["sumAbs", "sumAbs"]], [Infinity, ["maxAbs", "maxAbs"]], [3, ["maxAbs", "maxAbs"]]] as const) {
        calls.length = 0;
        clipGradNorm(params, Infinity, normType);
        expect(calls, `norm ${normType}`).toEqual(expected);
      }
    } finally {
      setKernelOverride(null);
    }
  });
});
