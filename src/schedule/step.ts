// Step-wise and simple multiplicative schedules: StepLR, MultiStepLR, ConstantLR, LinearLR,
// ExponentialLR, PolynomialLR. Each has PyTorch's chainable rule (a factor applied to the
// group's current lr, so it composes with other schedulers and with external lr changes) and
// its closed form (for `step(epoch)` and SequentialLR's hand-over).

import { checkBounded, describe } from "../checks.js";
import {
  checkLastEpoch, checkOption, checkOptimizer, checkPerGroup, floorMod, INITIAL_STEP, LRScheduler, readOptions,
  type LastEpochOption, type SchedulableOptimizer,
} from "./scheduler.js";

/** Options of StepLR (torch.optim.lr_scheduler.StepLR). */
export interface StepLROptions extends LastEpochOption {
  /** Period of the decay, in steps: a positive integer. Required. */
  stepSize: number;
  /** Multiplicative factor of the decay, ≥ 0. Default 0.1. */
  gamma?: number;
}

/** Multiplies every group's lr by `gamma` every `stepSize` steps. */
export class StepLR extends LRScheduler {
  /** Steps between decays (the `stepSize` option). */
  readonly stepSize: number;
  /** The decay factor (the `gamma` option). */
  readonly gamma: number;

  constructor(optimizer: SchedulableOptimizer, options: StepLROptions) {
    const o = readOptions("StepLR", options, ["stepSize", "gamma", "lastEpoch"]);
    const stepSize = checkOption("StepLR", "stepSize", o.stepSize, { integer: true, min: 1 });
    const gamma = checkOption("StepLR", "gamma", o.gamma, { min: 0 }, 0.1);
    const lastEpoch = checkLastEpoch("StepLR", o.lastEpoch);
    super(checkOptimizer("StepLR", optimizer));
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    checkBounded(where, "stepSize", state.stepSize, { integer: true, min: 1 });
    checkBounded(where, "gamma", state.gamma, { min: 0 });
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0 || floorMod(this.lastEpoch, this.stepSize) !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((baseLr) => baseLr * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/** Options of MultiStepLR (torch.optim.lr_scheduler.MultiStepLR). */
export interface MultiStepLROptions extends LastEpochOption {
  /**
   * Step indices at which the lr is multiplied by `gamma`: non-negative integers in
   * non-decreasing order (a repeated milestone applies gamma once per repetition, as PyTorch's
   * Counter does). Required.
   */
  milestones: readonly number[];
  /** Multiplicative factor of the decay, ≥ 0. Default 0.1. */
  gamma?: number;
}

/** Multiplies every group's lr by `gamma` at each milestone. */
export class MultiStepLR extends LRScheduler {
  /** The step indices at which the lr decays (the `milestones` option, sorted). */
  readonly milestones: number[];
  /** The decay factor (the `gamma` option). */
  readonly gamma: number;

  constructor(optimizer: SchedulableOptimizer, options: MultiStepLROptions) {
    const o = readOptions("MultiStepLR", options, ["milestones", "gamma", "lastEpoch"]);
    if (!Array.isArray(o.milestones)) throw new TypeError(`simdopt: MultiStepLR requires the option milestones (an array of step indices), got ${describe(o.milestones)}`);
    const milestones = (o.milestones as unknown[]).map((m, i) => checkOption("MultiStepLR", `milestones[${i}]`, m, { integer: true, min: 0 }));
    for (let i = 1; i < milestones.length; i++) {
      if (milestones[i]! < milestones[i - 1]!) {
        throw new RangeError(`simdopt: MultiStepLR milestones must be increasing, got ${milestones.join(", ")}`);
      }
    }
    const gamma = checkOption("MultiStepLR", "gamma", o.gamma, { min: 0 }, 0.1);
    const lastEpoch = checkLastEpoch("MultiStepLR", o.lastEpoch);
    super(checkOptimizer("MultiStepLR", optimizer));
    this.milestones = milestones;
    this.gamma = gamma;
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    checkPerGroup(where, "milestones", state.milestones, null, { integer: true, min: 0 });
    const milestones = state.milestones as number[];
    for (let i = 1; i < milestones.length; i++) {
      if (milestones[i]! < milestones[i - 1]!) throw new RangeError(`simdopt: ${where}milestones must be increasing, got ${milestones.join(", ")}`);
    }
    checkBounded(where, "gamma", state.gamma, { min: 0 });
  }

  protected computeLr(): number[] {
    let count = 0;
    for (const milestone of this.milestones) if (milestone === this.lastEpoch) count++;
    const lrs = this.groupLrs();
    if (count === 0) return lrs;
    return lrs.map((lr) => lr * this.gamma ** count);
  }

  protected override closedFormLr(): number[] {
    let passed = 0; // bisect_right over the sorted milestones
    while (passed < this.milestones.length && this.milestones[passed]! <= this.lastEpoch) passed++;
    return this.baseLrs.map((baseLr) => baseLr * this.gamma ** passed);
  }
}

/** Options of ConstantLR (torch.optim.lr_scheduler.ConstantLR). */
export interface ConstantLROptions extends LastEpochOption {
  /** The factor applied until `totalIters`, in (0, 1]. Default 1/3. */
  factor?: number;
  /** Steps during which the factor applies: a positive integer. Default 5. */
  totalIters?: number;
}

/** Multiplies every group's lr by `factor` until step `totalIters`, then restores it. */
export class ConstantLR extends LRScheduler {
  /** The factor applied until `totalIters` (the `factor` option). */
  readonly factor: number;
  /** Steps the factor lasts (the `totalIters` option). */
  readonly totalIters: number;

  constructor(optimizer: SchedulableOptimizer, options?: ConstantLROptions) {
    const o = readOptions("ConstantLR", options, ["factor", "totalIters", "lastEpoch"], false);
    // PyTorch allows factor 0, whose restoring step multiplies by 1/0; that would write NaN.
    const factor = checkOption("ConstantLR", "factor", o.factor, { min: 0, minExclusive: true, max: 1 }, 1 / 3);
    const totalIters = checkOption("ConstantLR", "totalIters", o.totalIters, { integer: true, min: 1 }, 5);
    const lastEpoch = checkLastEpoch("ConstantLR", o.lastEpoch);
    super(checkOptimizer("ConstantLR", optimizer));
    this.factor = factor;
    this.totalIters = totalIters;
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    checkBounded(where, "factor", state.factor, { min: 0, minExclusive: true, max: 1 });
    checkBounded(where, "totalIters", state.totalIters, { integer: true, min: 1 });
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0) return lrs.map((lr) => lr * this.factor);
    if (this.lastEpoch !== this.totalIters) return lrs;
    return lrs.map((lr) => lr * (1 / this.factor));
  }

  protected override closedFormLr(): number[] {
    const reached = this.lastEpoch >= this.totalIters ? 1 : 0;
    return this.baseLrs.map((baseLr) => baseLr * (this.factor + reached * (1 - this.factor)));
  }
}

/** Options of LinearLR (torch.optim.lr_scheduler.LinearLR). */
export interface LinearLROptions extends LastEpochOption {
  /** The factor at step 0, in (0, 1]. Default 1/3. */
  startFactor?: number;
  /** The factor from step `totalIters` on, in [0, 1]. Default 1. */
  endFactor?: number;
  /** Steps over which the factor moves linearly: a positive integer. Default 5. */
  totalIters?: number;
}

/**
 * Scales every group's lr by a factor moving linearly from `startFactor` to `endFactor` over
 * `totalIters` steps — the usual warm-up (see SequentialLR).
 */
export class LinearLR extends LRScheduler {
  /** The factor at step 0 (the `startFactor` option). */
  readonly startFactor: number;
  /** The factor from `totalIters` on (the `endFactor` option). */
  readonly endFactor: number;
  /** Steps of the linear ramp (the `totalIters` option). */
  readonly totalIters: number;

  constructor(optimizer: SchedulableOptimizer, options?: LinearLROptions) {
    const o = readOptions("LinearLR", options, ["startFactor", "endFactor", "totalIters", "lastEpoch"], false);
    const startFactor = checkOption("LinearLR", "startFactor", o.startFactor, { min: 0, minExclusive: true, max: 1 }, 1 / 3);
    const endFactor = checkOption("LinearLR", "endFactor", o.endFactor, { min: 0, max: 1 }, 1);
    const totalIters = checkOption("LinearLR", "totalIters", o.totalIters, { integer: true, min: 1 }, 5);
    const lastEpoch = checkLastEpoch("LinearLR", o.lastEpoch);
    super(checkOptimizer("LinearLR", optimizer));
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    checkBounded(where, "startFactor", state.startFactor, { min: 0, minExclusive: true, max: 1 });
    checkBounded(where, "endFactor", state.endFactor, { min: 0, max: 1 });
    checkBounded(where, "totalIters", state.totalIters, { integer: true, min: 1 });
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0) return lrs.map((lr) => lr * this.startFactor);
    if (this.isInitial || this.lastEpoch > this.totalIters) return lrs;
    const delta = this.endFactor - this.startFactor;
    const ratio = 1 + delta / (this.totalIters * this.startFactor + (this.lastEpoch - 1) * delta);
    return lrs.map((lr) => lr * ratio);
  }

  protected override closedFormLr(): number[] {
    const progress = Math.min(this.totalIters, this.lastEpoch);
    return this.baseLrs.map((baseLr) => baseLr * (this.startFactor + (this.endFactor - this.startFactor) * progress / this.totalIters));
  }
}

/** Options of ExponentialLR (torch.optim.lr_scheduler.ExponentialLR). */
export interface ExponentialLROptions extends LastEpochOption {
  /** Multiplicative factor per step, ≥ 0. Required. */
  gamma: number;
}

/** Multiplies every group's lr by `gamma` every step. */
export class ExponentialLR extends LRScheduler {
  /** The factor per step (the `gamma` option). */
  readonly gamma: number;

