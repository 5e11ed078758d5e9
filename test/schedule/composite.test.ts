// SequentialLR (warm-up then decay, hand-over at milestones) and ChainedScheduler (compounding),
// against piecewise closed forms of PyTorch's semantics.
import { describe, expect, it } from "vitest";
import {
  ChainedScheduler, ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiplicativeLR,
  OneCycleLR, ReduceLROnPlateau, SequentialLR, StepLR,
} from "../../src/index.js";
import { checkRoundTrip, expectedRows, expectSequenceClose, runLrs, sgdLike, type FakeOptimizer } from "./helpers.js";

const BASES = [0.1, 0.025];

function cosine(base: number, etaMin: number, t: number, tMax: number): number {
  return etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * t / tMax)) / 2;
}

function warmupCosine(optimizer: FakeOptimizer, warmup: number, startFactor: number, tMax: number, etaMin: number): SequentialLR {
  return new SequentialLR(optimizer, {
    schedulers: [
      new LinearLR(optimizer, { startFactor, endFactor: 1, totalIters: warmup }),
      new CosineAnnealingLR(optimizer, { tMax, etaMin }),
    ],
    milestones: [warmup],
  });
}

describe("SequentialLR", () => {
  it.each([
    { warmup: 10, startFactor: 0.01, tMax: 90, etaMin: 0 },
    { warmup: 50, startFactor: 0.1, tMax: 250, etaMin: 1e-4 },
    { warmup: 1, startFactor: 0.5, tMax: 40, etaMin: 0.001 },
    { warmup: 25, startFactor: 1e-6, tMax: 100, etaMin: 0 },
  ])("warm-up LinearLR then CosineAnnealingLR %o", ({ warmup, startFactor, tMax, etaMin }) => {
    const optimizer = sgdLike(BASES);
    const scheduler = warmupCosine(optimizer, warmup, startFactor, tMax, etaMin);
    expect(scheduler.lastEpoch).toBe(0);
    const steps = warmup + tMax;
    const actual = runLrs(scheduler, optimizer, steps);
    expectSequenceClose(actual, expectedRows(BASES, steps, (base, t) => (t < warmup
      ? base * (startFactor + (1 - startFactor) * t / warmup)
      : cosine(base, etaMin, t - warmup, tMax))));
    expect(scheduler.lastEpoch).toBe(steps);
    expect(scheduler.getLastLr()).toEqual(optimizer.paramGroups.map((g) => g.lr));
    // The warm-up recipe ends at etaMin exactly where Keras/optax do.
    expectSequenceClose([scheduler.getLastLr()], [BASES.map(() => etaMin)]);
  });

  it("the README's Keras CosineDecay(warmup_target) equivalent reproduces Keras's formula, hold included", () => {
    const [init, peak, alpha, W, D] = [1e-5, 3e-3, 0.1, 20, 150];
    const keras = (step: number) => {
      const s = Math.min(step, W + D);
      if (s < W) return init + (peak - init) * (s / W);
      return peak * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * (s - W) / D)) + alpha);
    };
    const optimizer = sgdLike([peak]);
    const scheduler = new SequentialLR(optimizer, {
      schedulers: [
        new LinearLR(optimizer, { startFactor: init / peak, totalIters: W }),
        new CosineAnnealingLR(optimizer, { tMax: D, etaMin: alpha * peak }),
        new LambdaLR(optimizer, { lrLambda: () => alpha }),
      ],
      milestones: [W, W + D],
    });
    const steps = W + D + 60;
    expectSequenceClose(runLrs(scheduler, optimizer, steps), expectedRows([peak], steps, (_base, t) => keras(t)));
  });

  it("the README's optax warmup_cosine_decay_schedule equivalent reproduces optax's formula, hold included", () => {
    const [init, peak, end, W, N] = [0, 1e-3, 1e-5, 30, 230];
    const optax = (count: number) => {
      if (count < W) return init + (peak - init) * Math.min(count, W) / W;
      const alpha = end / peak;
      const c = Math.min(count - W, N - W);
      return peak * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * c / (N - W))) + alpha);
    };
    const optimizer = sgdLike([peak]);
    const scheduler = new SequentialLR(optimizer, {
      schedulers: [
        new LambdaLR(optimizer, { lrLambda: (t) => t / W }), // init 0: LinearLR needs startFactor > 0
        new CosineAnnealingLR(optimizer, { tMax: N - W, etaMin: end }),
        new LambdaLR(optimizer, { lrLambda: () => end / peak }),
      ],
      milestones: [W, N],
    });
    const steps = N + 50;
    expectSequenceClose(runLrs(scheduler, optimizer, steps), expectedRows([peak], steps, (_base, t) => optax(t)));
  });

  it("ConstantLR then ExponentialLR (PyTorch's documented example)", () => {
    const optimizer = sgdLike([0.05, 0.01]);
    const scheduler = new SequentialLR(optimizer, {
      schedulers: [new ConstantLR(optimizer, { factor: 0.1, totalIters: 20 }), new ExponentialLR(optimizer, { gamma: 0.9 })],
      milestones: [20],
    });
    expectSequenceClose(runLrs(scheduler, optimizer, 100), expectedRows([0.05, 0.01], 100, (base, t) => (t < 20 ? base * 0.1 : base * 0.9 ** (t - 20))));
  });

  it("three phases: each scheduler starts at its own epoch 0 (closed form) at its milestone", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new SequentialLR(optimizer, {
      schedulers: [
        new LinearLR(optimizer, { startFactor: 0.1, totalIters: 10 }),
        new ConstantLR(optimizer, { factor: 0.5, totalIters: 5 }),
        new CosineAnnealingLR(optimizer, { tMax: 50 }),
      ],
      milestones: [10, 30],
    });
    expectSequenceClose(runLrs(scheduler, optimizer, 80), expectedRows(BASES, 80, (base, t) => {
      if (t < 10) return base * (0.1 + 0.9 * t / 10);
      if (t < 30) return t - 10 < 5 ? base * 0.5 : base;
      return cosine(base, 0, t - 30, 50);
    }));
  });

  it("hand-over to a scheduler without a closed form (LambdaLR: base·f(0) at the milestone)", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new SequentialLR(optimizer, {
      schedulers: [new LinearLR(optimizer, { startFactor: 0.2, totalIters: 5 }), new LambdaLR(optimizer, { lrLambda: (e) => 0.9 ** e })],
      milestones: [5],
    });
    expectSequenceClose(runLrs(scheduler, optimizer, 60), expectedRows(BASES, 60, (base, t) => (t < 5 ? base * (0.2 + 0.8 * t / 5) : base * 0.9 ** (t - 5))));
  });

  it("hand-over to MultiplicativeLR multiplies the lr it finds by f(0), as PyTorch's _update_lr(0) does", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new SequentialLR(optimizer, {
      schedulers: [new ConstantLR(optimizer, { factor: 0.5, totalIters: 100 }), new MultiplicativeLR(optimizer, { lrLambda: () => 0.9 })],
      milestones: [10],
    });
    expectSequenceClose(runLrs(scheduler, optimizer, 40), expectedRows(BASES, 40, (base, t) => (t < 10 ? base * 0.5 : base * 0.5 * 0.9 ** (t - 9))));
  });

  it("a ChainedScheduler may come first", () => {
    const optimizer = sgdLike(BASES);
    const chained = new ChainedScheduler([new ConstantLR(optimizer, { factor: 0.5, totalIters: 4 }), new StepLR(optimizer, { stepSize: 3, gamma: 0.5 })]);
    const scheduler = new SequentialLR(optimizer, { schedulers: [chained, new ExponentialLR(optimizer, { gamma: 0.8 })], milestones: [8] });
    // PyTorch's initial step of a chained scheduler steps its members normally: ConstantLR's
    // factor at epoch 0 and StepLR's epoch 0 (no decay).
    expectSequenceClose(runLrs(scheduler, optimizer, 30), expectedRows(BASES, 30, (base, t) => {
      if (t < 8) return base * (t < 4 ? 0.5 : 1) * 0.5 ** Math.floor(t / 3);
      return base * 0.8 ** (t - 8);
    }));
  });

  it("a OneCycleLR member still throws past its totalSteps, leaving everything as it was", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new SequentialLR(optimizer, {
      schedulers: [new ConstantLR(optimizer, { factor: 0.5, totalIters: 5 }), new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 10 })],
      milestones: [5],
    });
    for (let t = 1; t <= 15; t++) scheduler.step();
    const lrs = scheduler.getLastLr();
    expect(() => scheduler.step()).toThrow(RangeError);
    expect(scheduler.lastEpoch).toBe(15);
    expect(scheduler.getLastLr()).toEqual(lrs);
  });

  it("round-trips its state (and its members') mid-sequence", () => {
    checkRoundTrip(() => sgdLike(BASES), (o) => warmupCosine(o, 10, 0.01, 50, 1e-4), 7, 60);
    checkRoundTrip(() => sgdLike(BASES), (o) => warmupCosine(o, 10, 0.01, 50, 1e-4), 23, 40);
    const sd = warmupCosine(sgdLike(BASES), 5, 0.1, 10, 0).stateDict();
    expect(Array.isArray(sd.schedulers) && sd.schedulers.length).toBe(2);
    expect(sd.milestones).toEqual([5]);
  });

  it.each([
    ["milestones missing", (o: FakeOptimizer) => ({ schedulers: [new StepLR(o, { stepSize: 2 }), new StepLR(o, { stepSize: 3 })] }), TypeError, /milestones/],
    ["milestones count", (o: FakeOptimizer) => ({ schedulers: [new StepLR(o, { stepSize: 2 }), new StepLR(o, { stepSize: 3 })], milestones: [2, 4] }), RangeError, /milestone/],
    ["milestones not increasing", (o: FakeOptimizer) => ({ schedulers: [new StepLR(o, { stepSize: 2 }), new StepLR(o, { stepSize: 3 }), new StepLR(o, { stepSize: 4 })], milestones: [5, 5] }), RangeError, /milestones/],
    ["milestone 0", (o: FakeOptimizer) => ({ schedulers: [new StepLR(o, { stepSize: 2 }), new StepLR(o, { stepSize: 3 })], milestones: [0] }), RangeError, /milestones\[0\]/],
    ["no schedulers", () => ({ schedulers: [], milestones: [] }), TypeError, /schedulers/],
    ["not a scheduler", () => ({ schedulers: [{ step() {} }], milestones: [] }), TypeError, /schedulers\[0\]/],
    ["another optimizer's scheduler", (o: FakeOptimizer) => ({ schedulers: [new StepLR(o, { stepSize: 2 }), new StepLR(sgdLike(), { stepSize: 3 })], milestones: [3] }), TypeError, /schedulers\[1\]/],
    ["ReduceLROnPlateau", (o: FakeOptimizer) => ({ schedulers: [new StepLR(o, { stepSize: 2 }), new ReduceLROnPlateau(o)], milestones: [3] }), TypeError, /ReduceLROnPlateau/],
    ["a composite after the first", (o: FakeOptimizer) => ({ schedulers: [new StepLR(o, { stepSize: 2 }), new ChainedScheduler([new StepLR(o, { stepSize: 3 })])], milestones: [3] }), TypeError, /schedulers\[1\]/],
  ] as const)("rejects %s", (_name, options, errorClass, pattern) => {
    const optimizer = sgdLike(BASES);
    const make = () => new SequentialLR(optimizer, options(optimizer) as never);
    expect(make).toThrow(errorClass);
    expect(make).toThrow(pattern);
  });
});

