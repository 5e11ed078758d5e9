// step(epoch) jumps with each scheduler's closed form; it must land where stepping one at a time
// lands (no external lr changes), at every epoch including the ends of warm-up and decay
// phases. Also: every constructor's errors name the class and the option.
import { describe, expect, it } from "vitest";
import {
  ConstantLR, CosineAnnealingLR, ExponentialLR, LinearLR, type LRScheduler, MultiStepLR, PolynomialLR, StepLR,
} from "../../src/index.js";
import { expectSequenceClose, runLrs, sgdLike, type FakeOptimizer } from "./helpers.js";

const BASES = [0.1, 0.025];
type Make = (optimizer: FakeOptimizer) => LRScheduler;

const CASES: Array<[string, Make]> = [
  ["StepLR", (o) => new StepLR(o, { stepSize: 3, gamma: 0.5 })],
  ["MultiStepLR", (o) => new MultiStepLR(o, { milestones: [2, 5, 5, 9], gamma: 0.5 })],
  ["ConstantLR", (o) => new ConstantLR(o, { factor: 0.25, totalIters: 6 })],
  ["LinearLR", (o) => new LinearLR(o, { startFactor: 0.2, endFactor: 0.9, totalIters: 7 })],
  ["ExponentialLR", (o) => new ExponentialLR(o, { gamma: 0.8 })],
  ["PolynomialLR", (o) => new PolynomialLR(o, { totalIters: 6, power: 2 })],
  ["CosineAnnealingLR", (o) => new CosineAnnealingLR(o, { tMax: 5, etaMin: 1e-3 })],
];
const STEPS = 14;

describe("step(epoch) uses the closed form", () => {
  it.each(CASES)("%s: step(e) from a fresh scheduler equals e single steps, for every e ≤ 14", (_name, make) => {
    const stepped = sgdLike(BASES);
    const sequence = runLrs(make(stepped), stepped, STEPS);
    const jumped = sequence.map((_row, epoch) => {
      const optimizer = sgdLike(BASES);
      const scheduler = make(optimizer);
      if (epoch > 0) scheduler.step(epoch);
      expect(scheduler.lastEpoch).toBe(epoch);
      return optimizer.paramGroups.map((g) => g.lr);
    });
    expectSequenceClose(jumped, sequence);
  });
});

