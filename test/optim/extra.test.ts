// Adagrad, RMSprop, Adadelta, Adamax, NAdam, RAdam and Lion against float64 references of
// PyTorch's documented pseudo-code (test/reference/optimizers-extra.ts): every option combination
// that changes the math, awkward sizes that exercise the SIMD tail, random properties, deliberate
// mistakes that must be caught, bad options, live options and state-dict round trips.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { init, Lion, NAdam, parameter, RAdam, type Parameter } from "../../src/index.js";
import { CLASSES, DEFAULTS, runBoth, TOLERANCE, withDefaults, type Comparison } from "./extra-harness.js";
import { ALGORITHMS, MISTAKES, type Algorithm, type Mistake, type OptionsByAlgorithm } from "../reference/optimizers-extra.js";
import { seededRandom } from "../reference/random.js";

beforeAll(async () => {
  await init();
});

const SMALL_SIZES = [1, 3, 17, 1037];
const LARGE_SIZE = 100003;

function expectAgreement(result: Comparison, what: string): void {
  expect(result.param, `${what}: parameter element ${result.paramIndex} off by ${(result.param * TOLERANCE).toExponential(2)} (relative)`).toBeLessThanOrEqual(1);
  expect(result.buffers, `${what}: state buffer "${result.bufferName}" off by ${(result.buffers * TOLERANCE).toExponential(2)}`).toBeLessThanOrEqual(1);
  expect(result.scalars, `${what}: scalar state`).toBeLessThan(1e-12);
}

type Case<A extends Algorithm> = { overrides: Partial<OptionsByAlgorithm[A]>; large?: boolean };

/** Every option combination that changes the math; `large` ones also run on 100003 elements. */
const CASES: { [A in Algorithm]: Case<A>[] } = {
  Adagrad: [
    ...[0, 0.01].flatMap((lrDecay) => [0, 0.1].flatMap((weightDecay) => [0, 0.5].flatMap((initialAccumulatorValue) =>
      [false, true].map((maximize) => ({ overrides: { lrDecay, weightDecay, initialAccumulatorValue, maximize } }))))),
    { overrides: {}, large: true },
    { overrides: { lr: 0.05, eps: 1e-3, lrDecay: 0.01, weightDecay: 0.1, initialAccumulatorValue: 0.5, maximize: true }, large: true },
  ],
  RMSprop: [
    ...[false, true].flatMap((centered) => [0, 0.9].flatMap((momentum) => [0, 0.1].flatMap((weightDecay) =>
      [false, true].map((maximize) => ({ overrides: { centered, momentum, weightDecay, maximize } }))))),
    { overrides: {}, large: true },
    { overrides: { alpha: 0.9, eps: 1e-3, centered: true, momentum: 0.5, weightDecay: 0.1, maximize: true }, large: true },
    { overrides: { lr: 1e-3, alpha: 0.5, momentum: 0.9 } },
  ],
  Adadelta: [
    ...[0, 0.1].flatMap((weightDecay) => [false, true].map((maximize) => ({ overrides: { weightDecay, maximize } }))),
    { overrides: {}, large: true },
    { overrides: { lr: 0.5, rho: 0.5, eps: 1e-4, weightDecay: 0.1, maximize: true }, large: true },
    // The closed ends of rho's interval: rho = 1 never updates the averages (plain lr·g steps), rho = 0 keeps only the last.
    { overrides: { rho: 1 } },
    { overrides: { rho: 0 } },
  ],
  Adamax: [
    ...[0, 0.1].flatMap((weightDecay) => [false, true].map((maximize) => ({ overrides: { weightDecay, maximize } }))),
    { overrides: {}, large: true },
    { overrides: { lr: 0.01, betas: [0.5, 0.9], eps: 0.05, weightDecay: 0.1, maximize: true }, large: true },
    { overrides: { betas: [0, 0] } },
  ],
  NAdam: [
    ...[false, true].flatMap((maximize) => [
      { overrides: { maximize } },
      { overrides: { weightDecay: 0.1, maximize } },
      { overrides: { weightDecay: 0.1, decoupledWeightDecay: true, maximize } },
    ]),
    { overrides: {}, large: true },
    { overrides: { lr: 0.01, betas: [0.8, 0.99], eps: 1e-3, momentumDecay: 0.1, weightDecay: 0.05, decoupledWeightDecay: true }, large: true },
    { overrides: { momentumDecay: 0 } },
    { overrides: { betas: [0, 0.5] } },
  ],
  RAdam: [
    ...[false, true].flatMap((maximize) => [
      { overrides: { maximize } },
      { overrides: { weightDecay: 0.1, maximize } },
      { overrides: { weightDecay: 0.1, decoupledWeightDecay: true, maximize } },
    ]),
    { overrides: {}, large: true },
    { overrides: { lr: 0.01, betas: [0.8, 0.99], eps: 1e-3, weightDecay: 0.05, decoupledWeightDecay: true }, large: true },
    // ρ∞ = 19: ρ_t crosses 5 at step 5 and approaches 19; and ρ∞ = 3: never rectified.
    { overrides: { betas: [0.9, 0.9] } },
    { overrides: { betas: [0.5, 0.5] } },
  ],
  Lion: [
    ...[0, 0.1].flatMap((weightDecay) => [false, true].map((maximize) => ({ overrides: { weightDecay, maximize } }))),
    { overrides: {}, large: true },
    { overrides: { lr: 3e-3, betas: [0.95, 0.98], weightDecay: 0.5, maximize: true }, large: true },
    { overrides: { betas: [0, 0] } },
  ],
};

