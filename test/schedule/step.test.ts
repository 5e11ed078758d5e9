// StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR: the chainable
// (recursive) rules against closed forms written from PyTorch's formulas, in float64.
import { describe, expect, it } from "vitest";
import { ConstantLR, ExponentialLR, LinearLR, LRScheduler, MultiStepLR, PolynomialLR, StepLR } from "../../src/index.js";
import { checkRoundTrip, expectedRows, expectSequenceClose, runLrs, sgdLike, type FakeOptimizer } from "./helpers.js";

const BASES = [0.1, 0.025];

describe("StepLR", () => {
  it.each([
    { stepSize: 1, gamma: 0.97, steps: 200 },
    { stepSize: 7, gamma: 0.5, steps: 120 },
    { stepSize: 30 },
    { stepSize: 13, gamma: 1.05, steps: 150 },
  ])("%o follows base·gamma^⌊t/stepSize⌋", ({ steps = 100, ...options }) => {
    const optimizer = sgdLike(BASES);
    const scheduler = new StepLR(optimizer, options);
    const gamma = options.gamma ?? 0.1;
    expect(scheduler.lastEpoch).toBe(0);
    const actual = runLrs(scheduler, optimizer, steps);
    expectSequenceClose(actual, expectedRows(BASES, steps, (base, t) => base * gamma ** Math.floor(t / options.stepSize)));
    expect(scheduler.lastEpoch).toBe(steps);
    expect(scheduler.getLastLr()).toEqual(optimizer.paramGroups.map((g) => g.lr));
  });

  it("composes with an external lr change (the decay multiplies the current lr)", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new StepLR(optimizer, { stepSize: 5, gamma: 0.5 });
    for (let t = 1; t <= 12; t++) scheduler.step();
    for (const group of optimizer.paramGroups) group.lr *= 3;
    const actual = runLrs(scheduler, optimizer, 40);
    expectSequenceClose(actual, expectedRows(BASES, 40, (base, k) => 3 * base * 0.5 ** Math.floor((12 + k) / 5)));
  });

  it("step(epoch) jumps with the closed form", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new StepLR(optimizer, { stepSize: 4, gamma: 0.5 });
    scheduler.step(13);
    expect(scheduler.lastEpoch).toBe(13);
    expect(scheduler.getLastLr()).toEqual(BASES.map((b) => b * 0.5 ** 3));
    scheduler.step(); // epoch 14: not a multiple of 4, unchanged
    expect(scheduler.getLastLr()).toEqual(BASES.map((b) => b * 0.5 ** 3));
  });

  it("round-trips its state mid-sequence", () => {
    checkRoundTrip(() => sgdLike(BASES), (o) => new StepLR(o, { stepSize: 3, gamma: 0.7 }), 10, 40);
  });
});

describe("MultiStepLR", () => {
  it.each([
    { milestones: [30, 80], steps: 100 },
    { milestones: [1, 2, 3, 50, 51], gamma: 0.5, steps: 60 },
    { milestones: [10, 10, 40], gamma: 0.3, steps: 60 }, // a repeated milestone applies gamma twice
    { milestones: [], gamma: 0.3, steps: 50 },
  ])("%o follows base·gamma^#(milestones ≤ t)", ({ steps, ...options }) => {
    const optimizer = sgdLike(BASES);
    const scheduler = new MultiStepLR(optimizer, options);
    const gamma = options.gamma ?? 0.1;
    const actual = runLrs(scheduler, optimizer, steps);
    expectSequenceClose(actual, expectedRows(BASES, steps, (base, t) => base * gamma ** options.milestones.filter((m) => m <= t).length));
  });

  it("step(epoch) uses the closed form", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new MultiStepLR(optimizer, { milestones: [5, 9, 9], gamma: 0.5 });
    scheduler.step(9);
    expectSequenceClose([scheduler.getLastLr()], [BASES.map((b) => b * 0.125)]);
  });

  it("round-trips its state mid-sequence", () => {
    checkRoundTrip(() => sgdLike(BASES), (o) => new MultiStepLR(o, { milestones: [5, 12, 30], gamma: 0.5 }), 8, 40);
  });
});

