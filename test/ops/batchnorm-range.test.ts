// Batch norm on inputs whose float32 squares (and sums) overflow: magnitudes 1e20–1e37, where
// PyTorch still normalises correctly. Σ(x − centre)² in f32 lanes overflows past |x| ≈ 1.8e19, so
// the kernels must notice and accumulate those pieces in f64. The backward's centred coefficient
// −γ·invStd³·Σdy(x − mean)/n is then far below float32's normal range (invStd³ ≈ 1e-60 at 1e20),
// so the kernels carry it as a power-of-two scale of (x − mean) times a normal float32.
import { beforeAll, describe, expect, it } from "vitest";
import { init, batchNormBackward, batchNormForward } from "../../src/index.js";
import { batchNormBackwardReference, batchNormForwardReference, channelOf, type Layout } from "../reference/batchnorm.js";
import { maxRelativeError, randomArray, seededRandom } from "../reference/random.js";

beforeAll(async () => {
  await init();
});

function data(seed: number, shape: number[], layout: Layout, magnitude: number): Float32Array {
  const random = seededRandom(seed);
  const channel = channelOf(shape, layout);
  const C = layout === "NCHW" ? shape[1]! : shape[shape.length - 1]!;
  const means = randomArray(random, C, 3);
  const spreads = Array.from({ length: C }, () => 0.2 + 2 * random());
  const noise = randomArray(random, channel.length, 1);
  return Float32Array.from(noise, (v, i) => magnitude * (means[channel[i]!]! + spreads[channel[i]!]! * v));
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, floor: number, what: string): void {
  expect(actual.length).toBe(expected.length);
  const { error, index } = maxRelativeError(actual, expected, floor);
  expect(error, `${what}: worst at ${index}: ${actual[index]} vs ${expected[index]}`).toBeLessThanOrEqual(tolerance);
}

const CASES: { layout: Layout; shape: number[] }[] = [
  { layout: "NCHW", shape: [3, 3, 8, 8] },
  { layout: "NCHW", shape: [2, 2, 50, 50] }, // runs longer than one f32 piece
  { layout: "NHWC", shape: [4, 8, 8, 3] }, // C not a multiple of 4: super rows
  { layout: "NHWC", shape: [8, 40, 40, 5] }, // several chunks
];

describe("batch norm at magnitudes whose float32 squares overflow", () => {
  for (const magnitude of [1e20, 1e30, 1e37]) {
    for (const { layout, shape } of CASES) {
      it(`${layout} [${shape.join(", ")}] at ${magnitude.toExponential(0)}: normalised as in float64`, () => {
        const x = data(17, shape, layout, magnitude);
        const C = layout === "NCHW" ? shape[1]! : shape[shape.length - 1]!;
        const gamma = Float32Array.from({ length: C }, (_, c) => 0.5 + c);
        const beta = Float32Array.from({ length: C }, (_, c) => c - 1);
        const runningMean = new Float32Array(C);
        const runningVar = new Float32Array(C).fill(1);
        const ref = batchNormForwardReference(x, shape, { training: true, layout, gamma, beta, runningMean, runningVar });
        const { y, mean, invStd } = batchNormForward(x, shape, { layout, gamma, beta, runningMean, runningVar });
        // y is O(1): compare against the float64 reference with float32 accuracy.
        expectClose(y, ref.y, 1e-5, 1, "y");
        expectClose(mean, ref.mean, 1e-6, 0, "mean");
        expectClose(invStd, ref.invStd, 1e-6, 0, "invStd");
        expectClose(runningMean, ref.runningMean!, 1e-6, 0, "runningMean");
        // The unbiased variance (~magnitude²) is stored in float32 as PyTorch's running_var is: it
        // overflows to Infinity exactly where float32 rounding of the reference does.
        for (let c = 0; c < C; c++) {
          const expected = Math.fround(ref.runningVar![c]!);
          if (Number.isFinite(expected)) expect(Math.abs(runningVar[c]! - expected) / expected).toBeLessThan(1e-6);
          else expect(runningVar[c]).toBe(expected);
        }
      });
    }
  }

  for (const magnitude of [1e20, 1e30, 1e36]) {
    for (const { layout, shape } of CASES) {
      it(`${layout} [${shape.join(", ")}] at ${magnitude.toExponential(0)}: backward as in float64`, () => {
        const x = data(23, shape, layout, magnitude);
        const dy = Float32Array.from(randomArray(seededRandom(29), x.length, 1));
        const C = layout === "NCHW" ? shape[1]! : shape[shape.length - 1]!;
        const gamma = Float32Array.from(randomArray(seededRandom(31), C, 1), (v) => 0.5 + Math.abs(v));
        const { mean, invStd } = batchNormForward(x, shape, { layout });
        const { dx, dgamma, dbeta } = batchNormBackward(dy, x, shape, { mean, invStd, gamma, layout });
        const ref = batchNormBackwardReference(dy, x, shape, { mean, invStd, gamma, training: true, layout });
        // Judged against the largest |dx| (≈ γ·invStd·|dy|): terms that cancel keep their f32 error.
        expectClose(dx, ref.dx, 1e-5, Math.max(...ref.dx.map(Math.abs)), "dx");
        expectClose(dgamma, ref.dgamma, 1e-4, Math.max(...ref.dgamma.map(Math.abs)), "dgamma");
        expectClose(dbeta, ref.dbeta, 1e-5, 0, "dbeta");
      });
    }
  }

  it("ordinary data takes the f32 path and stays as accurate as before (mean 1e4, std 1)", () => {
    const shape = [4, 2, 30, 30];
    const x = data(5, shape, "NCHW", 1).map((v) => 1e4 + v);
    const ref = batchNormForwardReference(x, shape, { training: true });
    const { y, invStd } = batchNormForward(x, shape);
    expectClose(invStd, ref.invStd, 1e-6, 0, "invStd");
    expectClose(y, ref.y, 1e-5, 1, "y");
  });
});
