import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { init, batchNormForward, batchNormBackward, BatchNorm, parameter, SGD } from "../../src/index.js";
import { wasmOffset } from "../../src/bindings/views.js";
import {
  batchNormBackwardReference, batchNormForwardReference, channelOf, type Layout,
} from "../reference/batchnorm.js";
import { maxRelativeError, randomArray, seededRandom } from "../reference/random.js";

beforeAll(async () => {
  await init();
});

const LAYOUTS: Layout[] = ["NCHW", "NHWC"];

function shapeOf(batch: number, channels: number, spatial: number[], layout: Layout): number[] {
  return layout === "NCHW" ? [batch, channels, ...spatial] : [batch, ...spatial, channels];
}

function f32(values: ArrayLike<number>): Float32Array {
  return Float32Array.from(values);
}

/** Per-channel offsets so that channels differ in mean and spread. */
function channelData(seed: number, shape: number[], layout: Layout, meanScale = 3, spread = 2): Float32Array {
  const random = seededRandom(seed);
  const channel = channelOf(shape, layout);
  const C = layout === "NCHW" ? shape[1]! : shape[shape.length - 1]!;
  const means = randomArray(random, C, meanScale);
  const scales = Array.from({ length: C }, () => 0.2 + spread * random());
  const noise = randomArray(random, channel.length, 1);
  return f32(Array.from(noise, (v, i) => means[channel[i]!]! + scales[channel[i]!]! * v));
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, floor: number, what: string): void {
  const { error, index } = maxRelativeError(actual, expected, floor);
  expect(error, `${what}: worst at ${index}: ${actual[index]} vs ${expected[index]}`).toBeLessThanOrEqual(tolerance);
  expect(actual.length).toBe(expected.length);
}

/** The scale dx is judged on: max |dy·γ·invStd| (the training dx is a difference of terms this size). */
function dxScale(dy: ArrayLike<number>, shape: number[], layout: Layout, invStd: ArrayLike<number>, gamma: ArrayLike<number> | null): number {
  const channel = channelOf(shape, layout);
  let m = 0;
  for (let i = 0; i < dy.length; i++) m = Math.max(m, Math.abs(dy[i]! * invStd[channel[i]!]! * (gamma ? gamma[channel[i]!]! : 1)));
  return m;
}

/**
 * The scales dgamma and dbeta are judged on: the largest per-channel Σ|dy·x̂| and Σ|dy| (their sums
 * cancel heavily, so their own size says nothing about float32 summation error).
 */
function paramGradScales(dy: ArrayLike<number>, x: ArrayLike<number>, shape: number[], layout: Layout,
  mean: ArrayLike<number>, invStd: ArrayLike<number>): { dgamma: number; dbeta: number } {
  const channel = channelOf(shape, layout);
  const g = new Float64Array(mean.length);
  const b = new Float64Array(mean.length);
  for (let i = 0; i < dy.length; i++) {
    const c = channel[i]!;
    g[c] += Math.abs(dy[i]! * (x[i]! - mean[c]!) * invStd[c]!);
    b[c] += Math.abs(dy[i]!);
  }
  return { dgamma: maxAbs(g), dbeta: maxAbs(b) };
}