  constructor(optimizer: SchedulableOptimizer, options: ExponentialLROptions) {
    const o = readOptions("ExponentialLR", options, ["gamma", "lastEpoch"]);
    const gamma = checkOption("ExponentialLR", "gamma", o.gamma, { min: 0 });
    const lastEpoch = checkLastEpoch("ExponentialLR", o.lastEpoch);
    super(checkOptimizer("ExponentialLR", optimizer));
    this.gamma = gamma;
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    checkBounded(where, "gamma", state.gamma, { min: 0 });
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    // The initial step of a resumed scheduler must not move the lr one step ahead of itself.
    if (this.isInitial) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((baseLr) => baseLr * this.gamma ** this.lastEpoch);
  }
}

/** Options of PolynomialLR (torch.optim.lr_scheduler.PolynomialLR). */
export interface PolynomialLROptions extends LastEpochOption {
  /** Steps over which the lr decays to 0: a positive integer. Default 5. */
  totalIters?: number;
  /** The power of the polynomial, ≥ 0. Default 1. */
  power?: number;
}

/** Decays every group's lr as (1 − t/totalIters)^power, reaching 0 at `totalIters`. */
export class PolynomialLR extends LRScheduler {
  /** Steps until the lr reaches 0 (the `totalIters` option). */
  readonly totalIters: number;
  /** The polynomial's power (the `power` option). */
  readonly power: number;

