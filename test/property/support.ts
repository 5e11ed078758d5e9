// Shared pieces of the property-based tests: how many cases to run, and generators of float32
// data whose magnitudes mix zeros, denormals, tiny, ordinary and huge values.
//
// `npm test` runs a few thousand cases in all; `npm run test:fuzz` sets SIMDOPT_FUZZ_RUNS (total
// cases over the property files, default there 100000) and runs only these files. A failure
// prints fast-check's seed and path; SIMDOPT_FUZZ_SEED replays a seed.

import fc from "fast-check";
import { seededRandom } from "../reference/random.js";

/** u = 2^-24, the unit roundoff of float32. */
export const U = 2 ** -24;
/** The spacing of float32 denormals. */
export const DENORMAL = 2 ** -149;

const TOTAL_DEFAULT = 3000;

/** This file's share of the run: `share` of the total cases (the shares of all files add to 1). */
export function runs(share: number): number {
  const total = Number(process.env.SIMDOPT_FUZZ_RUNS ?? TOTAL_DEFAULT);
  if (!Number.isSafeInteger(total) || total <= 0) throw new Error(`SIMDOPT_FUZZ_RUNS must be a positive integer, got ${process.env.SIMDOPT_FUZZ_RUNS}`);
  return Math.max(1, Math.round(total * share));
}

/**
 * fast-check parameters: the number of runs and the seed. `npm test` uses a fixed seed (the same
 * cases on every run, so CI is reproducible); the fuzz run draws a fresh one each time (printed
 * with any failure) unless SIMDOPT_FUZZ_SEED replays one.
 */
export function params(share: number): fc.Parameters<unknown> {
  const given = process.env.SIMDOPT_FUZZ_SEED;
  const fuzzing = process.env.SIMDOPT_FUZZ_RUNS !== undefined;
  const seed = given !== undefined ? Number(given) : fuzzing ? undefined : 20261129;
  return { numRuns: runs(share), ...(seed === undefined ? {} : { seed }) };
}

/** Magnitude classes of generated values. */
export type Magnitude = "zero" | "denormal" | "tiny" | "ordinary" | "huge";

/** Relative weights of the classes in a generated array (each case draws its own mix). */
export type Mix = Record<Magnitude, number>;

/** A mix: usually mostly ordinary values, sometimes one class only (all zeros, all denormals, ...). */
export function mixArbitrary(hugeLimit: number): fc.Arbitrary<{ mix: Mix; hugeLimit: number }> {
  const weight = fc.integer({ min: 0, max: 4 });
  const mixed = fc.record({ zero: weight, denormal: weight, tiny: weight, ordinary: fc.integer({ min: 1, max: 8 }), huge: weight });
  const single = fc.constantFrom<Magnitude>("zero", "denormal", "tiny", "ordinary", "huge")
    .map((only) => ({ zero: 0, denormal: 0, tiny: 0, ordinary: 0, huge: 0, [only]: 1 }) as Mix);
  return fc.oneof({ arbitrary: mixed, weight: 4 }, { arbitrary: single, weight: 1 }).map((mix) => ({ mix, hugeLimit }));
}

/**
 * Fills `target` from `seed` with values of random sign whose magnitude class is drawn from
 * `mix`: denormals in [2^-149, 2^-126), tiny in [1e-30, 1e-15], ordinary in [1e-3, 1e3] and huge in
 * [1e6, hugeLimit], each log-uniform.
 */
export function fillMixed(target: Float32Array, seed: number, { mix, hugeLimit }: { mix: Mix; hugeLimit: number }): Float32Array {
  const random = seededRandom(seed);
  const classes = Object.entries(mix).filter(([, w]) => w > 0) as Array<[Magnitude, number]>;
  const total = classes.reduce((sum, [, w]) => sum + w, 0);
  const logUniform = (lo: number, hi: number) => Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo)));
  for (let i = 0; i < target.length; i++) {
    let pick = random() * total;
    let kind: Magnitude = classes[classes.length - 1]![0];
    for (const [name, w] of classes) {
      if (pick < w) { kind = name; break; }
      pick -= w;
    }
    const sign = random() < 0.5 ? -1 : 1;
    switch (kind) {
      case "zero": target[i] = random() < 0.5 ? 0 : -0; break;
      case "denormal": target[i] = sign * DENORMAL * Math.floor(1 + random() * (2 ** 23 - 1)); break;
      case "tiny": target[i] = sign * logUniform(1e-30, 1e-15); break;
      case "ordinary": target[i] = sign * logUniform(1e-3, 1e3); break;
      case "huge": target[i] = sign * logUniform(1e6, hugeLimit); break;
    }
  }
  return target;
}

/** A size in 1..max, often small (edge cases of the SIMD tails) and sometimes large. */
export function sizeArbitrary(max: number): fc.Arbitrary<number> {
  return fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max }));
}

/** A log-uniform number in [lo, hi]. */
export function logUniform(lo: number, hi: number): fc.Arbitrary<number> {
  return fc.double({ min: Math.log(lo), max: Math.log(hi), noNaN: true }).map((x) => Math.min(hi, Math.max(lo, Math.exp(x))));
}

/** The worst ratio |actual − expected| / bound over all elements (≤ 1 passes; NaN fails). */
export function worstRatio(actual: ArrayLike<number>, expected: ArrayLike<number>, bound: (i: number) => number): { ratio: number; index: number } {
  let ratio = 0;
  let index = -1;
  for (let i = 0; i < expected.length; i++) {
    const r = Math.abs(actual[i]! - expected[i]!) / bound(i);
    if (!(r <= ratio)) { ratio = Number.isNaN(r) ? Infinity : r; index = i; }
  }
  return { ratio, index };
}