function x0Length(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

describe("batchNormForward / batchNormBackward against the float64 reference", () => {
  const CHANNELS = [1, 3, 5, 7, 64];
  const SPATIAL = [[7, 5], [1, 1]];
  const BATCHES = [1, 2, 17];
  let seed = 1;
  for (const layout of LAYOUTS) {
    for (const training of [true, false]) {
      for (const affine of [true, false]) {
        it(`${layout} ${training ? "training" : "eval"} ${affine ? "affine" : "no affine"}: C ∈ {1,3,5,7,64}, spatial 7×5 and 1×1, N ∈ {1,2,17}`, () => {
          let checked = 0;
          for (const C of CHANNELS) {
            for (const spatial of SPATIAL) {
              for (const N of BATCHES) {
                const shape = shapeOf(N, C, spatial, layout);
                const x = channelData(seed++, shape, layout);
                const random = seededRandom(seed++);
                const gamma = affine ? f32(randomArray(random, C, 2)) : null;
                const beta = affine ? f32(randomArray(random, C, 1)) : null;
                const runningMean = f32(randomArray(random, C, 1));
                const runningVar = f32(Array.from({ length: C }, () => 0.5 + random()));
                const count = x.length / C;
                const options = { training, gamma, beta, runningMean: Float32Array.from(runningMean), runningVar: Float32Array.from(runningVar), momentum: 0.1, eps: 1e-5, layout };
                if (training && count === 1) {
                  expect(() => batchNormForward(x, shape, options)).toThrow(/Expected more than 1 value per channel when training/);
                  expect(options.runningMean).toEqual(runningMean);
                  continue;
                }
                const ref = batchNormForwardReference(x, shape, { training, gamma, beta, runningMean, runningVar, momentum: 0.1, eps: 1e-5, layout });
                const { y, mean, invStd } = batchNormForward(x, shape, options);
                const what = `${layout} [${shape.join(",")}]`;
                expectClose(y, ref.y, 2e-6, 1, `${what} y`);
                expectClose(mean, ref.mean, 1e-6, 1, `${what} mean`);
                expectClose(invStd, ref.invStd, 2e-6, 0, `${what} invStd`);
                if (training) {
                  expectClose(options.runningMean, ref.runningMean!, 1e-6, 1, `${what} runningMean`);
                  expectClose(options.runningVar, ref.runningVar!, 2e-6, 0, `${what} runningVar`);
                } else {
                  expect(options.runningMean).toEqual(runningMean);
                  expect(options.runningVar).toEqual(runningVar);
                }

                const dy = f32(randomArray(random, x.length, 1));
                const { dx, dgamma, dbeta } = batchNormBackward(dy, x, shape, { mean, invStd, gamma, training, layout });
                // The backward kernel against the analytic formula evaluated in float64 on the same saved statistics.
                const refBack = batchNormBackwardReference(dy, x, shape, { mean, invStd, gamma, training, layout });
                const scale = dxScale(dy, shape, layout, invStd, gamma);
                expectClose(dx, refBack.dx, 1e-5, scale, `${what} dx`);
                const sums = paramGradScales(dy, x, shape, layout, mean, invStd);
                expectClose(dgamma, refBack.dgamma, 1e-6, sums.dgamma, `${what} dgamma`);
                expectClose(dbeta, refBack.dbeta, 1e-6, sums.dbeta, `${what} dbeta`);
                // And the whole chain against float64 statistics.
                const refChain = batchNormBackwardReference(dy, x, shape, { mean: ref.mean, invStd: ref.invStd, gamma, training, layout });
                expectClose(dx, refChain.dx, 2e-5, scale, `${what} dx (float64 chain)`);
                checked++;
              }
            }
          }
          expect(checked).toBeGreaterThan(20);
        });
      }
    }
  }

  it("long runs and many rows: NCHW runs longer than one f32 piece, NHWC over several chunks, odd channel counts", () => {
    const cases: [number, number, number[], Layout][] = [
      [3, 2, [50, 45], "NCHW"], [2, 3, [40, 41], "NHWC"], [17, 64, [7, 5], "NHWC"], [1037, 5, [], "NCHW"],
      [1037, 6, [], "NHWC"], [5, 9, [3, 331], "NHWC"], [2, 3, [4099], "NCHW"], [4, 1, [1030], "NHWC"],
      [5, 3, [2], "NCHW"], [4, 6, [3], "NCHW"], [3, 2, [6], "NCHW"], [3, 2, [2], "NHWC"],
    ];
    let seed = 900;
    for (const [N, C, spatial, layout] of cases) {
      const shape = shapeOf(N, C, spatial, layout);
      const x = channelData(seed++, shape, layout, 5, 3);
      const random = seededRandom(seed++);
      const gamma = f32(randomArray(random, C, 2));
      const beta = f32(randomArray(random, C, 1));
      const ref = batchNormForwardReference(x, shape, { training: true, gamma, beta, layout });
      const { y, mean, invStd } = batchNormForward(x, shape, { gamma, beta, layout });
      const what = `${layout} [${shape.join(",")}]`;
      expectClose(y, ref.y, 2e-6, 1, `${what} y`);
      expectClose(mean, ref.mean, 1e-6, 1, `${what} mean`);
      expectClose(invStd, ref.invStd, 2e-6, 0, `${what} invStd`);
      const dy = f32(randomArray(random, x.length, 1));
      const { dx, dgamma, dbeta } = batchNormBackward(dy, x, shape, { mean, invStd, gamma, layout });
      const refBack = batchNormBackwardReference(dy, x, shape, { mean, invStd, gamma, training: true, layout });
      expectClose(dx, refBack.dx, 1e-5, dxScale(dy, shape, layout, invStd, gamma), `${what} dx`);
      const sums = paramGradScales(dy, x, shape, layout, mean, invStd);
      expectClose(dgamma, refBack.dgamma, 1e-6, sums.dgamma, `${what} dgamma`);
      expectClose(dbeta, refBack.dbeta, 1e-6, sums.dbeta, `${what} dbeta`);
    }
  });

  it("an NC batch is the same in both layouts and equals NCHW with 1×1 spatial", () => {
    const x = channelData(77, [33, 7], "NHWC");
    const a = batchNormForward(x, [33, 7], { layout: "NCHW" });
    const b = batchNormForward(x, [33, 7], { layout: "NHWC" });
    const c = batchNormForward(x, [33, 7, 1, 1], { layout: "NCHW" });
    expect(b.y).toEqual(a.y);
    expect(c.y).toEqual(a.y);
    expect(b.invStd).toEqual(a.invStd);
  });
});

describe("numerics", () => {
  for (const layout of LAYOUTS) {
    it(`${layout}: a channel with mean 1e4 and std 1 keeps its variance (no E[x²] − E[x]²)`, () => {
      const shape = shapeOf(8, 3, [32, 32], layout);
      const random = seededRandom(4242);
      const channel = channelOf(shape, layout);
      // Box–Muller normals around 1e4 (channel 0), −3e4 (channel 1) and 0.5 (channel 2).
      const centres = [1e4, -3e4, 0.5];
      const x = new Float32Array(channel.length);
      for (let i = 0; i < x.length; i++) {
        const u = Math.max(random(), 1e-12);
        x[i] = centres[channel[i]!]! + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
      }
      const ref = batchNormForwardReference(x, shape, { training: true, layout, runningMean: [0, 0, 0], runningVar: [1, 1, 1] });
      const runningMean = new Float32Array(3);
      const runningVar = new Float32Array(3).fill(1);
      const { y, mean, invStd } = batchNormForward(x, shape, { layout, runningMean, runningVar });
      for (let c = 0; c < 3; c++) expect(Math.abs(ref.variance[c]! - 1)).toBeLessThan(0.1); // the data really have std ≈ 1
      expectClose(invStd, ref.invStd, 1e-6, 0, "invStd");
      expectClose(mean, ref.mean, 1e-7, 1, "mean");
      // (x − f32 mean) is exact and the mean's rounding is folded into the offset: y stays float32-accurate.
      expectClose(y, ref.y, 1e-5, 1, "y");
      expectClose(runningVar, ref.runningVar!, 1e-6, 0, "runningVar");
      const dy = f32(randomArray(random, x.length, 1));
      const { dx, dgamma } = batchNormBackward(dy, x, shape, { mean, invStd, layout });
      const refBack = batchNormBackwardReference(dy, x, shape, { mean: ref.mean, invStd: ref.invStd, training: true, layout });
      // The saved f32 mean is off by up to half an ulp of 1e4 (5e-4 std), which the backward inherits.
      expectClose(dx, refBack.dx, 2e-3, maxAbs(refBack.dx), "dx");
      expectClose(dgamma, refBack.dgamma, 2e-3, maxAbs(refBack.dgamma), "dgamma");
    });
  }

  for (const layout of LAYOUTS) {
    it(`${layout}: images with wildly different means, sorted data and tiny spreads keep float32 accuracy`, () => {
      const random = seededRandom(777);
      const shape = shapeOf(9, 4, [31, 33], layout);
      const channel = channelOf(shape, layout);
      const perImage = x0Length(shape) / 9;
      const x = new Float32Array(channel.length);
      for (let i = 0; i < x.length; i++) {
        const image = Math.floor(i / perImage);
        const c = channel[i]!;
        // c0: image means jump by 1e4 between images, spread 1e-2; c1: a ramp (sorted data);
        // c2: mean 5e3 with spread 1e-1; c3: first image far off, the rest tight.
        x[i] = c === 0 ? (image % 3) * 1e4 + 1e-2 * (random() - 0.5)
          : c === 1 ? i * 1e-3
          : c === 2 ? 5e3 + 0.1 * (random() - 0.5)
          : image === 0 ? 1e3 + random() : random();
      }
      const ref = batchNormForwardReference(x, shape, { training: true, layout, runningMean: [0, 0, 0, 0], runningVar: [1, 1, 1, 1] });
      const runningVar = new Float32Array(4).fill(1);
      const { y, invStd } = batchNormForward(x, shape, { layout, runningVar });
      expectClose(invStd, ref.invStd, 1e-6, 0, "invStd");
      expectClose(runningVar, ref.runningVar!, 1e-6, 0, "runningVar");
      expectClose(y, ref.y, 1e-5, 1, "y");
    });
  }

  for (const layout of LAYOUTS) {
    it(`${layout}: 2·10⁶ values per channel lose nothing to f32 accumulation`, () => {
      const shape = shapeOf(2, 2, [1024, 1024], layout);
      const random = seededRandom(555);
      const channel = channelOf(shape, layout);
      const x = new Float32Array(channel.length);
      for (let i = 0; i < x.length; i++) x[i] = (channel[i] === 0 ? 1e4 : 3) + (random() - 0.5) * 2;
      const ref = batchNormForwardReference(x, shape, { training: true, layout, runningMean: [0, 0], runningVar: [1, 1] });
      const runningMean = new Float32Array(2);
      const runningVar = new Float32Array(2).fill(1);
      const { mean, invStd } = batchNormForward(x, shape, { layout, runningMean, runningVar });
      expectClose(mean, ref.mean, 1e-7, 0, "mean");
      expectClose(invStd, ref.invStd, 1e-6, 0, "invStd");
      expectClose(runningMean, ref.runningMean!, 1e-7, 0, "runningMean");
      expectClose(runningVar, ref.runningVar!, 1e-6, 0, "runningVar");
      const dy = new Float32Array(x.length).fill(0.5);
      const { dbeta } = batchNormBackward(dy, x, shape, { mean, invStd, layout });
      expectClose(dbeta, [2 ** 20, 2 ** 20], 1e-7, 0, "dbeta = Σdy");
    });
  }

  it("a constant channel gives variance 0 exactly (y = β, invStd = 1/√eps)", () => {
    const x = new Float32Array(2 * 3 * 10).fill(1234.5);
    const beta = f32([0.25, -1, 2]);
    const { y, invStd } = batchNormForward(x, [2, 3, 10], { beta, eps: 1e-5 });
    for (let i = 0; i < y.length; i++) expect(y[i]).toBe(beta[Math.floor(i / 10) % 3]);
    for (const v of invStd) expect(v).toBeCloseTo(1 / Math.sqrt(1e-5), 2);
  });
});

describe("gradient check", () => {
  for (const layout of LAYOUTS) {
    it(`${layout}: analytic float64 backward = central differences of the float64 forward, and the kernel matches both`, () => {
      const shape = shapeOf(3, 3, [2, 5], layout);
      const x = channelData(31, shape, layout, 2, 1);
      const random = seededRandom(32);
      const gamma = f32(randomArray(random, 3, 2));
      const beta = f32(randomArray(random, 3, 1));
      const dy = f32(randomArray(random, x.length, 1));
      const x64 = Float64Array.from(x);
      const gamma64 = Float64Array.from(gamma);
      const beta64 = Float64Array.from(beta);
      const loss = (xs: Float64Array, g: Float64Array, b: Float64Array) => {
        const { y } = batchNormForwardReference(xs, shape, { training: true, gamma: g, beta: b, layout, eps: 1e-5 });
        let total = 0;
        for (let i = 0; i < y.length; i++) total += y[i]! * dy[i]!;
        return total;
      };
      const h = 1e-6;
      const numeric = (values: Float64Array, i: number, evaluate: () => number) => {
        const saved = values[i]!;
        values[i] = saved + h;
        const up = evaluate();
        values[i] = saved - h;
        const down = evaluate();
        values[i] = saved;
        return (up - down) / (2 * h);
      };
      const evaluate = () => loss(x64, gamma64, beta64);
      const numericDx = Float64Array.from(x64, (_, i) => numeric(x64, i, evaluate));
      const numericDgamma = Float64Array.from(gamma64, (_, i) => numeric(gamma64, i, evaluate));
      const numericDbeta = Float64Array.from(beta64, (_, i) => numeric(beta64, i, evaluate));

      const ref = batchNormForwardReference(x64, shape, { training: true, gamma: gamma64, beta: beta64, layout });
      const analytic = batchNormBackwardReference(dy, x64, shape, { mean: ref.mean, invStd: ref.invStd, gamma: gamma64, training: true, layout });
      expectClose(analytic.dx, numericDx, 1e-6, maxAbs(numericDx), "analytic dx vs finite differences");
      expectClose(analytic.dgamma, numericDgamma, 1e-6, maxAbs(numericDgamma), "analytic dgamma vs finite differences");
      expectClose(analytic.dbeta, numericDbeta, 1e-6, maxAbs(numericDbeta), "analytic dbeta vs finite differences");

      const { mean, invStd } = batchNormForward(x, shape, { gamma, beta, layout });
      const { dx, dgamma, dbeta } = batchNormBackward(dy, x, shape, { mean, invStd, gamma, layout });
      expectClose(dx, numericDx, 5e-5, maxAbs(numericDx), "kernel dx vs finite differences");
      expectClose(dgamma, numericDgamma, 5e-5, maxAbs(numericDgamma), "kernel dgamma vs finite differences");
      expectClose(dbeta, numericDbeta, 5e-5, maxAbs(numericDbeta), "kernel dbeta vs finite differences");
    });

    it(`${layout}: eval-mode backward treats the statistics as constants (central differences with running stats)`, () => {
      const shape = shapeOf(2, 3, [3], layout);
      const x = channelData(41, shape, layout);
      const random = seededRandom(42);
      const gamma = f32(randomArray(random, 3, 2));
      const runningMean = f32(randomArray(random, 3, 1));
      const runningVar = f32([0.5, 1.5, 2]);
      const dy = f32(randomArray(random, x.length, 1));
      const x64 = Float64Array.from(x);
      const h = 1e-6;
      const loss = () => {
        const { y } = batchNormForwardReference(x64, shape, { training: false, gamma, runningMean, runningVar, layout });
        return y.reduce((s, v, i) => s + v * dy[i]!, 0);
      };
      const numericDx = Float64Array.from(x64, (_, i) => {
        const saved = x64[i]!;
        x64[i] = saved + h; const up = loss();
        x64[i] = saved - h; const down = loss();
        x64[i] = saved;
        return (up - down) / (2 * h);
      });
      const { mean, invStd } = batchNormForward(x, shape, { training: false, gamma, runningMean, runningVar, layout });
      expect(Array.from(mean)).toEqual(Array.from(runningMean));
      const { dx } = batchNormBackward(dy, x, shape, { mean, invStd, gamma, training: false, layout });
      expectClose(dx, numericDx, 1e-5, maxAbs(numericDx), "eval dx");
    });
  }
});

describe("running statistics", () => {
  for (const layout of LAYOUTS) {
    it(`${layout}: momentum 0.1 over several calls (foreign arrays and library views alike)`, () => {
      const shape = shapeOf(4, 5, [3, 3], layout);
      let refMean: Float64Array = new Float64Array(5);
      let refVar: Float64Array = new Float64Array(5).fill(1);
      const foreignMean = new Float32Array(5);
      const foreignVar = new Float32Array(5).fill(1);
      const libMean = parameter([5]);
      const libVar = parameter([5], { init: "ones" });
      for (let step = 0; step < 6; step++) {
        const x = channelData(100 + step, shape, layout);
        const ref = batchNormForwardReference(x, shape, { training: true, runningMean: refMean, runningVar: refVar, momentum: 0.1, layout });
        refMean = ref.runningMean!;
        refVar = ref.runningVar!;
        batchNormForward(x, shape, { runningMean: foreignMean, runningVar: foreignVar, momentum: 0.1, layout });
        batchNormForward(x, shape, { runningMean: libMean.data, runningVar: libVar.data, layout });
      }
      expectClose(foreignMean, refMean, 1e-5, 1e-2, "runningMean");
      expectClose(foreignVar, refVar, 1e-5, 0, "runningVar");
      expect(libMean.data).toEqual(foreignMean);
      expect(libVar.data).toEqual(foreignVar);
      libMean.dispose();
      libVar.dispose();
    });
  }

  it("layer with momentum null keeps the cumulative average (PyTorch's num_batches_tracked)", () => {
    const bn = new BatchNorm(3, { momentum: null });
    const shape = [6, 3, 4];
    const batchMeans: Float64Array[] = [];
    const batchVars: Float64Array[] = [];
    for (let step = 0; step < 5; step++) {
      const x = channelData(200 + step, shape, "NCHW");
      const ref = batchNormForwardReference(x, shape, { training: true });
      batchMeans.push(ref.mean);
      const count = x.length / 3;
      batchVars.push(ref.variance.map((v) => (v * count) / (count - 1)));
      bn.forward(x, shape);
      expect(bn.numBatchesTracked).toBe(step + 1);
      const avgMean = [0, 1, 2].map((c) => batchMeans.reduce((s, m) => s + m[c]!, 0) / batchMeans.length);
      const avgVar = [0, 1, 2].map((c) => batchVars.reduce((s, v) => s + v[c]!, 0) / batchVars.length);
      expectClose(bn.runningMean!, avgMean, 1e-5, 1e-2, `cumulative mean after ${step + 1}`);
      expectClose(bn.runningVar!, avgVar, 1e-5, 0, `cumulative var after ${step + 1}`);
    }
    // Eval forwards do not count batches.
    bn.training = false;
    bn.forward(channelData(299, shape, "NCHW"), shape);
    expect(bn.numBatchesTracked).toBe(5);
    bn.dispose();
  });
});

describe("BatchNorm layer", () => {
  it("initialises as PyTorch: weight ones, bias zeros, running mean 0, running var 1; views are live wasm views", () => {
    const bn = new BatchNorm(5);
    expect(Array.from(bn.weight!.data)).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(bn.bias!.data)).toEqual([0, 0, 0, 0, 0]);
    const runningMean = bn.runningMean!;
    const runningVar = bn.runningVar!;
    expect(Array.from(runningMean)).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(runningVar)).toEqual([1, 1, 1, 1, 1]);
    expect(wasmOffset(runningMean)).toBeGreaterThan(0);
    expect(bn.training).toBe(true);
    expect(bn.eps).toBe(1e-5);
    expect(bn.momentum).toBe(0.1);
    // The view handed out earlier sees the update.
    const shape = [4, 5, 3];
    const x = channelData(5, shape, "NCHW");
    bn.forward(x, shape);
    const ref = batchNormForwardReference(x, shape, { training: true, runningMean: new Float64Array(5), runningVar: new Float64Array(5).fill(1) });
    expectClose(runningMean, ref.runningMean!, 1e-6, 1e-2, "live runningMean");
    expectClose(runningVar, ref.runningVar!, 1e-6, 0, "live runningVar");
    bn.dispose();
  });

  for (const layout of LAYOUTS) {
    it(`${layout}: forward/backward match the functional form; grads accumulate into weight.grad and bias.grad`, () => {
      const bn = new BatchNorm(7, { layout });
      bn.weight!.data.set(f32([1.5, -0.5, 2, 1, 0.25, 3, -1]));
      bn.bias!.data.set(f32([0.1, 0.2, 0.3, -0.4, 0.5, 0.6, 0.7]));
      const shape = shapeOf(5, 7, [2, 3], layout);
      const x = channelData(61, shape, layout);
      const dy = f32(randomArray(seededRandom(62), x.length, 1));
      const gamma = Float32Array.from(bn.weight!.data);
      const beta = Float32Array.from(bn.bias!.data);
      const expected = batchNormForward(x, shape, { gamma, beta, layout });
      const back = batchNormBackward(dy, x, shape, { mean: expected.mean, invStd: expected.invStd, gamma, layout });
      const y = bn.forward(x, shape);
      expect(y).toEqual(expected.y);
      const dx = bn.backward(dy);
      expect(dx).toEqual(back.dx);
      expectClose(bn.weight!.grad, back.dgamma, 1e-6, 1e-3, "weight.grad");
      expectClose(bn.bias!.grad, back.dbeta, 1e-6, 1e-3, "bias.grad");
      // A second forward/backward adds to the gradients, as autograd does.
      bn.forward(x, shape);
      bn.backward(dy);
      expectClose(bn.weight!.grad, back.dgamma.map((v) => 2 * v), 1e-6, 1e-3, "accumulated weight.grad");
      expectClose(bn.bias!.grad, back.dbeta.map((v) => 2 * v), 1e-6, 1e-3, "accumulated bias.grad");

      // An optimizer of the package updates the layer's parameters from those gradients.
      const opt = new SGD([bn.weight!, bn.bias!], { lr: 0.1 });
      const before = Float32Array.from(bn.weight!.data);
      const grad = Float32Array.from(bn.weight!.grad);
      opt.step();
      for (let c = 0; c < 7; c++) expect(bn.weight!.data[c]).toBeCloseTo(before[c]! - 0.1 * grad[c]!, 6);
      expect(bn.weight!.data).not.toEqual(before);
      opt.zeroGrad();
      expect(Array.from(bn.weight!.grad)).toEqual(new Array(7).fill(0));
      bn.dispose();
    });
  }

  it("eval mode uses the running statistics and its backward treats them as constants", () => {
    const bn = new BatchNorm(3);
    const shape = [4, 3, 5];
    for (let step = 0; step < 3; step++) bn.forward(channelData(70 + step, shape, "NCHW"), shape);
    bn.training = false;
    const runningMean = Float32Array.from(bn.runningMean!);
    const runningVar = Float32Array.from(bn.runningVar!);
    const x = channelData(80, shape, "NCHW");
    const y = bn.forward(x, shape);
    const ref = batchNormForwardReference(x, shape, { training: false, runningMean, runningVar });
    expectClose(y, ref.y, 2e-6, 1, "eval y");
    expect(bn.runningMean).toEqual(runningMean);
    const dy = f32(randomArray(seededRandom(81), x.length, 1));
    const dx = bn.backward(dy);
    const refBack = batchNormBackwardReference(dy, x, shape, { mean: ref.mean, invStd: ref.invStd, training: false });
    expectClose(dx, refBack.dx, 2e-6, maxAbs(refBack.dx), "eval dx");
    expectClose(bn.weight!.grad, refBack.dgamma, 2e-5, maxAbs(refBack.dgamma), "eval weight.grad");
    bn.dispose();
  });

  it("trackRunningStats false: no running stats, eval mode uses batch statistics", () => {
    const bn = new BatchNorm(3, { trackRunningStats: false });
    expect(bn.runningMean).toBeNull();
    expect(bn.runningVar).toBeNull();
    bn.training = false;
    const shape = [4, 3, 5];
    const x = channelData(90, shape, "NCHW");
    const y = bn.forward(x, shape);
    const ref = batchNormForwardReference(x, shape, { training: true });
    expectClose(y, ref.y, 2e-6, 1, "batch-statistics y");
    expect(bn.numBatchesTracked).toBe(0);
    const dy = f32(randomArray(seededRandom(91), x.length, 1));
    const refBack = batchNormBackwardReference(dy, x, shape, { mean: ref.mean, invStd: ref.invStd, training: true });
    expectClose(bn.backward(dy), refBack.dx, 5e-5, maxAbs(refBack.dx), "batch-statistics dx");
    bn.dispose();
  });

  it("affine false: no parameters; backward still gives dx", () => {
    const bn = new BatchNorm(4, { affine: false, layout: "NHWC" });
    expect(bn.weight).toBeNull();
    expect(bn.bias).toBeNull();
    const shape = [3, 2, 4];
    const x = channelData(95, shape, "NHWC");
    const y = bn.forward(x, shape);
    const ref = batchNormForwardReference(x, shape, { training: true, layout: "NHWC" });
    expectClose(y, ref.y, 2e-6, 1, "y");
    const dy = f32(randomArray(seededRandom(96), x.length, 1));
    const refBack = batchNormBackwardReference(dy, x, shape, { mean: ref.mean, invStd: ref.invStd, training: true, layout: "NHWC" });
    expectClose(bn.backward(dy), refBack.dx, 5e-5, maxAbs(refBack.dx), "dx");
    bn.dispose();
  });

  it("rejects bad use before changing anything", () => {
    const bn = new BatchNorm(3);
    expect(() => bn.backward(new Float32Array(6))).toThrow(/forward first/);
    const runningMean = Float32Array.from(bn.runningMean!);
    expect(() => bn.forward(new Float32Array(8), [2, 4])).toThrow(RangeError);
    expect(() => bn.forward(new Float32Array(6), [2, 3, 2])).toThrow(RangeError);
    expect(() => bn.forward(new Float32Array(3), [1, 3])).toThrow(/more than 1 value per channel/);
    expect(bn.runningMean).toEqual(runningMean);
    expect(bn.numBatchesTracked).toBe(0);
    bn.forward(new Float32Array([1, 2, 3, 4, 5, 7]), [2, 3]);
    expect(() => bn.backward(new Float32Array(5))).toThrow(RangeError);
    expect(Array.from(bn.weight!.grad)).toEqual([0, 0, 0]);
    expect(() => new BatchNorm(0)).toThrow(RangeError);
    expect(() => new BatchNorm(3, { layout: "NWHC" as never })).toThrow(RangeError);
    bn.dispose();
    expect(() => bn.runningMean).toThrow(TypeError);
  });
});