describe("defaults are the contract's (PyTorch's)", () => {
  it.each(ALGORITHMS)("%s", (algorithm) => {
    const p = parameter([3]);
    const optimizer = new CLASSES[algorithm]([p]);
    expect({ ...optimizer.defaults }).toEqual(DEFAULTS[algorithm]);
    expect(optimizer.paramGroups[0]).toMatchObject(DEFAULTS[algorithm] as object);
    optimizer.dispose();
    p.dispose();
  });
});

describe.each(ALGORITHMS)("%s matches the float64 reference over 100 steps", (algorithm) => {
  const cases = CASES[algorithm] as Case<Algorithm>[];
  it.each(cases.map((c, index) => [JSON.stringify(c.overrides), c, index] as const))("%s", (_name, { overrides, large }, index) => {
    const options = withDefaults(algorithm, overrides as never);
    for (const size of large ? [...SMALL_SIZES, LARGE_SIZE] : SMALL_SIZES) {
      const result = runBoth(algorithm, options, size, size * 7919 + index);
      expectAgreement(result, `size ${size}`);
      // Lion: near-ties (where float32 may flip the sign) must stay rare for the allowance to be honest.
      expect(result.nearTieElements).toBeLessThanOrEqual(Math.max(2, size * 5e-3));
    }
  });

  it("takes changed options (lr, weight decay and the decay rates) on the next step", () => {
    const options = withDefaults(algorithm, { weightDecay: 0.01 } as never) as Record<string, unknown>;
    const result = runBoth(algorithm, options as never, 1037, 42, {
      beforeStep(t, group, reference) {
        if (t !== 50) return;
        for (const target of [group, reference] as Record<string, unknown>[]) {
          target.lr = (target.lr as number) * 0.5;
          target.weightDecay = 0.05;
          if ("betas" in target) target.betas = [0.8, 0.95];
          if ("alpha" in target) target.alpha = 0.9;
          if ("rho" in target) target.rho = 0.8;
          if ("momentum" in target) target.momentum = 0.5; // RMSprop: a momentum buffer appears mid-run, zeroed
          if ("lrDecay" in target) target.lrDecay = 0.02;
          if ("momentumDecay" in target) target.momentumDecay = 0.01;
        }
      },
    });
    expectAgreement(result, "after the change");
  });
});