  constructor(optimizer: SchedulableOptimizer, options?: PolynomialLROptions) {
    const o = readOptions("PolynomialLR", options, ["totalIters", "power", "lastEpoch"], false);
    const totalIters = checkOption("PolynomialLR", "totalIters", o.totalIters, { integer: true, min: 1 }, 5);
    const power = checkOption("PolynomialLR", "power", o.power, { min: 0 }, 1);
    const lastEpoch = checkLastEpoch("PolynomialLR", o.lastEpoch);
    super(checkOptimizer("PolynomialLR", optimizer));
    this.totalIters = totalIters;
    this.power = power;
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    checkBounded(where, "totalIters", state.totalIters, { integer: true, min: 1 });
    checkBounded(where, "power", state.power, { min: 0 });
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    if (this.isInitial || this.lastEpoch > this.totalIters) return lrs;
    const decay = ((1 - this.lastEpoch / this.totalIters) / (1 - (this.lastEpoch - 1) / this.totalIters)) ** this.power;
    return lrs.map((lr) => lr * decay);
  }

  protected override closedFormLr(): number[] {
    const progress = Math.min(this.totalIters, this.lastEpoch);
    return this.baseLrs.map((baseLr) => baseLr * (1 - progress / this.totalIters) ** this.power);
  }
}