describe("arrays: library views zero-copy, foreign arrays copied, out in place", () => {
  it("library views (before and after memory growth) give the same results as plain arrays, written in place", () => {
    const shape = [3, 4, 5, 3];
    const x = channelData(300, shape, "NCHW");
    const gamma = f32([1, 2, 0.5, -1]);
    const expected = batchNormForward(x, shape, { gamma });
    const xParam = parameter(shape, { init: x });
    const outParam = parameter(shape);
    const gammaParam = parameter([4], { init: gamma });
    const xView = xParam.data;
    const outView = outParam.data;
    // Force the memory to grow: the views above now belong to an older SharedArrayBuffer object.
    const big = parameter([48 * 1024 * 1024]);
    expect(wasmOffset(xView)).toBe(xParam.dataPtr);
    expect(wasmOffset(new Float32Array(4))).toBe(-1);
    const result = batchNormForward(xView, shape, { gamma: gammaParam.data, out: outView });
    expect(result.y).toBe(outView);
    expect(outView).toEqual(expected.y);
    expect(result.mean).toEqual(expected.mean);
    // In place on x itself.
    batchNormForward(xView, shape, { gamma: gammaParam.data, out: xView });
    expect(xParam.data).toEqual(expected.y);
    const plainOut = new Float32Array(x.length);
    const plainX = Float32Array.from(x);
    expect(batchNormForward(plainX, shape, { gamma, out: plainX }).y).toBe(plainX);
    expect(plainX).toEqual(expected.y);
    expect(batchNormForward(x, shape, { gamma, out: plainOut }).y).toBe(plainOut);
    expect(plainOut).toEqual(expected.y);
    big.dispose();
    xParam.dispose();
    outParam.dispose();
    gammaParam.dispose();
  });

  it("results without out are plain caller-owned arrays; backward out/dgammaOut/dbetaOut/accumulate", () => {
    const shape = [4, 3, 6];
    const x = channelData(310, shape, "NCHW");
    const { y, mean, invStd } = batchNormForward(x, shape);
    expect(y.buffer).toBeInstanceOf(ArrayBuffer);
    expect(wasmOffset(y)).toBe(-1);
    expect(mean.length).toBe(3);
    const dy = f32(randomArray(seededRandom(311), x.length, 1));
    const fresh = batchNormBackward(dy, x, shape, { mean, invStd });
    const dgammaOut = f32([1, 1, 1]);
    const dbetaOut = parameter([3], { init: [2, 2, 2] });
    const out = new Float32Array(x.length);
    const r = batchNormBackward(dy, x, shape, { mean, invStd, out, dgammaOut, dbetaOut: dbetaOut.data, accumulate: true });
    expect(r.dx).toBe(out);
    expect(out).toEqual(fresh.dx);
    expectClose(dgammaOut, fresh.dgamma.map((v) => v + 1), 1e-6, 1, "accumulated dgamma");
    expectClose(dbetaOut.data, fresh.dbeta.map((v) => v + 2), 1e-6, 1, "accumulated dbeta");
    // dx in place over dy.
    const dyCopy = Float32Array.from(dy);
    batchNormBackward(dyCopy, x, shape, { mean, invStd, out: dyCopy });
    expect(dyCopy).toEqual(fresh.dx);
    dbetaOut.dispose();
  });
});