/** A configuration in which each mistake makes a clear difference. */
const MISTAKE_CASES: { [A in Algorithm]: Record<Mistake<A>, Partial<OptionsByAlgorithm[A]>> } = {
  Adagrad: {
    epsInsideSqrt: { eps: 0.1 },
    lrDecayCountsFromOne: { lrDecay: 0.05 },
    accumulatorStartsAtZero: { initialAccumulatorValue: 1 },
    decoupledInsteadOfL2: { weightDecay: 0.1 },
    maximizeAfterWeightDecay: { weightDecay: 0.1, maximize: true },
  },
  RMSprop: {
    epsInsideSqrt: { eps: 0.1 },
    centeredWithoutMean: { centered: true, alpha: 0.9 },
    momentumBeforeScaling: { momentum: 0.9 },
    alphaSwapped: {},
    decoupledInsteadOfL2: { weightDecay: 0.1 },
  },
  Adadelta: {
    epsOutsideSqrt: {},
    ignoresLr: { lr: 0.5 },
    decoupledInsteadOfL2: { weightDecay: 0.1 },
    maximizeAfterWeightDecay: { weightDecay: 0.1, maximize: true },
  },
  Adamax: {
    epsOutsideMax: { eps: 0.1 },
    noBiasCorrection: {},
    decoupledInsteadOfL2: { weightDecay: 0.1 },
    maximizeAfterWeightDecay: { weightDecay: 0.1, maximize: true },
  },
  NAdam: {
    epsInsideSqrt: { eps: 0.01 },
    noBiasCorrection2: {},
    muInsteadOfMuNext: { momentumDecay: 0.1 },
    constantMomentumSchedule: {},
    noNesterovLookahead: {},
    swappedWeightDecayForms: { weightDecay: 0.1, decoupledWeightDecay: true },
  },
  RAdam: {
    noRectification: {},
    epsAfterBiasCorrection: { eps: 0.01 },
    unadaptedStepWithoutBiasCorrection: {},
    swappedWeightDecayForms: { weightDecay: 0.1 },
    maximizeAfterWeightDecay: { weightDecay: 0.1, maximize: true },
  },
  Lion: {
    swappedBetas: {},
    signOfUpdatedMomentum: {},
    l2InsteadOfDecoupled: { weightDecay: 0.1 },
  },
};

describe("the comparison has teeth: kernels disagree with deliberately wrong references", () => {
  const rows = ALGORITHMS.flatMap((algorithm) => (MISTAKES[algorithm] as readonly string[]).map((mistake) => [algorithm, mistake] as const));
  it.each(rows)("%s without the mistake %s", (algorithm, mistake) => {
    const overrides = (MISTAKE_CASES[algorithm] as Record<string, object>)[mistake]!;
    const options = withDefaults(algorithm, overrides as never);
    // The right reference agrees on this configuration ...
    expectAgreement(runBoth(algorithm, options, 1037, 7), "correct reference");
    // ... and the wrong one is off by at least 10× the tolerance somewhere.
    const wrong = runBoth(algorithm, options, 1037, 7, { mistake: mistake as never });
    expect(Math.max(wrong.param, wrong.buffers), `the ${mistake} variant should disagree`).toBeGreaterThan(10);
  });
});

// ---- properties: random sizes, options and gradients ----

const logUniform = (min: number, max: number) => fc.double({ min: Math.log10(min), max: Math.log10(max), noNaN: true }).map((e) => 10 ** e);
const unit = (max: number) => fc.double({ min: 0, max, noNaN: true });
const betas = fc.tuple(unit(0.999), unit(0.999));

