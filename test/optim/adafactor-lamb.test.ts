// Adafactor and LAMB against float64 references of their sources' code (test/reference/
// adafactor-lamb.ts): shapes that exercise the SIMD tails and the factoring (vectors, non-square
// and degenerate matrices, stacks of matrices, a scalar), deliberate mistakes that must be caught,
// state-dict resume, param groups, bad options, and the step variants they refuse or support.
import { beforeAll, describe, expect, it } from "vitest";
import { Adafactor, init, LAMB, parameter } from "../../src/index.js";
import { FACTORED_MISTAKES, type FactoredAlgorithm, type FactoredMistake, type FactoredOptions } from "../reference/adafactor-lamb.js";
import { TOLERANCE, type Comparison } from "./extra-harness.js";
import { FACTORED_CLASSES, FACTORED_DEFAULTS, factoredOptions, runFactored } from "./adafactor-lamb-harness.js";

beforeAll(async () => {
  await init();
});

// Vector lengths around the 4-lane body and its tail; matrices whose rows end mid-vector
// (7×13, 13×7), single rows and columns, stacks of matrices (factored over the last two axes),
// and a 0-D parameter.
const SHAPES: number[][] = [[1], [3], [5], [17], [1037], [7, 13], [13, 7], [1, 9], [9, 1], [4, 4], [2, 3, 5], [3, 4, 17], [], [64, 33]];

function expectAgreement(result: Comparison, what: string): void {
  expect(result.param, `${what}: parameter element ${result.paramIndex} off by ${(result.param * TOLERANCE).toExponential(2)} (relative)`).toBeLessThanOrEqual(1);
  expect(result.buffers, `${what}: state buffer "${result.bufferName}" off by ${(result.buffers * TOLERANCE).toExponential(2)}`).toBeLessThanOrEqual(1);
}

const CASES: { [A in FactoredAlgorithm]: Partial<FactoredOptions[A]>[] } = {
  Adafactor: [
    {},
    { weightDecay: 0.1, maximize: true },
    { d: 2, eps: [1e-3, 1e-2] },
    { lr: 0.1, beta2Decay: -0.5 },
    { eps: [0, 1e-3], beta2Decay: 0 },
    { d: Infinity, weightDecay: 0.5, lr: 0.02 },
    // The relative step min(lr, 1/√t) is 1/√t from t = 5 on.
    { lr: 0.5 },
  ],
  LAMB: [
    {},
    { weightDecay: 0.1 },
    { lr: 0.01, betas: [0.5, 0.9], eps: 0 },
    { lr: 0.02, betas: [0, 0.99], eps: 1e-3, weightDecay: 0.5 },
  ],
};

describe("defaults are the contract's", () => {
  it.each(["Adafactor", "LAMB"] as const)("%s", (algorithm) => {
    const p = parameter([3]);
    const optimizer = new FACTORED_CLASSES[algorithm]([p]);
    expect({ ...optimizer.defaults }).toEqual(FACTORED_DEFAULTS[algorithm]);
    expect(optimizer.paramGroups[0]).toMatchObject(FACTORED_DEFAULTS[algorithm]);
    optimizer.dispose();
    p.dispose();
  });
});

describe.each(["Adafactor", "LAMB"] as const)("%s matches the float64 reference over 100 steps", (algorithm) => {
  const cases = CASES[algorithm] as Partial<FactoredOptions[FactoredAlgorithm]>[];
  it.each(cases.map((overrides, index) => [JSON.stringify(overrides), overrides, index] as const))("%s", (_name, overrides, index) => {
    const options = factoredOptions(algorithm, overrides as never);
    for (const shape of SHAPES) {
      expectAgreement(runFactored(algorithm, options, shape, shape.length * 7919 + index + 1), `shape [${shape}]`);
    }
  });

  it("with gradients that grow and shrink (update clipping on and off)", () => {
    const options = factoredOptions(algorithm, {} as never);
    for (const shape of [[1037], [7, 13], [2, 3, 5]]) {
      const result = runFactored(algorithm, options, shape, 11, { gradScale: (t) => (t % 20 < 10 ? 10 ** (t % 10 - 4) : 1) });
      expectAgreement(result, `shape [${shape}]`);
    }
  });
});

