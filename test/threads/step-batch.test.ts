// The step recorder of src/threads/step-batch.ts in this process: every threaded optimizer's
// dense, masked, row and guarded steps, accumulated steps and EMA updates, recorded and cut into
// chunks, give the bits of one thread; the layout of a dispatch; the limits on recorded calls.
// The workers are stand-ins (see fake-spawn.ts): the calling thread runs every task.
import { beforeAll, describe, expect, it, vi } from "vitest";

vi.mock("../../src/threads/spawn.js", () => import("./fake-spawn.js"));

import * as s from "../../src/index.js";
import type { Parameter } from "../../src/index.js";
import { kernels } from "../../src/bindings/instance.js";
import { stepScalars } from "../../src/bindings/memory.js";
import { initThreads, terminateThreads } from "../../src/threads/api.js";
import { CTRL, PIECE_STRIDE } from "../../src/threads/shared.js";
import * as pool from "../../src/threads/pool.js";
import { STEP_MIN_ELEMENTS, beginStep, endStep } from "../../src/threads/step-batch.js";
import { bits, randomF32 } from "./in-process.js";

type Make = (params: Parameter[]) => s.Optimizer;
const OPTIMIZERS: Record<string, Make> = {
  SGD: (p) => new s.SGD(p, { lr: 0.05 }),
  SGDMomentum: (p) => new s.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
  Adam: (p) => new s.Adam(p, { lr: 0.01, weightDecay: 0.1 }),
  AdamAmsgrad: (p) => new s.Adam(p, { lr: 0.01, amsgrad: true, maximize: true }),
  AdamW: (p) => new s.AdamW(p, { lr: 0.01 }),
  Adagrad: (p) => new s.Adagrad(p, { lr: 0.05, lrDecay: 0.01, initialAccumulatorValue: 0.1 }),
  RMSprop: (p) => new s.RMSprop(p, { lr: 0.01, momentum: 0.9, centered: true }),
  Adadelta: (p) => new s.Adadelta(p, { weightDecay: 0.01 }),
  Adamax: (p) => new s.Adamax(p, { lr: 0.01 }),
  NAdam: (p) => new s.NAdam(p, { lr: 0.01, weightDecay: 0.01 }),
  RAdam: (p) => new s.RAdam(p, { lr: 0.01 }),
  Lion: (p) => new s.Lion(p, { lr: 1e-3, weightDecay: 0.1 }),
  Ftrl: (p) => new s.Ftrl(p, { lr: 0.05, l1: 1e-3, l2: 1e-3, l2Shrinkage: 1e-3, beta: 0.1 }),
};
const VARIANTS: Record<string, (params: Parameter[], step: number) => s.StepOptions | undefined> = {
  dense: () => undefined,
  mask: (params, step) => ({ mask: new Map([[params[0]!, randomF32(params[0]!.size, 7 + step).map((v) => (v > 0 ? 1 : 0))], [params[2]!, new Uint8Array(params[2]!.size).map((_, i) => (i * 7 + step) % 3 === 0 ? 1 : 0)]]) }),
  rows: (params, step) => ({ rows: new Map([[params[0]!, Int32Array.from({ length: 40 + 100 * step }, (_, i) => (i * 7 + step) % 300).filter((v, i, a) => a.indexOf(v) === i)], [params[3]!, new Int32Array([0])]]) }),
  guard: () => ({ skipIfNonfinite: true }),
};
// Long tensors (cut into chunks), short ones (grouped into runs of table entries), scalar tails.
const SHAPES = [[300, 27], [5], [20001], [1, 3], [801, 45], ...Array.from({ length: 30 }, (_, i) => [i + 60])];

function params(shapes: number[][], seed: number): Parameter[] {
  return shapes.map((shape, i) => s.parameter(shape, { init: randomF32(shape.reduce((x, y) => x * y), seed + i) }));
}

/** Each case returns the arrays it produced (as bits). */
const CASES: Record<string, () => number[][]> = {};
for (const [name, make] of Object.entries(OPTIMIZERS)) {
  for (const [variant, options] of Object.entries(VARIANTS)) {
    if (variant !== "dense" && !["SGDMomentum", "AdamAmsgrad", "Ftrl", "RMSprop"].includes(name)) continue;
    CASES[`${name} ${variant}`] = () => {
      const ps = params(SHAPES, 10);
      const optimizer = make(ps);
      const results: number[] = [];
      for (let step = 0; step < 3; step++) {
        ps.forEach((p, i) => p.grad.set(randomF32(p.size, 100 * step + i)));
        if (variant === "guard" && step === 1) ps[2]!.grad[20000] = NaN;
        results.push(optimizer.step(options(ps, step)) ? 1 : 0);
      }
      const out = [results, ...ps.map((p) => bits(p.data))];
      optimizer.dispose();
      ps.forEach((p) => p.dispose());
      return out;
    };
  }
}
CASES["Adam accumulate 3 with EMA"] = () => {
  const ps = params([[300, 27], [5], [30001], ...Array.from({ length: 20 }, (_, i) => [i + 60])], 30);
  const optimizer = new s.Adam(ps, { lr: 0.01, accumulate: 3 });
  const ema = new s.EMA(ps, { decay: 0.9 });
  for (let step = 0; step < 4; step++) {
    ps.forEach((p, i) => p.grad.set(randomF32(p.size, 300 * step + i)));
    optimizer.step();
    ema.update();
  }
  const out = ps.map((p) => bits(p.data));
  ema.swap();
  out.push(...ps.map((p) => bits(p.data)));
  ema.dispose();
  optimizer.dispose();
  ps.forEach((p) => p.dispose());
  return out;
};
// More calls than the recorder notes (256) or holds (1024) in one step: one group per tensor.
CASES["SGD over 1100 groups"] = () => {
  const ps = params(Array.from({ length: 1100 }, (_, i) => [40 + (i % 7)]), 1);
  const optimizer = new s.SGD(ps.map((p, i) => ({ params: [p], lr: 0.01 * (1 + (i % 5)) })), { lr: 0.01, momentum: 0.5 });
  for (let step = 0; step < 2; step++) {
    ps.forEach((p, i) => p.grad.set(randomF32(p.size, 7 * step + i)));
    optimizer.step();
  }
  const out = ps.map((p) => bits(p.data));
  optimizer.dispose();
  ps.forEach((p) => p.dispose());
  return out;
};