// Well-scaled ranges (the contract's "well-scaled data"): RMSprop's centered variance
// squareAvg − gradAvg² cancels catastrophically for alpha near 0, and large steps with momentum
// drive parameters far from their start, so alpha ≥ 0.5 and lr ≤ 0.01 there.
const ARBITRARIES: { [A in Algorithm]: fc.Arbitrary<Partial<OptionsByAlgorithm[A]>> } = {
  Adagrad: fc.record({ lr: unit(0.1), lrDecay: unit(0.1), weightDecay: unit(0.2), initialAccumulatorValue: unit(1), eps: logUniform(1e-10, 0.1), maximize: fc.boolean() }),
  RMSprop: fc.record({ lr: unit(0.01), alpha: fc.double({ min: 0.5, max: 0.999, noNaN: true }), eps: logUniform(1e-8, 0.1), weightDecay: unit(0.2), momentum: unit(0.95), centered: fc.boolean(), maximize: fc.boolean() }),
  Adadelta: fc.record({ lr: unit(1), rho: fc.oneof(unit(1), fc.constantFrom(0, 1)), eps: logUniform(1e-8, 0.01), weightDecay: unit(0.2), maximize: fc.boolean() }),
  Adamax: fc.record({ lr: unit(0.01), betas, eps: logUniform(1e-8, 0.1), weightDecay: unit(0.2), maximize: fc.boolean() }),
  NAdam: fc.record({ lr: unit(0.01), betas, eps: logUniform(1e-8, 0.1), weightDecay: unit(0.2), momentumDecay: unit(0.1), decoupledWeightDecay: fc.boolean(), maximize: fc.boolean() }),
  RAdam: fc.record({ lr: unit(0.01), betas, eps: logUniform(1e-8, 0.1), weightDecay: unit(0.2), decoupledWeightDecay: fc.boolean(), maximize: fc.boolean() }),
  Lion: fc.record({ lr: unit(0.01), betas, weightDecay: unit(0.5), maximize: fc.boolean() }),
};

describe("properties: random sizes, options and gradients agree with the reference", () => {
  it.each(ALGORITHMS)("%s", (algorithm) => {
    fc.assert(
      fc.property(
        ARBITRARIES[algorithm] as fc.Arbitrary<object>,
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom(1e-3, 1, 30),
        (overrides, size, steps, seed, gradScale) => {
          // Centered RMSprop estimates the gradient's variance as squareAvg − gradAvg²; when weight
          // decay dominates a tiny gradient, the gradient is almost constant over time and that
          // difference cancels catastrophically in float32 (in any float32 implementation).
          const o = overrides as Partial<OptionsByAlgorithm["RMSprop"]>;
          fc.pre(!(algorithm === "RMSprop" && o.centered && (o.weightDecay ?? 0) > 0 && gradScale < 1));
          const result = runBoth(algorithm, withDefaults(algorithm, overrides as never), size, seed, { steps, gradScale });
          expectAgreement(result, JSON.stringify({ overrides, size, steps, seed, gradScale }));
        },
      ),
      { numRuns: 40, seed: 20240611 },
    );
  });
});

// ---- bad options ----

type Bad = { value: unknown; error: typeof RangeError | typeof TypeError; names?: string };
const NON_NEGATIVE: Bad[] = [
  { value: -1, error: RangeError },
  { value: -1e-12, error: RangeError },
  { value: Infinity, error: RangeError },
  { value: Number.NaN, error: TypeError },
  { value: "0.1", error: TypeError },
];
const BOOLEAN: Bad[] = [{ value: 1, error: TypeError }, { value: "true", error: TypeError }];
const BETAS: Bad[] = [
  { value: [1, 0.9], error: RangeError, names: "betas[0]" },
  { value: [-0.1, 0.9], error: RangeError, names: "betas[0]" },
  { value: [0.9, 1], error: RangeError, names: "betas[1]" },
  { value: [0.9, Number.NaN], error: TypeError, names: "betas[1]" },
  { value: [0.9], error: TypeError },
  { value: 0.9, error: TypeError },
];
const CLOSED_UNIT: Bad[] = [{ value: 1.5, error: RangeError }, { value: -0.1, error: RangeError }, { value: Number.NaN, error: TypeError }];

