// The state checks of the step-wise schedulers, message by message: each loaded option is held
// to what the constructor accepts (a refused state changes nothing), and MultiStepLR's milestones
// may repeat (PyTorch's Counter applies gamma once per repetition) but not decrease.
import { describe, expect, it } from "vitest";
import { ConstantLR, ExponentialLR, LinearLR, MultiStepLR, PolynomialLR, StepLR, type LRScheduler } from "../../src/index.js";
import { messageOf, sgdLike } from "./helpers.js";

/** The message of loading `patch` over the scheduler's own state; a refusal must change nothing. */
function loadMessage(scheduler: LRScheduler, patch: Record<string, unknown>): string {
  scheduler.step();
  const before = scheduler.stateDict();
  const message = messageOf(() => scheduler.loadStateDict({ ...before, ...patch }));
  if (message !== "(no error)") expect(scheduler.stateDict()).toEqual(before);
  return message;
}

const make: Record<string, () => LRScheduler> = {
  StepLR: () => new StepLR(sgdLike(), { stepSize: 3, gamma: 0.5 }),
  MultiStepLR: () => new MultiStepLR(sgdLike(), { milestones: [2, 5], gamma: 0.5 }),
  ConstantLR: () => new ConstantLR(sgdLike(), { factor: 0.5, totalIters: 4 }),
  LinearLR: () => new LinearLR(sgdLike(), { startFactor: 0.25, endFactor: 0.75, totalIters: 4 }),
  ExponentialLR: () => new ExponentialLR(sgdLike(), { gamma: 0.9 }),
  PolynomialLR: () => new PolynomialLR(sgdLike(), { totalIters: 4, power: 2 }),
};

