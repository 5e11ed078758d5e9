// Batch norm with outputs that share memory with inputs: partial overlap is staged through
// scratch (the result equals the non-overlapping call bit for bit), exact aliasing of y with x
// and dx with dy stays in place, and two outputs sharing bytes throw before anything is written.
import { describe, expect, it } from "vitest";
import { batchNormBackward, batchNormForward, init, parameter, type BatchNormLayout } from "../../src/index.js";

await init();

const N = 4, C = 3, S = 5; // x is [N, C, S] (NCHW) or [N, S, C] (NHWC)
const L = N * C * S;

function values(seed: number, length: number): number[] {
  return Array.from({ length }, (_, i) => Math.sin(seed * 7.3 + i * 1.7) * 3 + (i % 5));
}

function shapeOf(layout: BatchNormLayout): number[] {
  return layout === "NCHW" ? [N, C, S] : [N, S, C];
}

/** The forward on separate plain arrays: the reference every overlapping call must equal. */
function forwardReference(x: number[], layout: BatchNormLayout) {
  const runningMean = new Float32Array(C).fill(0.5);
  const runningVar = new Float32Array(C).fill(2);
  const result = batchNormForward(Float32Array.from(x), shapeOf(layout), {
    layout, gamma: Float32Array.from([1.5, -2, 0.25]), beta: Float32Array.from([0.1, 0.2, -0.3]), runningMean, runningVar,
  });
  return { y: [...result.y], mean: [...result.mean], invStd: [...result.invStd], runningMean: [...runningMean], runningVar: [...runningVar] };
}