describe("constructor errors name the class and the option", () => {
  const opt = () => sgdLike(BASES);
  const bad: Array<[string, () => unknown, RegExp]> = [
    ["StepLR", () => new StepLR(opt(), { stepSize: 3, gamma: -1 }), /gamma/],
    ["StepLR", () => new StepLR(opt(), { stepSize: 0 }), /stepSize must be a finite integer ≥ 1, got 0$/],
    ["StepLR", () => new StepLR(opt(), { stepSize: 3, lastEpoch: -2 }), /lastEpoch must be a finite integer ≥ -1/],
    ["StepLR", () => new StepLR({} as never, { stepSize: 3 }), /optimizer/],
    ["StepLR", () => new StepLR(opt(), { stepSize: 3, step_size: 3 } as never), /step_size/],
    ["MultiStepLR", () => new MultiStepLR(opt(), { milestones: [1], gamma: -1 }), /gamma/],
    ["MultiStepLR", () => new MultiStepLR(opt(), { milestones: [1.5] }), /milestones\[0\]/],
    ["MultiStepLR", () => new MultiStepLR(opt(), { milestones: [3, 1] }), /milestones must be increasing, got 3, 1$/],
    ["MultiStepLR", () => new MultiStepLR(opt(), { milestones: [1], lastEpoch: -2 }), /lastEpoch must be a finite integer ≥ -1/],
    ["MultiStepLR", () => new MultiStepLR({} as never, { milestones: [1] }), /optimizer/],
    ["MultiStepLR", () => new MultiStepLR(opt(), { milestones: [1], gama: 0.1 } as never), /gama/],
    ["ConstantLR", () => new ConstantLR(opt(), { factor: 2 }), /factor must be a finite number > 0 and ≤ 1, got 2$/],
    ["ConstantLR", () => new ConstantLR(opt(), { totalIters: 0 }), /totalIters/],
    ["ConstantLR", () => new ConstantLR(opt(), { totalIters: 2.5 }), /totalIters must be a finite integer/],
    ["ConstantLR", () => new ConstantLR(opt(), { lastEpoch: -2 }), /lastEpoch must be a finite integer ≥ -1/],
    ["ConstantLR", () => new ConstantLR({} as never), /optimizer/],
    ["ConstantLR", () => new ConstantLR(opt(), { total_iters: 3 } as never), /total_iters/],
    ["LinearLR", () => new LinearLR(opt(), { startFactor: 0 }), /startFactor/],
    ["LinearLR", () => new LinearLR(opt(), { endFactor: 2 }), /endFactor/],
    ["LinearLR", () => new LinearLR(opt(), { totalIters: 0 }), /totalIters/],
    ["LinearLR", () => new LinearLR(opt(), { totalIters: 2.5 }), /totalIters must be a finite integer/],
    ["LinearLR", () => new LinearLR(opt(), { lastEpoch: -2 }), /lastEpoch must be a finite integer ≥ -1/],
    ["LinearLR", () => new LinearLR({} as never), /optimizer/],
    ["LinearLR", () => new LinearLR(opt(), { start_factor: 0.5 } as never), /start_factor/],
    ["ExponentialLR", () => new ExponentialLR(opt(), { gamma: -1 }), /gamma must be a finite number ≥ 0, got -1$/],
    ["ExponentialLR", () => new ExponentialLR(opt(), { gamma: 0.5, lastEpoch: -2 }), /lastEpoch must be a finite integer ≥ -1/],
    ["ExponentialLR", () => new ExponentialLR({} as never, { gamma: 0.5 }), /optimizer/],
    ["ExponentialLR", () => new ExponentialLR(opt(), { gamma: 0.5, last_epoch: 1 } as never), /last_epoch/],
    ["PolynomialLR", () => new PolynomialLR(opt(), { totalIters: 0 }), /totalIters/],
    ["PolynomialLR", () => new PolynomialLR(opt(), { totalIters: 2.5 }), /totalIters must be a finite integer/],
    ["PolynomialLR", () => new PolynomialLR(opt(), { power: -1 }), /power/],
    ["PolynomialLR", () => new PolynomialLR(opt(), { lastEpoch: -2 }), /lastEpoch must be a finite integer ≥ -1/],
    ["PolynomialLR", () => new PolynomialLR({} as never), /optimizer/],
    ["PolynomialLR", () => new PolynomialLR(opt(), { total_iters: 3 } as never), /total_iters/],
    ["CosineAnnealingLR", () => new CosineAnnealingLR(opt(), { tMax: 0 }), /tMax/],
    ["CosineAnnealingLR", () => new CosineAnnealingLR(opt(), { tMax: 5, etaMin: -1 }), /etaMin/],
    ["CosineAnnealingLR", () => new CosineAnnealingLR(opt(), { tMax: 5, lastEpoch: -2 }), /lastEpoch must be a finite integer ≥ -1/],
    ["CosineAnnealingLR", () => new CosineAnnealingLR({} as never, { tMax: 5 }), /optimizer/],
    ["CosineAnnealingLR", () => new CosineAnnealingLR(opt(), { tMax: 5, eta_min: 0 } as never), /eta_min/],
  ];
  it.each(bad)("%s %s", (owner, make, option) => {
    expect(make).toThrow(new RegExp(`^simdopt: ${owner}\\b`));
    expect(make).toThrow(option);
  });
});

describe("options are optional where PyTorch's are", () => {
  it("ConstantLR, LinearLR and PolynomialLR without options use PyTorch's defaults", () => {
    const constant = new ConstantLR(sgdLike(BASES));
    expect([constant.factor, constant.totalIters]).toEqual([1 / 3, 5]);
    const linear = new LinearLR(sgdLike(BASES));
    expect([linear.startFactor, linear.endFactor, linear.totalIters]).toEqual([1 / 3, 1, 5]);
    const polynomial = new PolynomialLR(sgdLike(BASES));
    expect([polynomial.totalIters, polynomial.power]).toEqual([5, 1]);
  });
});