describe("ChainedScheduler", () => {
  it("ConstantLR + ExponentialLR compound (PyTorch's documented example)", () => {
    const optimizer = sgdLike([0.05, 0.01]);
    const scheduler = new ChainedScheduler([new ConstantLR(optimizer, { factor: 0.1, totalIters: 20 }), new ExponentialLR(optimizer, { gamma: 0.9 })], optimizer);
    expect(scheduler.lastEpoch).toBe(0);
    expectSequenceClose(runLrs(scheduler, optimizer, 100), expectedRows([0.05, 0.01], 100, (base, t) => base * 0.9 ** t * (t < 20 ? 0.1 : 1)));
    expect(scheduler.lastEpoch).toBe(100);
  });

  it("LinearLR warm-up × StepLR decay × MultiplicativeLR", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new ChainedScheduler([
      new LinearLR(optimizer, { startFactor: 0.25, totalIters: 8 }),
      new StepLR(optimizer, { stepSize: 10, gamma: 0.5 }),
      new MultiplicativeLR(optimizer, { lrLambda: () => 0.99 }),
    ]);
    expectSequenceClose(runLrs(scheduler, optimizer, 60), expectedRows(BASES, 60, (base, t) => base * (0.25 + 0.75 * Math.min(t, 8) / 8) * 0.5 ** Math.floor(t / 10) * 0.99 ** t));
  });

  it("round-trips its state (and its members') mid-sequence", () => {
    checkRoundTrip(
      () => sgdLike(BASES),
      (o) => new ChainedScheduler([new CosineAnnealingLR(o, { tMax: 30 }), new ExponentialLR(o, { gamma: 0.97 })]),
      12, 40,
    );
  });

  it("checks its arguments", () => {
    const optimizer = sgdLike(BASES);
    expect(() => new ChainedScheduler([])).toThrow(TypeError);
    expect(() => new ChainedScheduler([new StepLR(optimizer, { stepSize: 2 })], sgdLike())).toThrow(/another optimizer/);
    expect(() => new ChainedScheduler([new StepLR(optimizer, { stepSize: 2 }), new StepLR(sgdLike(), { stepSize: 2 })])).toThrow(/schedulers\[1\]/);
    expect(() => new ChainedScheduler([new ReduceLROnPlateau(optimizer)])).toThrow(/ReduceLROnPlateau/);
    expect(() => new ChainedScheduler("x" as never)).toThrow(TypeError);
  });
});