const BAD_OPTIONS: { [A in Algorithm]: Record<keyof OptionsByAlgorithm[A], Bad[]> } = {
  Adagrad: { lr: NON_NEGATIVE, lrDecay: NON_NEGATIVE, weightDecay: NON_NEGATIVE, initialAccumulatorValue: NON_NEGATIVE, eps: NON_NEGATIVE, maximize: BOOLEAN, l1: NON_NEGATIVE },
  RMSprop: { lr: NON_NEGATIVE, alpha: NON_NEGATIVE, eps: NON_NEGATIVE, weightDecay: NON_NEGATIVE, momentum: NON_NEGATIVE, centered: BOOLEAN, maximize: BOOLEAN },
  Adadelta: { lr: NON_NEGATIVE, rho: CLOSED_UNIT, eps: NON_NEGATIVE, weightDecay: NON_NEGATIVE, maximize: BOOLEAN },
  Adamax: { lr: NON_NEGATIVE, betas: BETAS, eps: NON_NEGATIVE, weightDecay: NON_NEGATIVE, maximize: BOOLEAN },
  NAdam: { lr: NON_NEGATIVE, betas: BETAS, eps: NON_NEGATIVE, weightDecay: NON_NEGATIVE, momentumDecay: NON_NEGATIVE, decoupledWeightDecay: BOOLEAN, maximize: BOOLEAN },
  RAdam: { lr: NON_NEGATIVE, betas: BETAS, eps: NON_NEGATIVE, weightDecay: NON_NEGATIVE, decoupledWeightDecay: BOOLEAN, maximize: BOOLEAN },
  Lion: { lr: NON_NEGATIVE, betas: BETAS, weightDecay: NON_NEGATIVE, maximize: BOOLEAN },
};

/** `name must` at a word boundary: "lr must" is not matched by "lrDecay must". */
function naming(name: string): RegExp {
  return new RegExp(`(^|[\\s.])${name.replace(/[[\]]/g, "\\$&")} must`);
}

describe.each(ALGORITHMS)("%s rejects bad options, naming them, before writing anything", (algorithm) => {
  const rows = Object.entries(BAD_OPTIONS[algorithm] as Record<string, Bad[]>).flatMap(([option, bads]) =>
    bads.map((bad) => [option, String(JSON.stringify(bad.value) ?? bad.value), bad] as const));

  it.each(rows)("%s = %s", (option, _shown, { value, error, names }) => {
    const name = names ?? option;
    const p = parameter([5], { init: [1, 2, 3, 4, 5] });
    const Optimizer = CLASSES[algorithm];
    // At construction, as an option for every group and as a group's own option.
    expect(() => new Optimizer([p], { [option]: value })).toThrow(error);
    expect(() => new Optimizer([p], { [option]: value })).toThrow(naming(name));
    expect(() => new Optimizer([{ params: [p], [option]: value }] as never)).toThrow(naming(`paramGroups[0].${name}`));
    // Set live between steps: the next step throws and changes nothing (parameter, state, step count).
    const optimizer = new Optimizer([p]);
    p.grad.set([0.5, -0.5, 1, -1, 0.25]);
    optimizer.step();
    const before = { data: p.data.slice(), state: optimizer.stateDict().state };
    (optimizer.paramGroups[0] as Record<string, unknown>)[option] = value;
    expect(() => optimizer.step()).toThrow(error);
    expect(() => optimizer.step()).toThrow(naming(`paramGroups[0].${name}`));
    expect(p.data).toEqual(before.data);
    expect(optimizer.stateDict().state).toEqual(before.state);
    optimizer.dispose();
    p.dispose();
  });

  it("rejects unknown options and accepts the edges of each range", () => {
    const p = parameter([5]);
    const Optimizer = CLASSES[algorithm];
    expect(() => new Optimizer([p], { learningRate: 0.1 })).toThrow(TypeError);
    expect(() => new Optimizer([p], { learningRate: 0.1 })).toThrow(/learningRate/);
    const edges: Record<string, unknown> = { lr: 0, weightDecay: 0 };
    if ("eps" in DEFAULTS[algorithm]) edges.eps = 0;
    if ("betas" in DEFAULTS[algorithm]) edges.betas = [0, 0.999999];
    if (algorithm === "Adadelta") edges.rho = 1;
    if (algorithm === "RMSprop") edges.alpha = 1.5; // PyTorch bounds alpha below only
    new Optimizer([p], edges).dispose();
    p.dispose();
  });
});