for (const layout of ["NCHW", "NHWC"] as const) {
  describe(`batchNormForward, ${layout}: out overlapping inputs`, () => {
    const x = values(1, L);
    // Computed inside each test: batch norm called while the file is collected would count as
    // covered by no test (StrykerJS then runs every test against its mutants).
    const reference = () => forwardReference(x, layout);
    const options = () => ({
      layout, gamma: Float32Array.from([1.5, -2, 0.25]), beta: Float32Array.from([0.1, 0.2, -0.3]),
      runningMean: new Float32Array(C).fill(0.5), runningVar: new Float32Array(C).fill(2),
    });

    for (const shift of [-7, -1, 1, 4, L - 1]) {
      it(`out starting ${shift} floats from x in one library buffer gives the reference result`, () => {
        const expected = reference();
        const backing = parameter([3 * L]);
        const xAt = L;
        backing.data.set(x, xAt);
        const xView = backing.data.subarray(xAt, xAt + L);
        const out = backing.data.subarray(xAt + shift, xAt + shift + L);
        const opts = options();
        const result = batchNormForward(xView, shapeOf(layout), { ...opts, out });
        expect(result.y).toBe(out);
        expect([...out]).toEqual(expected.y);
        expect([...result.mean]).toEqual(expected.mean);
        expect([...opts.runningMean]).toEqual(expected.runningMean);
        backing.dispose();
      });
    }

    it("exact aliasing (out is x, or another view of the same floats) is computed in place", () => {
      const expected = reference();
      const p = parameter([L], { init: x });
      const result = batchNormForward(p.data, shapeOf(layout), { ...options(), out: p.data.subarray(0, L) });
      expect([...result.y]).toEqual(expected.y);
      expect([...p.data]).toEqual(expected.y);
    });

    it("meanOut/invStdOut inside x, and gamma inside out, give the reference result", () => {
      const expected = reference();
      const backing = parameter([2 * L + 8]);
      backing.data.set(x, 0);
      const xView = backing.data.subarray(0, L);
      const opts = options();
      const result = batchNormForward(xView, shapeOf(layout), {
        ...opts, meanOut: backing.data.subarray(2, 2 + C), invStdOut: backing.data.subarray(L - C, L),
      });
      expect([...result.y]).toEqual(expected.y);
      expect([...result.mean]).toEqual(expected.mean);
      expect([...result.invStd]).toEqual(expected.invStd);
      const gammaHost = parameter([L], { init: values(3, L) });
      const gammaInOut = gammaHost.data.subarray(5, 5 + C);
      gammaInOut.set([1.5, -2, 0.25]);
      const y = batchNormForward(Float32Array.from(x), shapeOf(layout), { ...options(), gamma: gammaInOut, out: gammaHost.data });
      expect([...y.y]).toEqual(expected.y);
    });

    it("two outputs sharing bytes throw RangeError before anything is written", () => {
      const p = parameter([L + C], { init: values(2, L + C) });
      const before = [...p.data];
      const opts = options();
      expect(() => batchNormForward(Float32Array.from(x), shapeOf(layout), { ...opts, out: p.data.subarray(0, L), runningMean: p.data.subarray(L - 1, L - 1 + C) }))
        .toThrow(/batchNormForward: runningMean and out share memory/);
      expect(() => batchNormForward(Float32Array.from(x), shapeOf(layout), { ...opts, meanOut: p.data.subarray(0, C), invStdOut: p.data.subarray(1, 1 + C) }))
        .toThrow(RangeError);
      expect([...p.data]).toEqual(before);
      expect([...opts.runningMean]).toEqual(new Array(C).fill(0.5));
    });
  });

  describe(`batchNormBackward, ${layout}: out overlapping inputs`, () => {
    const x = values(4, L);
    const dy = values(5, L);
    const gamma = [0.5, -1.25, 2];
    // Inside each test, as above.
    const setup = () => {
      const forward = batchNormForward(Float32Array.from(x), shapeOf(layout), { layout, gamma: Float32Array.from(gamma) });
      const reference = batchNormBackward(Float32Array.from(dy), Float32Array.from(x), shapeOf(layout), {
        layout, mean: forward.mean, invStd: forward.invStd, gamma: Float32Array.from(gamma),
      });
      return { forward, expected: { dx: [...reference.dx], dgamma: [...reference.dgamma], dbeta: [...reference.dbeta] } };
    };

    for (const shift of [-3, 2, L - 4]) {
      it(`dx starting ${shift} floats from dy, and dx over x, give the reference result`, () => {
        const { forward, expected } = setup();
        const backing = parameter([5 * L]);
        backing.data.set(dy, L);
        backing.data.set(x, 2 * L + 16);
        const dyView = backing.data.subarray(L, 2 * L);
        const xView = backing.data.subarray(2 * L + 16, 3 * L + 16);
        const out = backing.data.subarray(L + shift, 2 * L + shift);
        const result = batchNormBackward(dyView, xView, shapeOf(layout), { layout, mean: forward.mean, invStd: forward.invStd, gamma: Float32Array.from(gamma), out });
        expect(result.dx).toBe(out);
        expect([...out]).toEqual(expected.dx);
        expect([...result.dgamma]).toEqual(expected.dgamma);
        backing.data.set(dy, L);
        backing.data.set(x, 2 * L + 16);
        const overX = backing.data.subarray(2 * L + 16 + shift, 3 * L + 16 + shift);
        batchNormBackward(dyView, xView, shapeOf(layout), { layout, mean: forward.mean, invStd: forward.invStd, gamma: Float32Array.from(gamma), out: overX });
        expect([...overX]).toEqual(expected.dx);
      });
    }

    it("dx exactly aliasing dy is computed in place; dgammaOut inside dy accumulates correctly", () => {
      const { forward, expected } = setup();
      const p = parameter([L], { init: dy });
      const dyView = p.data.subarray(0, L);
      const dgammaOut = p.data.subarray(4, 4 + C);
      const start = [...dgammaOut];
      batchNormBackward(dyView, Float32Array.from(x), shapeOf(layout), {
        layout, mean: forward.mean, invStd: forward.invStd, gamma: Float32Array.from(gamma), dgammaOut, accumulate: true,
      });
      const accumulated = Float32Array.from(start);
      batchNormBackward(Float32Array.from(dy), Float32Array.from(x), shapeOf(layout), {
        layout, mean: forward.mean, invStd: forward.invStd, gamma: Float32Array.from(gamma), dgammaOut: accumulated, accumulate: true,
      });
      expect([...dgammaOut]).toEqual([...accumulated]);
      p.data.set(dy, 0);
      const result = batchNormBackward(dyView, Float32Array.from(x), shapeOf(layout), {
        layout, mean: forward.mean, invStd: forward.invStd, gamma: Float32Array.from(gamma), out: p.data,
      });
      expect([...result.dx]).toEqual(expected.dx);
      expect([...p.data]).toEqual(expected.dx);
    });
  });
}