describe("validation: RangeError/TypeError naming the argument, nothing written", () => {
  const shape = [2, 3, 4];
  const x = channelData(400, shape, "NCHW");
  const good = () => ({
    gamma: new Float32Array(3).fill(1), beta: new Float32Array(3), runningMean: new Float32Array(3).fill(0.5),
    runningVar: new Float32Array(3).fill(2), out: new Float32Array(24).fill(7),
  });
  const cases: [string, (o: ReturnType<typeof good>) => () => unknown, Error][] = [
    ["x length", (o) => () => batchNormForward(new Float32Array(23), shape, o), new RangeError("simdopt: batchNormForward: x has 23 elements but shape [2, 3, 4] needs 24")],
    ["gamma length", (o) => () => batchNormForward(x, shape, { ...o, gamma: new Float32Array(4) }), new RangeError("simdopt: batchNormForward: gamma has 4 elements, expected 3 (one per channel)")],
    ["beta length", (o) => () => batchNormForward(x, shape, { ...o, beta: new Float32Array(2) }), new RangeError("simdopt: batchNormForward: beta has 2 elements, expected 3 (one per channel)")],
    ["runningMean length", (o) => () => batchNormForward(x, shape, { ...o, runningMean: new Float32Array(4) }), new RangeError("simdopt: batchNormForward: runningMean has 4 elements, expected 3 (one per channel)")],
    ["runningVar length", (o) => () => batchNormForward(x, shape, { ...o, runningVar: new Float32Array(1) }), new RangeError("simdopt: batchNormForward: runningVar has 1 elements, expected 3 (one per channel)")],
    ["meanOut length", (o) => () => batchNormForward(x, shape, { ...o, meanOut: new Float32Array(2) }), new RangeError("simdopt: batchNormForward: meanOut has 2 elements, expected 3 (one per channel)")],
    ["invStdOut length", (o) => () => batchNormForward(x, shape, { ...o, invStdOut: new Float32Array(24) }), new RangeError("simdopt: batchNormForward: invStdOut has 24 elements, expected 3 (one per channel)")],
    ["out length", (o) => () => batchNormForward(x, shape, { ...o, out: new Float32Array(25) }), new RangeError("simdopt: batchNormForward: out has 25 elements, expected 24 (the size of x)")],
    ["layout", (o) => () => batchNormForward(x, shape, { ...o, layout: "NCWH" as never }), new RangeError('simdopt: batchNormForward: layout must be one of "NCHW", "NHWC", got "NCWH" (string)')],
    ["layout type", (o) => () => batchNormForward(x, shape, { ...o, layout: 3 as never }), new TypeError('simdopt: batchNormForward: layout must be one of "NCHW", "NHWC", got 3')],
    ["1-D shape", (o) => () => batchNormForward(new Float32Array(24), [24], o), new RangeError("simdopt: batchNormForward: shape must have at least 2 dimensions ([N, C, ...] or [N, ..., C]), got [24]")],
    ["bad dim", (o) => () => batchNormForward(x, [2, 3, 4.5], o), new RangeError("simdopt: batchNormForward: shape[2] must be a positive integer, got 4.5")],
    ["shape not an array", (o) => () => batchNormForward(x, "2,3,4" as never, o), new TypeError('simdopt: batchNormForward: shape must be an array of dimensions, got "2,3,4" (string)')],
    ["gamma type", (o) => () => batchNormForward(x, shape, { ...o, gamma: [1, 1, 1] as never }), new TypeError("simdopt: batchNormForward: gamma must be a Float32Array, got [1, 1, 1]")],
    ["x type", (o) => () => batchNormForward([1, 2] as never, [1, 2], o), new TypeError("simdopt: batchNormForward: x must be a Float32Array, got [1, 2]")],
    ["eps", (o) => () => batchNormForward(x, shape, { ...o, eps: -1 }), new RangeError("simdopt: batchNormForward: eps must be a finite number ≥ 0, got -1")],
    ["momentum", (o) => () => batchNormForward(x, shape, { ...o, momentum: NaN }), new TypeError("simdopt: batchNormForward: momentum must be a finite number, got NaN")],
    ["momentum null", (o) => () => batchNormForward(x, shape, { ...o, momentum: null as never }), new TypeError("simdopt: batchNormForward: momentum null (the cumulative average) needs a count of batches: use the BatchNorm layer, or pass 1/batchesSeen")],
    ["training a string", (o) => () => batchNormForward(x, shape, { ...o, training: "yes" as never }), new TypeError('simdopt: batchNormForward: training must be a boolean (true or false), got "yes" (string)')],
    ["options not an object", () => () => batchNormForward(x, shape, 3 as never), new TypeError("simdopt: batchNormForward: options must be an object, got 3")],
    ["eval without running stats", (o) => () => batchNormForward(x, shape, { ...o, training: false, runningVar: null }), new TypeError("simdopt: batchNormForward: runningMean and runningVar are required when training is false")],
    ["eval without running mean", (o) => () => batchNormForward(x, shape, { ...o, training: false, runningMean: undefined }), new TypeError("simdopt: batchNormForward: runningMean and runningVar are required when training is false")],
    ["one value per channel", (o) => () => batchNormForward(new Float32Array(3), [1, 3, 1, 1], { ...o, out: o.out.subarray(0, 3) }), new RangeError("simdopt: batchNormForward: Expected more than 1 value per channel when training, got input size [1, 3, 1, 1]")],
  ];
  for (const [name, make, error] of cases) {
    it(`forward: ${name}`, () => {
      const o = good();
      const before = { ...o, gamma: o.gamma.slice(), runningMean: o.runningMean.slice(), runningVar: o.runningVar.slice(), out: o.out.slice() };
      expect(make(o)).toThrow(error);
      expect(o.out).toEqual(before.out);
      expect(o.runningMean).toEqual(before.runningMean);
      expect(o.runningVar).toEqual(before.runningVar);
    });
  }

  it("backward: every mismatch throws before dx, dgamma or dbeta is written", () => {
    const { mean, invStd } = batchNormForward(x, shape);
    const out = new Float32Array(24).fill(7);
    const dgammaOut = new Float32Array(3).fill(7);
    const dbetaOut = new Float32Array(3).fill(7);
    const dy = f32(randomArray(seededRandom(401), 24, 1));
    const base = { mean, invStd, out, dgammaOut, dbetaOut };
    const bad: [() => unknown, Error][] = [
      [() => batchNormBackward(new Float32Array(23), x, shape, base), new RangeError("simdopt: batchNormBackward: dy has 23 elements, x has 24")],
      [() => batchNormBackward([0] as never, x, shape, base), new TypeError("simdopt: batchNormBackward: dy must be a Float32Array, got [0]")],
      [() => batchNormBackward(dy, new Float32Array(23), shape, base), new RangeError("simdopt: batchNormBackward: x has 23 elements but shape [2, 3, 4] needs 24")],
      [() => batchNormBackward(dy, x, shape, { ...base, mean: new Float32Array(2) }), new RangeError("simdopt: batchNormBackward: mean has 2 elements, expected 3 (one per channel)")],
      [() => batchNormBackward(dy, x, shape, { ...base, invStd: undefined as never }), new TypeError("simdopt: batchNormBackward: invStd must be a Float32Array, got undefined")],
      [() => batchNormBackward(dy, x, shape, { ...base, gamma: new Float32Array(4) }), new RangeError("simdopt: batchNormBackward: gamma has 4 elements, expected 3 (one per channel)")],
      [() => batchNormBackward(dy, x, shape, { ...base, dgammaOut: new Float32Array(2) }), new RangeError("simdopt: batchNormBackward: dgammaOut has 2 elements, expected 3 (one per channel)")],
      [() => batchNormBackward(dy, x, shape, { ...base, dbetaOut: new Float32Array(4) }), new RangeError("simdopt: batchNormBackward: dbetaOut has 4 elements, expected 3 (one per channel)")],
      [() => batchNormBackward(dy, x, shape, { ...base, out: new Float32Array(4) }), new RangeError("simdopt: batchNormBackward: out has 4 elements, expected 24 (the size of x)")],
      [() => batchNormBackward(dy, x, [2, 12], { ...base }), new RangeError("simdopt: batchNormBackward: mean has 3 elements, expected 12 (one per channel)")],
      [() => batchNormBackward(dy, x, shape, { ...base, layout: "nchw" as never }), new RangeError('simdopt: batchNormBackward: layout must be one of "NCHW", "NHWC", got "nchw" (string)')],
      [() => batchNormBackward(dy, x, shape, { ...base, accumulate: 1 as never }), new TypeError("simdopt: batchNormBackward: accumulate must be a boolean (true or false), got 1")],
      [() => batchNormBackward(dy, x, shape, undefined as never), new TypeError("simdopt: batchNormBackward: options { mean, invStd } are required")],
    ];
    for (const [call, error] of bad) {
      expect(call).toThrow(error);
      expect(Array.from(out)).toEqual(new Array(24).fill(7));
      expect(Array.from(dgammaOut)).toEqual([7, 7, 7]);
      expect(Array.from(dbetaOut)).toEqual([7, 7, 7]);
    }
  });
});

