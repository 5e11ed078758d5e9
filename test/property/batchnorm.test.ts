// Property: batchNormForward / batchNormBackward for random shapes (1–5000 elements, 2–4 dims,
// both layouts, training and eval), per-channel data whose means and spreads range over
// 1e-12…1e12 (and all-zero or denormal channels), optional γ/β, random eps and momentum, against
// the float64 reference of torch.nn.functional.batch_norm (test/reference/batchnorm.ts).
//
// Error bounds, per element, from the operations the kernels perform in float32 (u = 2^-24):
// a per-channel sum of n terms errs by at most γ_{n+4} of the sum of their magnitudes (Higham
// §4.2, summed in float32 in any order — some paths accumulate in float64, which this covers); mean and 1/√(var + eps) are rounded to float32 once (2u, plus the variance
// error passed through the square root: ½·δvar/(var + eps)); y = x·s + o with s = γ·invStd and
// o = β − mean·s costs a few roundings of |x·s| + |mean·s| + |β| — when |mean| ≫ std that sum, not
// |y|, sets the scale — plus what the errors of mean and invStd contribute. The backward's dx is a
// combination of dy, Σdy and Σdy·x̂ with coefficients γ·invStd, judged on the size of its terms.
// K = 8 roundings per value leaves a margin over the 3–5 each formula performs.

import fc from "fast-check";
import { beforeAll, describe, it } from "vitest";
import { batchNormBackward, batchNormForward, init } from "../../src/index.js";
import { batchNormBackwardReference, batchNormForwardReference, channelOf, type Layout } from "../reference/batchnorm.js";
import { seededRandom } from "../reference/random.js";
import { DENORMAL, logUniform, params, U } from "./support.js";

beforeAll(async () => {
  await init();
});

const K = 8;
const FLOOR = 2 ** -120;

const shapeArbitrary = fc.record({
  batch: fc.integer({ min: 1, max: 40 }),
  channels: fc.integer({ min: 1, max: 40 }),
  spatial: fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 2 }),
  layout: fc.constantFrom<Layout>("NCHW", "NHWC"),
}).filter(({ batch, channels, spatial }) => batch * channels * spatial.reduce((a, b) => a * b, 1) <= 5000);

function check(actual: ArrayLike<number>, expected: ArrayLike<number>, bound: (i: number) => number, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!);
    if (!(error <= bound(i))) throw new Error(`${what}[${i}] = ${actual[i]} vs ${expected[i]} (error ${error.toExponential(3)} > bound ${bound(i).toExponential(3)})`);
  }
}

/** Per-channel data: mean ± spread·noise, where mean and spread are 0, denormal or 1e-12…1e12. */
function channelData(shape: number[], layout: Layout, seed: number): Float32Array {
  const random = seededRandom(seed);
  const C = layout === "NCHW" ? shape[1]! : shape[shape.length - 1]!;
  const magnitude = () => {
    const r = random();
    if (r < 0.1) return 0;
    if (r < 0.15) return DENORMAL * Math.floor(1 + random() * 1000);
    return Math.exp(Math.log(1e-12) + random() * Math.log(1e24));
  };
  const means = Array.from({ length: C }, () => (random() < 0.5 ? -1 : 1) * magnitude());
  const spreads = Array.from({ length: C }, magnitude);
  const channel = channelOf(shape, layout);
  return Float32Array.from(channel, (c) => means[c]! + spreads[c]! * (2 * random() - 1));
}