// ---- state dict round trip: a mid-run snapshot resumes bit-identically ----

const ROUND_TRIP_OPTIONS: { [A in Algorithm]: Partial<OptionsByAlgorithm[A]> } = {
  Adagrad: { lrDecay: 0.01, initialAccumulatorValue: 0.3, weightDecay: 0.01 },
  RMSprop: { centered: true, momentum: 0.9, weightDecay: 0.01 },
  Adadelta: { weightDecay: 0.01 },
  Adamax: { weightDecay: 0.01 },
  NAdam: { weightDecay: 0.01, decoupledWeightDecay: true, momentumDecay: 0.05 },
  RAdam: { weightDecay: 0.01 },
  Lion: { weightDecay: 0.1, lr: 1e-3 },
};

describe.each(ALGORITHMS)("%s state dict", (algorithm) => {
  it("resumes bit-identically from a snapshot taken mid-run", () => {
    const size = 37;
    const random = seededRandom(99);
    const grads = Array.from({ length: 40 }, () => Float32Array.from({ length: size }, () => 2 * random() - 1));
    const initial = Float32Array.from({ length: size }, () => 2 * random() - 1);
    const Optimizer = CLASSES[algorithm];
    const options = ROUND_TRIP_OPTIONS[algorithm];
    const run = (param: Parameter, optimizer: InstanceType<typeof Optimizer>, from: number, to: number) => {
      for (let t = from; t < to; t++) {
        param.grad.set(grads[t]!);
        optimizer.step();
      }
    };

    const a = parameter([size], { init: initial });
    const optA = new Optimizer([a], options);
    run(a, optA, 0, 20);
    const snapshot = structuredClone(optA.stateDict());
    const midRun = a.data.slice();
    run(a, optA, 20, 40);

    const b = parameter([size], { init: midRun });
    const optB = new Optimizer([b], options);
    optB.loadStateDict(snapshot);
    run(b, optB, 20, 40);
    expect(b.data).toEqual(a.data);
    expect(optB.stateDict().state).toEqual(optA.stateDict().state);
    for (const o of [optA, optB]) o.dispose();
    for (const p of [a, b]) p.dispose();
  });
});

describe("NAdam's running product of μ is per-parameter state", () => {
  it("is saved, restored, and needed to resume", () => {
    const size = 9;
    const initial = Float32Array.from({ length: size }, (_, i) => i / size - 0.5);
    const grad = Float32Array.from({ length: size }, (_, i) => Math.sin(i + 1));
    const make = (values: Float32Array) => {
      const p = parameter([size], { init: values });
      p.grad.set(grad);
      return { p, optimizer: new NAdam([p], { momentumDecay: 0.2, lr: 0.01 }) };
    };
    const a = make(initial);
    for (let t = 0; t < 5; t++) a.optimizer.step();
    const snapshot = a.optimizer.stateDict();
    const { betas: [beta1], momentumDecay } = DEFAULTS.NAdam;
    let product = 1;
    for (let t = 1; t <= 5; t++) product *= beta1 * (1 - 0.5 * 0.96 ** (t * 0.2));
    expect(momentumDecay).toBe(4e-3);
    expect(snapshot.state[0]!.scalars!.muProduct).toBeCloseTo(product, 14);

    // A snapshot that lost the product restarts it at 1 and no longer resumes exactly.
    const amnesic = structuredClone(snapshot);
    delete amnesic.state[0]!.scalars;
    const b = make(a.p.data.slice());
    const c = make(a.p.data.slice());
    b.optimizer.loadStateDict(snapshot);
    c.optimizer.loadStateDict(amnesic);
    for (const run of [a, b, c]) run.optimizer.step();
    expect(b.p.data).toEqual(a.p.data);
    expect(c.p.data).not.toEqual(a.p.data);

    const bad = structuredClone(snapshot);
    (bad.state[0]!.scalars as Record<string, unknown>).muProduct = "0.5";
    expect(() => b.optimizer.loadStateDict(bad)).toThrow(TypeError);
    for (const run of [a, b, c]) {
      run.optimizer.dispose();
      run.p.dispose();
    }
  });
});