/** A configuration in which each mistake makes a clear difference. */
const MISTAKE_CASES: { [A in FactoredAlgorithm]: Record<FactoredMistake<A>, { options: Partial<FactoredOptions[A]>; gradScale?: (t: number) => number }> } = {
  Adafactor: {
    rmsAfterDecay: { options: { lr: 0.05, weightDecay: 0.5 } },
    noUpdateClipping: { options: {}, gradScale: (t) => 1 + t / 10 },
    swappedLerpWeight: { options: {} },
    relativeStepIgnoresLr: { options: {} },
    // With clipping engaged a uniform scale of the update cancels; d = 1000 keeps it off.
    sumsInsteadOfMeans: { options: { d: 1000 } },
    epsNotSquared: { options: { eps: [1e-2, 1e-3] }, gradScale: () => 1e-3 },
  },
  LAMB: {
    epsInsideSqrt: { options: { eps: 0.1 } },
    // A uniform scale of u cancels in the trust ratio; a large ε keeps it from being uniform.
    noBiasCorrection: { options: { eps: 0.1 } },
    normBeforeDecay: { options: { lr: 0.05, weightDecay: 0.5 } },
    decayInUpdate: { options: { weightDecay: 0.5 } },
    noTrustRatio: { options: {} },
  },
};

describe("the comparison catches every deliberate mistake", () => {
  const rows = (["Adafactor", "LAMB"] as const).flatMap((algorithm) => FACTORED_MISTAKES[algorithm].map((mistake) => [algorithm, mistake] as const));
  it.each(rows)("%s without the mistake %s", (algorithm, mistake) => {
    const { options, gradScale } = (MISTAKE_CASES[algorithm] as Record<string, { options: object; gradScale?: (t: number) => number }>)[mistake]!;
    const full = factoredOptions(algorithm, options as never);
    for (const shape of [[7, 13], [2, 3, 5]]) {
      const right = runFactored(algorithm, full, shape, 7, { gradScale });
      expectAgreement(right, `shape [${shape}]`);
      const wrong = runFactored(algorithm, full, shape, 7, { mistake: mistake as never, gradScale });
      expect(Math.max(wrong.param, wrong.buffers), `the ${mistake} variant should disagree`).toBeGreaterThan(10);
    }
  });
});

describe("exact cases", () => {
  it("LAMB's trust ratio is 1 when the parameter is zero, and a zero gradient changes nothing", () => {
    const p = parameter([5]);
    p.grad.set([1, -2, 3, -4, 5]);
    const optimizer = new LAMB([p], { lr: 0.1, eps: 0 });
    optimizer.step();
    // Step 1: m̂ = g, √v̂ = |g|, u = sign(g), ratio 1 (‖p‖ = 0): p = −lr·sign(g).
    expect(Array.from(p.data)).toEqual([-0.1, 0.1, -0.1, 0.1, -0.1].map(Math.fround));
    const q = parameter([3], { init: new Float32Array([1, 2, 3]) });
    const other = new LAMB([q]);
    other.step();
    expect(Array.from(q.data)).toEqual([1, 2, 3]);
    optimizer.dispose(); other.dispose(); p.dispose(); q.dispose();
  });

  it("Adafactor's first step on a vector moves every element by α·sign(g) (v = g², clipping inactive)", () => {
    const p = parameter([6], { init: new Float32Array([3, -1, 2, 0.5, -4, 1]) });
    p.grad.set([0.5, -2, 1e-3, 4, -0.25, 1]);
    const before = Float64Array.from(p.data);
    const rms = Math.sqrt(before.reduce((s, x) => s + x * x, 0) / 6);
    new Adafactor([p]).step();
    const alpha = rms * 1e-2;
    p.data.forEach((x, i) => expect(x).toBeCloseTo(before[i]! - alpha * Math.sign(p.grad[i]!), 6));
    p.dispose();
  });

  it("Adafactor keeps rows + columns per matrix for ≥ 2-D parameters and a full vector otherwise", () => {
    const matrix = parameter([4, 64, 32], { init: "ones" });
    const vector = parameter([100], { init: "ones" });
    matrix.grad.fill(0.1);
    vector.grad.fill(0.1);
    const optimizer = new Adafactor([matrix, vector]);
    optimizer.step();
    const [m, v] = optimizer.stateDict().state;
    expect(Object.fromEntries(Object.entries(m!.buffers).map(([name, b]) => [name, b.length]))).toEqual({ rowVar: 4 * 64, colVar: 4 * 32 });
    expect(Object.fromEntries(Object.entries(v!.buffers).map(([name, b]) => [name, b.length]))).toEqual({ variance: 100 });
    expect(optimizer.stateBuffers(optimizer.paramGroups[0]!, matrix).map((b) => b.sliceable)).toEqual([false, false]);
    optimizer.dispose(); matrix.dispose(); vector.dispose();
  });
});
