// Weight initialisation against torch.nn.init: fan-in/fan-out of 2-D and conv-shaped weights,
// the xavier/kaiming (He) formulas, determinism per seed, and argument checks.
//
// Statistical tolerances: every moment check allows 6 standard errors of the estimator for the
// sample size at hand (a false alarm has probability ~2e-9 per check; the seeds are fixed, so a
// passing test passes forever), while the wrong formula (e.g. fanOut instead of fanIn, a missing
// √2 gain, normal instead of uniform) moves the statistic by tens of standard errors.

import { beforeAll, describe, expect, it } from "vitest";
import { init, parameter } from "../src/index.js";
import { computeFans } from "../src/weight-init.js";
import { Random } from "../src/random.js";

beforeAll(async () => {
  await init();
});

interface Moments { n: number; mean: number; variance: number; kurtosis: number; min: number; max: number }

function moments(values: Float32Array): Moments {
  const n = values.length;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of values) {
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = sum / n;
  let m2 = 0;
  let m4 = 0;
  for (const x of values) {
    const d = (x - mean) ** 2;
    m2 += d;
    m4 += d * d;
  }
  const variance = m2 / n;
  return { n, mean, variance, kurtosis: m4 / n / (variance * variance), min, max };
}

/** PyTorch's fans for [out, in, ...kernel]. */
function fans(shape: number[]): { fanIn: number; fanOut: number } {
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

const SHAPES: number[][] = [
  [256, 784],       // linear: fanIn 784, fanOut 256
  [64, 32, 3, 3],   // conv2d: fanIn 288, fanOut 576 (fans differ by 2×, so mixing them up fails)
  [8, 12, 3, 3, 3], // conv3d: fanIn 324, fanOut 216
  [1000, 3],        // very unequal fans
];

/** Checks U(−bound, bound): mean 0, variance bound²/3, support, and a flat histogram. */
function expectUniform(values: Float32Array, bound: number): void {
  const { n, mean, variance, min, max } = moments(values);
  // mean: sd = bound/√(3n). variance: x² has variance 4·bound⁴/45, so sd(mean of x²) = bound²·√(4/45)/√n.
  expect(Math.abs(mean)).toBeLessThan((6 * bound) / Math.sqrt(3 * n));
  expect(Math.abs(variance - (bound * bound) / 3)).toBeLessThan((6 * bound * bound * Math.sqrt(4 / 45)) / Math.sqrt(n));
  // Support: never outside [−bound, bound] (float32 rounding of the bound allowed), and the
  // extremes come close to it: P(max < bound·(1 − 2t/n)) ≈ e^(−t); t = 20 → 2e-9.
  const limit = Math.fround(bound) * (1 + 2 ** -23);
  expect(min).toBeGreaterThanOrEqual(-limit);
  expect(max).toBeLessThanOrEqual(limit);
  expect(max).toBeGreaterThan(bound * (1 - 40 / n));
  expect(min).toBeLessThan(-bound * (1 - 40 / n));
  // 10 equal bins: each count is Binomial(n, 0.1), sd √(0.09n).
  const bins = new Array<number>(10).fill(0);
  for (const x of values) bins[Math.min(9, Math.floor(((x + bound) / (2 * bound)) * 10))]!++;
  for (const count of bins) expect(Math.abs(count - n / 10)).toBeLessThan(6 * Math.sqrt(0.09 * n));
}

/** Checks N(0, std²): mean, variance, kurtosis 3 and the 1σ mass 0.6827. */
function expectNormal(values: Float32Array, std: number): void {
  const { n, mean, variance, kurtosis } = moments(values);
  // sd(mean) = std/√n; sd(variance) = std²·√(2/n); sd(sample kurtosis) ≈ √(24/n).
  expect(Math.abs(mean)).toBeLessThan((6 * std) / Math.sqrt(n));
  expect(Math.abs(variance - std * std)).toBeLessThan(6 * std * std * Math.sqrt(2 / n));
  expect(Math.abs(kurtosis - 3)).toBeLessThan(6 * Math.sqrt(24 / n)); // a uniform would give 1.8
  let inside = 0;
  for (const x of values) if (Math.abs(x) < std) inside++;
  const p = 0.682689492;
  expect(Math.abs(inside / n - p)).toBeLessThan(6 * Math.sqrt((p * (1 - p)) / n));
}

describe("init schemes follow torch.nn.init", () => {
  for (const shape of SHAPES) {
    const { fanIn, fanOut } = fans(shape);
    const label = `[${shape.join(", ")}]`;

    it(`xavierUniform ${label}: U(±√(6/(fanIn+fanOut)))`, () => {
      const p = parameter(shape, { init: "xavierUniform", seed: 1 });
      expectUniform(p.data, Math.sqrt(6 / (fanIn + fanOut)));
      p.dispose();
    });

    it(`xavierNormal ${label}: N(0, 2/(fanIn+fanOut))`, () => {
      const p = parameter(shape, { init: "xavierNormal", seed: 2 });
      expectNormal(p.data, Math.sqrt(2 / (fanIn + fanOut)));
      p.dispose();
    });

    it(`heUniform ${label}: U(±√2·√(3/fanIn)) (kaiming_uniform_, fan_in, gain √2)`, () => {
      const p = parameter(shape, { init: "heUniform", seed: 3 });
      expectUniform(p.data, Math.SQRT2 * Math.sqrt(3 / fanIn));
      p.dispose();
    });

    it(`heNormal ${label}: N(0, 2/fanIn) (kaiming_normal_, fan_in, gain √2)`, () => {
      const p = parameter(shape, { init: "heNormal", seed: 4 });
      expectNormal(p.data, Math.SQRT2 / Math.sqrt(fanIn));
      p.dispose();
    });
  }

  it("uses fanIn (not fanOut) for He: the conv shape's variance tells them apart", () => {
    // [64, 32, 3, 3]: fanIn 288, fanOut 576; 2/fanOut would be half the variance.
    const p = parameter([64, 32, 3, 3], { init: "heNormal", seed: 9 });
    const { variance } = moments(p.data);
    expect(variance / (2 / 288)).toBeGreaterThan(0.94);
    expect(variance / (2 / 288)).toBeLessThan(1.06);
    p.dispose();
  });

  it("zeros and ones fill exactly, for any shape (1-D included); zeros is the default", () => {
    for (const shape of [[1], [7], [3, 5], [2, 3, 4]]) {
      const z = parameter(shape, { init: "zeros" });
      const o = parameter(shape, { init: "ones", seed: 5 });
      const d = parameter(shape);
      const size = shape.reduce((a, b) => a * b, 1);
      expect(z.data).toEqual(new Float32Array(size));
      expect(o.data).toEqual(new Float32Array(size).fill(1));
      expect(d.data).toEqual(new Float32Array(size));
      expect(o.grad).toEqual(new Float32Array(size)); // gradients start at zero whatever the init
      for (const p of [z, o, d]) p.dispose();
    }
  });
});

describe("seeds", () => {
  for (const scheme of ["xavierUniform", "xavierNormal", "heUniform", "heNormal"] as const) {
    it(`${scheme}: the same seed gives the same values, another seed other values`, () => {
      const a = parameter([33, 17], { init: scheme, seed: 42 });
      const b = parameter([33, 17], { init: scheme, seed: 42 });
      const c = parameter([33, 17], { init: scheme, seed: 43 });
      expect(b.data).toEqual(a.data);
      let differing = 0;
      for (let i = 0; i < a.size; i++) if (a.data[i] !== c.data[i]) differing++;
      expect(differing).toBeGreaterThan(a.size * 0.99);
      // Without a seed, two parameters get different draws.
      const d = parameter([33, 17], { init: scheme });
      const e = parameter([33, 17], { init: scheme });
      expect(d.data).not.toEqual(e.data);
      for (const p of [a, b, c, d, e]) p.dispose();
    });
  }

  it("the values for a seed are stable (a regression pin of the PRNG stream)", () => {
    // Same seed → same first values across runs and runtimes: xoshiro128** seeded by splitmix32
    // uses only 32-bit integer ops and float division by 2^24, so the stream is exact everywhere.
    const a = parameter([4, 4], { init: "xavierUniform", seed: 0 });
    const b = parameter([4, 4], { init: "xavierUniform", seed: 0 });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const bound = Math.sqrt(6 / 8);
    for (const x of a.data) expect(Math.abs(x)).toBeLessThanOrEqual(Math.fround(bound));
    a.dispose();
    b.dispose();
  });
});

describe("bad init arguments", () => {
  it("a xavier/he init of a 1-D (or 0-D) shape throws RangeError, as PyTorch does", () => {
    for (const scheme of ["xavierUniform", "xavierNormal", "heUniform", "heNormal"] as const) {
      expect(() => parameter([10], { init: scheme })).toThrow(RangeError);
      expect(() => parameter([10], { init: scheme, seed: 1 })).toThrow(/2 dimensions/);
      expect(() => parameter([], { init: scheme })).toThrow(RangeError);
    }
  });

  it("an ArrayLike of the wrong length throws RangeError; the right length is copied in", () => {
    expect(() => parameter([2, 3], { init: [1, 2, 3, 4, 5] })).toThrow(RangeError);
    expect(() => parameter([2, 3], { init: new Float32Array(7) })).toThrow(/6/);
    expect(() => parameter([4], { init: { length: 3, 0: 1, 1: 2, 2: 3 } })).toThrow(RangeError);
    const source = new Float64Array([0.1, -2, 3.5, 1e-50, 4, 5]);
    const p = parameter([2, 3], { init: source });
    expect(p.data).toEqual(Float32Array.from(source));
    source[0] = 99; // copied once: later changes of the source do not show
    expect(p.data[0]).toBe(Math.fround(0.1));
    const q = parameter([3], { init: { length: 3, 0: 1, 1: 2, 2: 3 } });
    expect(Array.from(q.data)).toEqual([1, 2, 3]);
    p.dispose();
    q.dispose();
  });

  it("an unknown scheme is a RangeError, a bad seed a TypeError", () => {
    expect(() => parameter([3, 3], { init: "kaimingNormal" as never })).toThrow(RangeError);
    expect(() => parameter([3, 3], { init: "heNormal", seed: NaN })).toThrow(/seed/);
    expect(() => parameter([3, 3], { init: "heNormal", seed: "1" as never })).toThrow(TypeError);
  });
});

describe("computeFans and the generator, directly", () => {
  it("fewer than 2 dimensions: RangeError naming the scheme and the shape", () => {
    expect(() => computeFans([4])).toThrow(new RangeError("simdopt: this initialisation needs a parameter with at least 2 dimensions (fan-in and fan-out), got shape [4]"));
    expect(() => computeFans([], "heNormal")).toThrow(new RangeError("simdopt: heNormal needs a parameter with at least 2 dimensions (fan-in and fan-out), got shape []"));
    expect(computeFans([3, 5, 2, 7])).toEqual({ fanIn: 70, fanOut: 42 });
  });

  // xoshiro128** seeded by splitmix32 (Blackman & Vigna), written out independently.
  function reference(seed: number): () => number {
    let state = seed >>> 0;
    const split = () => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    const s = [split(), split(), split(), split()];
    const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
    return () => {
      const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
      const t = (s[1]! << 9) >>> 0;
      s[2] = (s[2]! ^ s[0]!) >>> 0; s[3] = (s[3]! ^ s[1]!) >>> 0;
      s[1] = (s[1]! ^ s[2]!) >>> 0; s[0] = (s[0]! ^ s[3]!) >>> 0;
      s[2] = (s[2]! ^ t) >>> 0; s[3] = rotl(s[3]!, 11);
      return result;
    };
  }

  it("Random follows xoshiro128** from splitmix32 exactly; normals come in Box–Muller pairs (cos, then sin)", () => {
    for (const seed of [0, 1, 42, 0xffffffff]) {
      const next = reference(seed);
      const random = new Random(seed);
      for (let i = 0; i < 8; i++) expect(random.nextUint32()).toBe(next());
      const u = new Random(seed);
      const bits = reference(seed);
      expect(u.uniform()).toBe((bits() >>> 8) / 16777216);
      const normal = new Random(seed);
      const draw = reference(seed);
      for (let pair = 0; pair < 3; pair++) {
        const u1 = 1 - (draw() >>> 8) / 16777216;
        const u2 = (draw() >>> 8) / 16777216;
        const radius = Math.sqrt(-2 * Math.log(u1));
        expect(normal.normal()).toBe(radius * Math.cos(2 * Math.PI * u2));
        expect(normal.normal()).toBe(radius * Math.sin(2 * Math.PI * u2));
      }
    }
  });
});