describe("ConstantLR", () => {
  it.each([
    { steps: 50 },
    { factor: 0.5, totalIters: 40, steps: 100 },
    { factor: 1, totalIters: 3, steps: 50 },
    { factor: 0.01, totalIters: 1, steps: 50 },
  ])("%o follows base·factor until totalIters, then base", ({ steps, ...options }) => {
    const optimizer = sgdLike(BASES);
    const scheduler = new ConstantLR(optimizer, options);
    const factor = options.factor ?? 1 / 3;
    const total = options.totalIters ?? 5;
    const actual = runLrs(scheduler, optimizer, steps);
    expectSequenceClose(actual, expectedRows(BASES, steps, (base, t) => (t < total ? base * factor : base)));
  });

  it("round-trips its state mid-sequence", () => {
    checkRoundTrip(() => sgdLike(BASES), (o) => new ConstantLR(o, { factor: 0.25, totalIters: 6 }), 3, 20);
  });
});

describe("LinearLR", () => {
  it.each([
    { steps: 50 },
    { startFactor: 0.05, totalIters: 40, steps: 100 },
    { startFactor: 1, endFactor: 0.1, totalIters: 77, steps: 120 }, // linear decay
    { startFactor: 1e-3, endFactor: 1, totalIters: 250, steps: 300 },
    { startFactor: 0.5, endFactor: 0, totalIters: 10, steps: 50 },
  ])("%o follows base·(start + (end − start)·min(t, T)/T)", ({ steps, ...options }) => {
    const optimizer = sgdLike(BASES);
    const scheduler = new LinearLR(optimizer, options);
    const start = options.startFactor ?? 1 / 3;
    const end = options.endFactor ?? 1;
    const total = options.totalIters ?? 5;
    const actual = runLrs(scheduler, optimizer, steps);
    expectSequenceClose(actual, expectedRows(BASES, steps, (base, t) => base * (start + (end - start) * Math.min(t, total) / total)));
  });

  it("round-trips its state mid-sequence", () => {
    checkRoundTrip(() => sgdLike(BASES), (o) => new LinearLR(o, { startFactor: 0.1, totalIters: 30 }), 11, 40);
  });
});

describe("ExponentialLR", () => {
  it.each([
    { gamma: 0.95, steps: 300 },
    { gamma: 0.5, steps: 60 },
    { gamma: 1.01, steps: 100 },
    { gamma: 0, steps: 5 },
  ])("%o follows base·gamma^t", ({ steps, ...options }) => {
    const optimizer = sgdLike(BASES);
    const scheduler = new ExponentialLR(optimizer, options);
    const actual = runLrs(scheduler, optimizer, steps);
    expectSequenceClose(actual, expectedRows(BASES, steps, (base, t) => base * options.gamma ** t));
  });

  it("a resumed scheduler's initial step does not move the lr", () => {
    const optimizer = sgdLike(BASES);
    for (const group of optimizer.paramGroups) group.initialLr = group.lr;
    optimizer.paramGroups[0]!.lr = 0.05;
    const scheduler = new ExponentialLR(optimizer, { gamma: 0.5, lastEpoch: 7 });
    expect(scheduler.lastEpoch).toBe(8);
    expect(optimizer.paramGroups[0]!.lr).toBe(0.05);
    scheduler.step();
    expect(optimizer.paramGroups[0]!.lr).toBe(0.025);
  });

  it("round-trips its state mid-sequence", () => {
    checkRoundTrip(() => sgdLike(BASES), (o) => new ExponentialLR(o, { gamma: 0.9 }), 20, 50);
  });
});