describe("relaxed-SIMD build", () => {
  // Node 20 accepts relaxed SIMD only behind a flag: the relaxed build (fused multiply-adds) runs
  // in a child process on the built package (dist/, made by `npm test`'s pretest build).
  it("batch norm forward/backward of the relaxed build match float64", () => {
    const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
    expect(existsSync(dist), "dist/ is missing: run `npm run build` first").toBe(true);
    const child = fileURLToPath(new URL("../support/batchnorm-relaxed-child.mjs", import.meta.url));
    const output = execFileSync(process.execPath, ["--experimental-wasm-relaxed-simd", child], { encoding: "utf8" });
    const report = JSON.parse(output) as { relaxedSimd: boolean; cases: { label: string; worstY: number; worstDx: number; worstDgamma: number }[] };
    expect(report.relaxedSimd).toBe(true);
    expect(report.cases.length).toBe(10);
    for (const { label, worstY, worstDx, worstDgamma } of report.cases) {
      // Channels with mean 1e3: the saved f32 mean (±3e-5) bounds dx and dgamma, as in the default build.
      expect(worstY, `${label} y`).toBeLessThan(2e-6);
      expect(worstDx, `${label} dx`).toBeLessThan(1e-4);
      expect(worstDgamma, `${label} dgamma`).toBeLessThan(1e-4);
    }
  });
});
