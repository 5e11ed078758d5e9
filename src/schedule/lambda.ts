// User-defined schedules: LambdaLR (lr = baseLr · f(epoch)) and MultiplicativeLR
// (lr ← lr · f(epoch)). The functions are code, not data: state dicts hold `null` in their
// place and loading one keeps the scheduler's own functions, as PyTorch does for plain functions.

import { describe } from "../checks.js";
import {
  checkLastEpoch, checkOptimizer, INITIAL_STEP, LRScheduler, readOptions,
  type LastEpochOption, type SchedulableOptimizer, type SchedulerStateDict,
} from "./scheduler.js";

/** A factor as a function of the step index. */
export type LrLambda = (epoch: number) => number;

/** Options of LambdaLR and MultiplicativeLR. */
export interface LambdaLROptions extends LastEpochOption {
  /** One function for every group, or an array with one per group. Required. */
  lrLambda: LrLambda | readonly LrLambda[];
}

/** Options of MultiplicativeLR (the same shape as LambdaLR's). */
export type MultiplicativeLROptions = LambdaLROptions;

function readLambdas(owner: string, options: unknown, groups: number): { lambdas: LrLambda[]; lastEpoch: number } {
  const o = readOptions(owner, options, ["lrLambda", "lastEpoch"]);
  const given = o.lrLambda;
  if (given === undefined) throw new TypeError(`simdopt: ${owner} requires the option lrLambda`);
  let lambdas: unknown[];
  if (Array.isArray(given)) {
    if (given.length !== groups) throw new RangeError(`simdopt: ${owner} lrLambda has ${given.length} functions, the optimizer has ${groups} param groups`);
    lambdas = [...given];
  } else {
    lambdas = new Array<unknown>(groups).fill(given);
  }
  lambdas.forEach((fn, i) => {
    if (typeof fn !== "function") throw new TypeError(`simdopt: ${owner} lrLambda${Array.isArray(given) ? `[${i}]` : ""} must be a function, got ${describe(fn)}`);
  });
  return { lambdas: lambdas as LrLambda[], lastEpoch: checkLastEpoch(owner, o.lastEpoch) };
}

/** Sets every group's lr to its base lr times `lrLambda(epoch)`. */
export class LambdaLR extends LRScheduler {
  protected lrLambdas: LrLambda[];

  constructor(optimizer: SchedulableOptimizer, options: LambdaLROptions) {
    const opt = checkOptimizer("LambdaLR", optimizer);
    const { lambdas, lastEpoch } = readLambdas("LambdaLR", options, opt.paramGroups.length);
    super(opt);
    this.lrLambdas = lambdas;
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
  }

  protected computeLr(): number[] {
    return this.baseLrs.map((baseLr, i) => baseLr * this.lrLambdas[i]!(this.lastEpoch));
  }

  protected override nonStateKeys(): readonly string[] {
    return ["lrLambdas"];
  }

  /** As LRScheduler's, with `lrLambdas: [null, ...]` in place of the functions. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), lrLambdas: this.lrLambdas.map(() => null) };
  }
}

/** Multiplies every group's lr by `lrLambda(epoch)` every step (not at the initial step). */
export class MultiplicativeLR extends LRScheduler {
  protected lrLambdas: LrLambda[];

  constructor(optimizer: SchedulableOptimizer, options: MultiplicativeLROptions) {
    const opt = checkOptimizer("MultiplicativeLR", optimizer);
    const { lambdas, lastEpoch } = readLambdas("MultiplicativeLR", options, opt.paramGroups.length);
    super(opt);
    this.lrLambdas = lambdas;
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    if (this.isInitial) return lrs;
    return lrs.map((lr, i) => lr * this.lrLambdas[i]!(this.lastEpoch));
  }

  protected override nonStateKeys(): readonly string[] {
    return ["lrLambdas"];
  }

  /** As LRScheduler's, with `lrLambdas: [null, ...]` in place of the functions. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), lrLambdas: this.lrLambdas.map(() => null) };
  }
}