describe("PolynomialLR", () => {
  it.each([
    { steps: 50 },
    { totalIters: 50, power: 0.9, steps: 100 },
    { totalIters: 200, power: 2, steps: 250 },
    { totalIters: 100, power: 0.5, steps: 120 },
  ])("%o follows base·(1 − min(t, T)/T)^power", ({ steps, ...options }) => {
    const optimizer = sgdLike(BASES);
    const scheduler = new PolynomialLR(optimizer, options);
    const total = options.totalIters ?? 5;
    const power = options.power ?? 1;
    const actual = runLrs(scheduler, optimizer, steps);
    // Relative error grows as the lr approaches 0 at T (each recursive factor carries ~1 ulp).
    expectSequenceClose(actual, expectedRows(BASES, steps, (base, t) => base * (1 - Math.min(t, total) / total) ** power));
  });

  it("round-trips its state mid-sequence", () => {
    checkRoundTrip(() => sgdLike(BASES), (o) => new PolynomialLR(o, { totalIters: 40, power: 2 }), 17, 40);
  });
});

describe("step-family options are checked", () => {
  const opt = () => sgdLike(BASES);
  it.each([
    ["StepLR stepSize missing", () => new StepLR(opt(), {} as never), TypeError, /stepSize/],
    ["StepLR stepSize 0", () => new StepLR(opt(), { stepSize: 0 }), RangeError, /stepSize/],
    ["StepLR stepSize 2.5", () => new StepLR(opt(), { stepSize: 2.5 }), RangeError, /stepSize/],
    ["StepLR negative gamma", () => new StepLR(opt(), { stepSize: 3, gamma: -0.1 }), RangeError, /gamma/],
    ["StepLR gamma NaN", () => new StepLR(opt(), { stepSize: 3, gamma: NaN }), TypeError, /gamma/],
    ["StepLR snake_case option", () => new StepLR(opt(), { step_size: 3 } as never), TypeError, /step_size/],
    ["StepLR lastEpoch -2", () => new StepLR(opt(), { stepSize: 3, lastEpoch: -2 }), RangeError, /lastEpoch/],
    ["StepLR resuming without initialLr", () => new StepLR(opt(), { stepSize: 3, lastEpoch: 4 }), TypeError, /initialLr/],
    ["StepLR no optimizer", () => new StepLR({} as never, { stepSize: 3 }), TypeError, /optimizer/],
    ["MultiStepLR milestones missing", () => new MultiStepLR(opt(), {} as never), TypeError, /milestones/],
    ["MultiStepLR milestones decreasing", () => new MultiStepLR(opt(), { milestones: [30, 10] }), RangeError, /milestones/],
    ["MultiStepLR negative milestone", () => new MultiStepLR(opt(), { milestones: [-1, 10] }), RangeError, /milestones\[0\]/],
    ["MultiStepLR negative gamma", () => new MultiStepLR(opt(), { milestones: [1], gamma: -1 }), RangeError, /gamma/],
    ["ConstantLR factor > 1", () => new ConstantLR(opt(), { factor: 1.5 }), RangeError, /factor/],
    ["ConstantLR factor 0", () => new ConstantLR(opt(), { factor: 0 }), RangeError, /factor/],
    ["ConstantLR totalIters 0", () => new ConstantLR(opt(), { totalIters: 0 }), RangeError, /totalIters/],
    ["LinearLR startFactor 0", () => new LinearLR(opt(), { startFactor: 0 }), RangeError, /startFactor/],
    ["LinearLR endFactor > 1", () => new LinearLR(opt(), { endFactor: 1.2 }), RangeError, /endFactor/],
    ["LinearLR totalIters 0", () => new LinearLR(opt(), { totalIters: 0 }), RangeError, /totalIters/],
    ["ExponentialLR gamma missing", () => new ExponentialLR(opt(), {} as never), TypeError, /gamma/],
    ["ExponentialLR negative gamma", () => new ExponentialLR(opt(), { gamma: -0.5 }), RangeError, /gamma/],
    ["ExponentialLR gamma Infinity", () => new ExponentialLR(opt(), { gamma: Infinity }), RangeError, /gamma/],
    ["PolynomialLR totalIters -1", () => new PolynomialLR(opt(), { totalIters: -1 }), RangeError, /totalIters/],
    ["PolynomialLR negative power", () => new PolynomialLR(opt(), { power: -1 }), RangeError, /power/],
    ["PolynomialLR options not an object", () => new PolynomialLR(opt(), 5 as never), TypeError, /options/],
  ] as const)("%s", (_name, make, errorClass, pattern) => {
    expect(make).toThrow(errorClass);
    expect(make).toThrow(pattern);
  });

  it("a rejected construction writes nothing into the groups", () => {
    const optimizer = sgdLike(BASES);
    expect(() => new StepLR(optimizer, { stepSize: 0 })).toThrow(RangeError);
    expect(optimizer.paramGroups.every((g) => !("initialLr" in g))).toBe(true);
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual(BASES);
  });
});