describe("batch norm against float64", () => {
  it("forward and backward stay within float32 rounding of their terms", () => {
    fc.assert(fc.property(
      shapeArbitrary, fc.boolean(), fc.boolean(), logUniform(1e-8, 1e-1).map(Math.fround), fc.double({ min: 0, max: 1, noNaN: true }).map(Math.fround),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      ({ batch, channels, spatial, layout }, training, affine, eps, momentum, seed) => {
        const shape = layout === "NCHW" ? [batch, channels, ...spatial] : [batch, ...spatial, channels];
        const x = channelData(shape, layout, seed);
        const count = x.length / channels;
        if (training && count === 1) return;
        const random = seededRandom(seed + 1);
        const gamma = affine ? Float32Array.from({ length: channels }, () => (2 * random() - 1) * 4) : null;
        const beta = affine ? Float32Array.from({ length: channels }, () => (2 * random() - 1) * 4) : null;
        const runningMean = Float32Array.from({ length: channels }, () => 2 * random() - 1);
        const runningVar = Float32Array.from({ length: channels }, () => 0.5 + random());
        const ref = batchNormForwardReference(x, shape, { training, gamma, beta, runningMean, runningVar, momentum, eps, layout });
        const liveMean = runningMean.slice();
        const liveVar = runningVar.slice();
        const { y, mean, invStd } = batchNormForward(x, shape, { training, gamma, beta, runningMean: liveMean, runningVar: liveVar, momentum, eps, layout });

        const channel = channelOf(shape, layout);
        const SUM = (count + 4) * U;
        const absSum = new Float64Array(channels);
        const sqSum = new Float64Array(channels);
        for (let i = 0; i < x.length; i++) { absSum[channel[i]!] += Math.abs(x[i]!); sqSum[channel[i]!] += x[i]! * x[i]!; }
        const meanBound = (c: number) => (training ? 2 * U * Math.abs(ref.mean[c]!) + SUM * absSum[c]! / count : 0) + FLOOR;
        const varError = (c: number) => (training ? SUM * (sqSum[c]! / count + ref.mean[c]! ** 2) : 0);
        const invBound = (c: number) => 2 * U * ref.invStd[c]! + 0.5 * ref.invStd[c]! * varError(c) / (ref.variance[c]! + eps);
        check(mean, ref.mean, meanBound, "mean");
        check(invStd, ref.invStd, invBound, "invStd");
        check(y, ref.y, (i) => {
          const c = channel[i]!;
          const g = gamma ? Math.abs(gamma[c]!) : 1;
          const s = g * ref.invStd[c]!;
          const terms = Math.abs(x[i]!) * s + Math.abs(ref.mean[c]!) * s + (beta ? Math.abs(beta[c]!) : 0);
          return K * U * terms + g * (Math.abs(x[i]! - ref.mean[c]!) * invBound(c) + ref.invStd[c]! * meanBound(c)) + FLOOR;
        }, "y");
        if (training) {
          check(liveMean, ref.runningMean!, (c) => K * U * (Math.abs((1 - momentum) * runningMean[c]!) + Math.abs(momentum * ref.mean[c]!)) + momentum * meanBound(c) + FLOOR, "runningMean");
          check(liveVar, ref.runningVar!, (c) => K * U * (Math.abs((1 - momentum) * runningVar[c]!) + Math.abs(momentum * ref.runningVar![c]!) + momentum * ref.variance[c]! * count / Math.max(count - 1, 1)) + momentum * varError(c) * count / Math.max(count - 1, 1) + FLOOR, "runningVar");
        }

        // Backward, on the kernel's own saved statistics (as a training loop uses it).
        const dy = Float32Array.from({ length: x.length }, () => (2 * random() - 1) * 10 ** (8 * random() - 4));
        const { dx, dgamma, dbeta } = batchNormBackward(dy, x, shape, { mean, invStd, gamma, training, layout });
        const back = batchNormBackwardReference(dy, x, shape, { mean, invStd, gamma, training, layout });
        const s1 = new Float64Array(channels);
        const s2 = new Float64Array(channels);
        for (let i = 0; i < x.length; i++) {
          const c = channel[i]!;
          s1[c] += Math.abs(dy[i]!);
          s2[c] += Math.abs(dy[i]!) * (Math.abs(x[i]!) + Math.abs(mean[c]!)) * invStd[c]!;
        }
        const dbetaBound = (c: number) => 2 * U * Math.abs(back.dbeta[c]!) + SUM * s1[c]! + FLOOR;
        const dgammaBound = (c: number) => K * U * s2[c]! + SUM * s2[c]! + FLOOR;
        check(dbeta, back.dbeta, dbetaBound, "dbeta");
        check(dgamma, back.dgamma, dgammaBound, "dgamma");
        check(dx, back.dx, (i) => {
          const c = channel[i]!;
          const s = Math.abs(gamma ? gamma[c]! : 1) * invStd[c]!;
          if (!training) return K * U * Math.abs(dy[i]!) * s + FLOOR;
          const xHat = (Math.abs(x[i]!) + Math.abs(mean[c]!)) * invStd[c]!;
          const terms = Math.abs(dy[i]!) + s1[c]! / count + xHat * Math.abs(back.dgamma[c]!) / count;
          return K * U * s * terms + s * (dbetaBound(c) + xHat * dgammaBound(c)) / count + FLOOR;
        }, "dx");
      },
    ), params(0.2));
  });
});