describe("step-wise scheduler states", () => {
  it.each([
    ["StepLR", { stepSize: 0 }, "RangeError: simdopt: StepLR.loadStateDict: stepSize must be a finite integer ≥ 1, got 0"],
    ["StepLR", { stepSize: 1.5 }, "RangeError: simdopt: StepLR.loadStateDict: stepSize must be a finite integer ≥ 1, got 1.5"],
    ["StepLR", { gamma: -0.5 }, "RangeError: simdopt: StepLR.loadStateDict: gamma must be a finite number ≥ 0, got -0.5"],
    ["MultiStepLR", { milestones: [2, -5] }, "RangeError: simdopt: MultiStepLR.loadStateDict: milestones[1] must be a finite integer ≥ 0, got -5"],
    ["MultiStepLR", { milestones: [2.5] }, "RangeError: simdopt: MultiStepLR.loadStateDict: milestones[0] must be a finite integer ≥ 0, got 2.5"],
    ["MultiStepLR", { milestones: [2, "5"] }, "TypeError: simdopt: MultiStepLR.loadStateDict: milestones[1] must be a finite integer ≥ 0, got \"5\" (string)"],
    ["MultiStepLR", { milestones: [5, 2] }, "RangeError: simdopt: MultiStepLR.loadStateDict: milestones must be increasing, got 5, 2"],
    ["MultiStepLR", { milestones: [1, 4, 4, 3, 9] }, "RangeError: simdopt: MultiStepLR.loadStateDict: milestones must be increasing, got 1, 4, 4, 3, 9"],
    ["MultiStepLR", { gamma: -1 }, "RangeError: simdopt: MultiStepLR.loadStateDict: gamma must be a finite number ≥ 0, got -1"],
    ["ConstantLR", { factor: 0 }, "RangeError: simdopt: ConstantLR.loadStateDict: factor must be a finite number > 0 and ≤ 1, got 0"],
    ["ConstantLR", { factor: 1.5 }, "RangeError: simdopt: ConstantLR.loadStateDict: factor must be a finite number > 0 and ≤ 1, got 1.5"],
    ["ConstantLR", { totalIters: 0 }, "RangeError: simdopt: ConstantLR.loadStateDict: totalIters must be a finite integer ≥ 1, got 0"],
    ["ConstantLR", { totalIters: 2.5 }, "RangeError: simdopt: ConstantLR.loadStateDict: totalIters must be a finite integer ≥ 1, got 2.5"],
    ["LinearLR", { startFactor: 0 }, "RangeError: simdopt: LinearLR.loadStateDict: startFactor must be a finite number > 0 and ≤ 1, got 0"],
    ["LinearLR", { startFactor: 1.5 }, "RangeError: simdopt: LinearLR.loadStateDict: startFactor must be a finite number > 0 and ≤ 1, got 1.5"],
    ["LinearLR", { endFactor: -0.1 }, "RangeError: simdopt: LinearLR.loadStateDict: endFactor must be a finite number ≥ 0 and ≤ 1, got -0.1"],
    ["LinearLR", { endFactor: 1.5 }, "RangeError: simdopt: LinearLR.loadStateDict: endFactor must be a finite number ≥ 0 and ≤ 1, got 1.5"],
    ["LinearLR", { totalIters: 0 }, "RangeError: simdopt: LinearLR.loadStateDict: totalIters must be a finite integer ≥ 1, got 0"],
    ["LinearLR", { totalIters: 2.5 }, "RangeError: simdopt: LinearLR.loadStateDict: totalIters must be a finite integer ≥ 1, got 2.5"],
    ["ExponentialLR", { gamma: -0.9 }, "RangeError: simdopt: ExponentialLR.loadStateDict: gamma must be a finite number ≥ 0, got -0.9"],
    ["PolynomialLR", { totalIters: 0 }, "RangeError: simdopt: PolynomialLR.loadStateDict: totalIters must be a finite integer ≥ 1, got 0"],
    ["PolynomialLR", { totalIters: 2.5 }, "RangeError: simdopt: PolynomialLR.loadStateDict: totalIters must be a finite integer ≥ 1, got 2.5"],
    ["PolynomialLR", { power: -1 }, "RangeError: simdopt: PolynomialLR.loadStateDict: power must be a finite number ≥ 0, got -1"],
  ])("%s refuses %o", (kind, patch, message) => {
    expect(loadMessage(make[kind]!(), patch)).toBe(message);
  });

  it.each([
    ["StepLR", { stepSize: 1, gamma: 0 }],
    ["MultiStepLR", { milestones: [], gamma: 0 }],
    ["MultiStepLR", { milestones: [0, 3, 3, 7] }],
    ["ConstantLR", { factor: 1, totalIters: 1 }],
    ["LinearLR", { startFactor: 1, endFactor: 0, totalIters: 1 }],
    ["ExponentialLR", { gamma: 0 }],
    ["PolynomialLR", { totalIters: 1, power: 0 }],
  ])("%s accepts the bounds %o", (kind, patch) => {
    const scheduler = make[kind]!();
    expect(loadMessage(scheduler, patch)).toBe("(no error)");
    expect(scheduler.stateDict()).toMatchObject(patch);
  });

  it("MultiStepLR with loaded repeated milestones applies gamma once per repetition, stepping and jumping", () => {
    const optimizer = sgdLike([1, 0.5]);
    const scheduler = new MultiStepLR(optimizer, { milestones: [10], gamma: 0.5 });
    scheduler.loadStateDict({ ...scheduler.stateDict(), milestones: [1, 3, 3] });
    const lrs: number[][] = [];
    for (let t = 1; t <= 4; t++) {
      scheduler.step();
      lrs.push(scheduler.getLastLr());
    }
    expect(lrs).toEqual([[0.5, 0.25], [0.5, 0.25], [0.125, 0.0625], [0.125, 0.0625]]);
    scheduler.step(2);
    expect(scheduler.getLastLr()).toEqual([0.5, 0.25]);
    scheduler.step(3);
    expect(scheduler.getLastLr()).toEqual([0.125, 0.0625]);
  });
});