describe("LRScheduler basics", () => {
  it("records initialLr once per group; a second scheduler keeps it", () => {
    const optimizer = sgdLike(BASES);
    new LinearLR(optimizer, { startFactor: 0.5 });
    expect(optimizer.paramGroups.map((g) => g.initialLr)).toEqual(BASES);
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual(BASES.map((b) => b * 0.5));
    const second = new ExponentialLR(optimizer, { gamma: 0.9 });
    expect(optimizer.paramGroups.map((g) => g.initialLr)).toEqual(BASES);
    expect(second.stateDict().baseLrs).toEqual(BASES);
  });

  it("a user subclass of LRScheduler gets the initial step, lastEpoch and state dicts", () => {
    class InverseSqrtLR extends LRScheduler {
      readonly warmup: number;
      constructor(optimizer: FakeOptimizer, warmup: number) {
        super(optimizer);
        this.attach(-1);
        this.warmup = warmup;
        this.initialStep();
      }
      protected computeLr(): number[] {
        const t = this.lastEpoch + 1;
        return this.baseLrs.map((base) => base * Math.min(t / this.warmup, Math.sqrt(this.warmup / t)));
      }
    }
    const optimizer = sgdLike(BASES);
    const scheduler = new InverseSqrtLR(optimizer, 10);
    const actual = runLrs(scheduler, optimizer, 60);
    expectSequenceClose(actual, expectedRows(BASES, 60, (base, t) => base * Math.min((t + 1) / 10, Math.sqrt(10 / (t + 1)))));
    expect(scheduler.stateDict()).toMatchObject({ lastEpoch: 60, warmup: 10, baseLrs: BASES });
  });

  it("getLastLr returns a copy", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new ExponentialLR(optimizer, { gamma: 0.9 });
    const lrs = scheduler.getLastLr();
    lrs[0] = 123;
    expect(scheduler.getLastLr()).toEqual(BASES);
  });

  it("loadStateDict rejects another scheduler's state before changing anything", () => {
    const optimizer = sgdLike(BASES);
    const step = new StepLR(optimizer, { stepSize: 3 });
    const exp = new ExponentialLR(sgdLike(BASES), { gamma: 0.9 });
    step.step();
    expect(() => exp.loadStateDict(step.stateDict())).toThrow(TypeError);
    expect(exp.lastEpoch).toBe(0);
    expect(() => step.loadStateDict({ lastEpoch: "3" })).toThrow(TypeError);
    expect(() => step.loadStateDict(null as never)).toThrow(TypeError);
    expect(step.lastEpoch).toBe(1);
  });

  it("step(epoch) rejects a non-finite epoch", () => {
    const scheduler = new StepLR(sgdLike(BASES), { stepSize: 3 });
    expect(() => scheduler.step(NaN)).toThrow(TypeError);
    expect(() => scheduler.step(Infinity)).toThrow(/epoch/);
    expect(scheduler.lastEpoch).toBe(0);
  });
});