beforeAll(async () => {
  await s.init();
});

const generation = () => pool.batchArrays().ctrl[CTRL.GEN]!;

describe("recorded steps on two threads", () => {
  it.each(Object.keys(CASES))("%s: the bits of one thread", async (name) => {
    terminateThreads();
    const single = CASES[name]!();
    await initThreads(2);
    const before = generation();
    expect(CASES[name]!()).toEqual(single);
    expect(generation()).toBeGreaterThan(before);
    terminateThreads();
  });
});

describe("dispatch", () => {
  it("a dense step over one tensor is cut into ~total / (4 · threads) chunks (multiples of 16), one task each", async () => {
    await initThreads(2);
    const p = s.parameter([100000], { init: randomF32(100000, 3) });
    p.grad.set(randomF32(100000, 4));
    const optimizer = new s.SGD([p], { lr: 0.5 });
    const before = generation();
    optimizer.step();
    expect(generation()).toBe(before + 1);
    const { ctrl, bounds, pieces } = pool.batchArrays();
    expect(ctrl[CTRL.COUNT]).toBe(8);
    expect(Array.from(bounds.subarray(0, 9))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const chunks = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => Array.from(pieces.subarray(i * PIECE_STRIDE, i * PIECE_STRIDE + 6)));
    expect(chunks).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [pool.kernelId("sgdStep"), 7, p.dataPtr + i * 12512 * 4, p.gradPtr + i * 12512 * 4, 0, i === 7 ? 12416 : 12512]));
    // lr 0.5, no momentum: p − 0.5·g, exactly in float32.
    const g = randomF32(100000, 4);
    const expected = Float32Array.from(randomF32(100000, 3), (x, i) => x - 0.5 * g[i]!);
    expect(bits(p.data.subarray(0, 64))).toEqual(bits(expected.subarray(0, 64)));
    expect(bits(p.data.subarray(99936))).toEqual(bits(expected.subarray(99936)));
    optimizer.dispose();
    p.dispose();
    terminateThreads();
  });

  it(`a step under ${STEP_MIN_ELEMENTS} elements is not recorded; recording does not nest; endStep without beginStep does nothing`, async () => {
    await initThreads(2);
    const real = kernels();
    expect(beginStep(STEP_MIN_ELEMENTS - 1)).toBe(false);
    expect(kernels()).toBe(real);
    endStep();
    expect(kernels()).toBe(real);
    expect(beginStep(STEP_MIN_ELEMENTS)).toBe(true);
    const recorder = kernels();
    expect(recorder).not.toBe(real);
    expect(beginStep(STEP_MIN_ELEMENTS)).toBe(false);
    endStep();
    expect(kernels()).toBe(real);
    // The recorder is made once for the module's kernels.
    expect(beginStep(STEP_MIN_ELEMENTS)).toBe(true);
    expect(kernels()).toBe(recorder);
    endStep();
    pool.pauseThreads(true);
    expect(beginStep(1 << 20)).toBe(false);
    pool.pauseThreads(false);
    terminateThreads();
    expect(beginStep(1 << 20)).toBe(false);
  });

  it("recorded calls run before any other kernel call, with their own scalars, and leave the caller's scalars in place", async () => {
    await initThreads(2);
    const n = 40000;
    const p = s.parameter([n], { init: randomF32(n, 1) });
    p.grad.set(randomF32(n, 2));
    expect(beginStep(n)).toBe(true);
    const k = kernels();
    const scalars = stepScalars();
    scalars.fill(0);
    scalars[0] = 0.25; // lr
    k.sgdStep(p.dataPtr, p.gradPtr, 0, n, 0, 0, 0);
    // Recorded, not run: the parameter is unchanged.
    expect(bits(p.data.subarray(0, 4))).toEqual(bits(randomF32(4, 1)));
    scalars[0] = 123;
    // Another kernel runs the recorded step first (with lr 0.25), and sees the caller's scalars.
    const sum = k.sumSquares(p.dataPtr, n);
    expect(scalars[0]).toBe(123);
    const g = randomF32(n, 2);
    const stepped = Float32Array.from(randomF32(n, 1), (x, i) => x - 0.25 * g[i]!);
    expect(bits(p.data)).toEqual(bits(stepped));
    expect(sum).toBe(kernels().sumSquares(p.dataPtr, n));
    endStep();
    expect(bits(p.data)).toEqual(bits(stepped));
    p.dispose();
    terminateThreads();
  });
});
