// Staging's exact-alias rule (src/ops/staging.ts), seen through batch norm: only y = x and
// dx = dy are computed in place; any other written array that is exactly an input's floats is
// staged through scratch, or the kernels would overwrite an input they still read (dx over
// invStd or gamma in eval mode, meanOut over x, dgammaOut over dy). Batch norm runs inside the
// tests only: StrykerJS counts calls made while a file is collected as covered by no test.
import { describe, expect, it } from "vitest";
import { batchNormBackward, batchNormForward, init, parameter } from "../../src/index.js";

await init();

// One sample of C channels with no spatial extent: x, dy and the per-channel arrays all hold C
// floats, so a per-channel output can be exactly x or dy.
const C = 6;
const shape = [1, C];
const xValues = [0.5, -1.25, 2, 3.5, -0.75, 1];
const dyValues = [1.5, 0.25, -2, 0.5, 1, -1];
const runningMean = Float32Array.of(0.25, -1, 1, 3, 0, 2);
const runningVar = Float32Array.of(1, 4, 0.25, 2, 9, 0.5);
const gamma = Float32Array.of(1.5, -0.5, 0.75, 2, 1, -1);

describe("batchNormForward (eval): meanOut or invStdOut exactly x", () => {
  it.each(["meanOut", "invStdOut"] as const)("%s over x's floats: y from the original x", (name) => {
    const expected = batchNormForward(Float32Array.from(xValues), shape, { training: false, runningMean, runningVar, gamma });
    const p = parameter([C], { init: xValues });
    const result = batchNormForward(p.data, shape, { training: false, runningMean, runningVar, gamma, [name]: p.data });
    expect(Array.from(result.y)).toEqual(Array.from(expected.y));
    const written = name === "meanOut" ? expected.mean : expected.invStd;
    expect(Array.from(p.data)).toEqual(Array.from(written));
    p.dispose();
  });
});

describe("batchNormBackward: out exactly x, dgammaOut or dbetaOut exactly dy (eval)", () => {
  const mean = Float32Array.of(0.1, -0.2, 0.3, 1, -1, 0);
  const invStd = Float32Array.of(1, 2, 0.5, 1.5, 0.25, 3);
  const options = { mean, invStd, gamma, training: false };
  const reference = () => batchNormBackward(Float32Array.from(dyValues), Float32Array.from(xValues), shape, options);

  it("out over x's floats (training): dx from the original x", () => {
    // Training: the dx pass reads x again after the reductions.
    const big = [3, C, 4];
    const x = Float32Array.from({ length: 72 }, (_, i) => Math.sin(i * 0.7) * 2 + (i % 5));
    const dy = Float32Array.from({ length: 72 }, (_, i) => Math.cos(i * 1.3));
    const forward = batchNormForward(x, big, { gamma });
    const reference = batchNormBackward(dy, x, big, { mean: forward.mean, invStd: forward.invStd, gamma });
    const p = parameter([72], { init: x });
    const result = batchNormBackward(dy, p.data, big, { mean: forward.mean, invStd: forward.invStd, gamma, out: p.data });
    expect(result.dx).toBe(p.data);
    expect(Array.from(p.data)).toEqual(Array.from(reference.dx));
    expect(Array.from(result.dgamma)).toEqual(Array.from(reference.dgamma));
    p.dispose();
  });

  it.each(["invStd", "gamma"] as const)("out over %s's floats: dgamma from the original values", (name) => {
    // Eval mode writes dx during the reduction, and dgamma is formed from invStd and gamma after it.
    const expected = reference();
    const p = parameter([C], { init: options[name] });
    const result = batchNormBackward(Float32Array.from(dyValues), Float32Array.from(xValues), shape, { ...options, [name]: p.data, out: p.data });
    expect(result.dx).toBe(p.data);
    expect(Array.from(p.data)).toEqual(Array.from(expected.dx));
    expect(Array.from(result.dgamma)).toEqual(Array.from(expected.dgamma));
    expect(Array.from(result.dbeta)).toEqual(Array.from(expected.dbeta));
    p.dispose();
  });

  it.each(["dgammaOut", "dbetaOut"] as const)("%s over dy's floats: dx and the sums from the original dy", (name) => {
    const expected = reference();
    const p = parameter([C], { init: dyValues });
    const result = batchNormBackward(p.data, Float32Array.from(xValues), shape, { ...options, [name]: p.data });
    expect(Array.from(result.dx)).toEqual(Array.from(expected.dx));
    expect(Array.from(name === "dgammaOut" ? result.dbeta : result.dgamma)).toEqual(Array.from(name === "dgammaOut" ? expected.dbeta : expected.dgamma));
    expect(Array.from(p.data)).toEqual(Array.from(name === "dgammaOut" ? expected.dgamma : expected.dbeta));
    p.dispose();
  });
});