// ---- a few exact properties worth stating directly ----

describe("exact behaviour", () => {
  it("Lion: sign(0) = 0 leaves an element still (up to decay); a NaN gradient stays visible", () => {
    const p = parameter([6], { init: [1, -1, 2, -2, 0.5, 3] });
    const lion = new Lion([p], { lr: 0.1, weightDecay: 0.5 });
    p.grad.set([0, 0, 1, -1, 0, Number.NaN]);
    lion.step();
    const decay = Math.fround(1 - 0.1 * 0.5);
    expect(Array.from(p.data.subarray(0, 5))).toEqual([1, -1, 2, -2, 0.5].map((x, i) => Math.fround(Math.fround(x * decay) - [0, 0, 1, -1, 0][i]! * Math.fround(0.1))));
    expect(p.data[5]).toBeNaN();
    lion.dispose();
    p.dispose();
  });

  it("RAdam: while ρ_t ≤ 5 the step is the un-adapted p − lr·m̂ (step 1: p − lr·g)", () => {
    const p = parameter([5], { init: [1, 2, 3, 4, 5] });
    const radam = new RAdam([p], { lr: 0.1 });
    p.grad.set([10, -10, 1e-3, -1e-3, 0]);
    radam.step();
    // m̂ = g on step 1, so p − lr·g (to float32 rounding of the moment's (1 − β1)·g).
    const expected = [1 - 1, 2 + 1, 3 - 1e-4, 4 + 1e-4, 5];
    p.data.forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 6));
    radam.dispose();
    p.dispose();
  });

  it("row-sparse steps of odd-length rows touch only those rows (tails in the middle of a table)", () => {
    for (const algorithm of ALGORITHMS) {
      const rows = 5;
      const columns = 7;
      const initial = Float32Array.from({ length: rows * columns }, (_, i) => 1 + i / 10);
      const table = parameter([rows, columns], { init: initial });
      table.grad.fill(0.5);
      const optimizer = new CLASSES[algorithm]([table], { lr: 0.1 } as never);
      for (let t = 0; t < 3; t++) optimizer.step({ rows: new Map([[table, Int32Array.of(1, 3)]]) });
      for (let row = 0; row < rows; row++) {
        const now = Array.from(table.data.subarray(row * columns, (row + 1) * columns));
        const was = Array.from(initial.subarray(row * columns, (row + 1) * columns));
        if (row === 1 || row === 3) expect(now.every((x, i) => x < was[i]!), `${algorithm} row ${row} moved`).toBe(true);
        else expect(now, `${algorithm} row ${row} untouched`).toEqual(was);
      }
      // The same three steps densely on a row of its own give the same row (the update formula is the dense one).
      const single = parameter([columns], { init: initial.subarray(columns, 2 * columns) });
      single.grad.fill(0.5);
      const dense = new CLASSES[algorithm]([single], { lr: 0.1 } as never);
      for (let t = 0; t < 3; t++) dense.step();
      expect(Array.from(table.data.subarray(columns, 2 * columns)), algorithm).toEqual(Array.from(single.data));
      for (const o of [optimizer, dense]) o.dispose();
      for (const p of [table, single]) p.dispose();
    }
  });
});
