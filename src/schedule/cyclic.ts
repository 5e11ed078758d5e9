// CyclicLR (Smith, "Cyclical Learning Rates for Training Neural Networks"): the lr moves between
// baseLr and maxLr in triangles, with the amplitude scaled per cycle or per iteration; momentum
// (or beta1) is cycled inversely by default, as in PyTorch.

import { checkBoolean, checkBounded, checkChoice as checkChoiceOf, describe } from "../checks.js";
import {
  checkChoice, checkFlag, checkPerGroup, checkLastEpoch, checkOption, checkOptimizer, INITIAL_STEP, LRScheduler,
  perGroupOption, readOptions,
  type LastEpochOption, type SchedulableOptimizer,
} from "./scheduler.js";
import { checkMomentumKey, momentumKey, writeMomentum, type MomentumKey } from "./momentum.js";

/** Options of CyclicLR (torch.optim.lr_scheduler.CyclicLR). */
export interface CyclicLROptions extends LastEpochOption {
  /** The lower lr boundary, one for every group or an array with one per group (≥ 0). Required. */
  baseLr: number | readonly number[];
  /** The upper lr boundary (the amplitude is maxLr − baseLr), per group or one for all. Required. */
  maxLr: number | readonly number[];
  /** Steps in the rising half of a cycle (> 0). Default 2000. */
  stepSizeUp?: number;
  /** Steps in the falling half of a cycle (> 0). Default: stepSizeUp. */
  stepSizeDown?: number | null;
  /**
   * "triangular" (constant amplitude), "triangular2" (amplitude halved every cycle) or
   * "exp_range" (amplitude scaled by gamma^iteration). Ignored when `scaleFn` is given.
   * Default "triangular".
   */
  mode?: "triangular" | "triangular2" | "exp_range";
  /** The base of "exp_range" scaling, ≥ 0. Default 1. */
  gamma?: number;
  /** A custom amplitude scale, 0 ≤ scaleFn(x) ≤ 1, replacing `mode`. Not saved in state dicts. Default none. */
  scaleFn?: ((x: number) => number) | null;
  /** Whether `scaleFn` receives the cycle number or the iteration. Default "cycle". */
  scaleMode?: "cycle" | "iterations";
  /** Cycle `momentum` (SGD, RMSprop) or `betas[0]` (Adam family) inversely to the lr. Default true. */
  cycleMomentum?: boolean;
  /** Momentum at the lr's peak, per group or one for all. Default 0.8. */
  baseMomentum?: number | readonly number[];
  /** Momentum at the lr's trough, per group or one for all. Default 0.9. */
  maxMomentum?: number | readonly number[];
}

const MODES = ["triangular", "triangular2", "exp_range"] as const;
const SCALE_MODES = ["cycle", "iterations"] as const;
const OPTION_KEYS = [
  "baseLr", "maxLr", "stepSizeUp", "stepSizeDown", "mode", "gamma", "scaleFn", "scaleMode",
  "cycleMomentum", "baseMomentum", "maxMomentum", "lastEpoch",
] as const;

/**
 * Cyclical learning rates; step it after every batch. On construction (lastEpoch -1) it sets
 * every group's lr to baseLr and, when cycling momentum, its momentum to maxMomentum.
 */
export class CyclicLR extends LRScheduler {
  /** The upper lr of each group (the `maxLr` option). */
  readonly maxLrs: number[];
  /** Steps in one cycle (`stepSizeUp` + `stepSizeDown`). */
  readonly totalSize: number;
  /** The rising part of a cycle as a fraction of it. */
  readonly stepRatio: number;
  /** `"triangular"`, `"triangular2"` or `"exp_range"` (the `mode` option). */
  readonly mode: "triangular" | "triangular2" | "exp_range";
  /** The decay of `"exp_range"` (the `gamma` option). */
  readonly gamma: number;
  /** What the scale function receives; set from `mode` unless a custom `scaleFn` is given. */
  protected scaleMode: "cycle" | "iterations";
  /** Whether momentum (or beta1) is cycled against the lr (the `cycleMomentum` option). */
  readonly cycleMomentum: boolean;
  /** @internal */
  protected momentumKey: MomentumKey | null;
  protected baseMomentums: number[];
  protected maxMomentums: number[];
  #scaleFnCustom: ((x: number) => number) | null;

  constructor(optimizer: SchedulableOptimizer, options: CyclicLROptions) {
    const owner = "CyclicLR";
    const o = readOptions(owner, options, OPTION_KEYS);
    const opt = checkOptimizer(owner, optimizer);
    const groups = opt.paramGroups;
    if (o.baseLr === undefined) throw new TypeError("simdopt: CyclicLR requires the option baseLr");
    if (o.maxLr === undefined) throw new TypeError("simdopt: CyclicLR requires the option maxLr");
    const baseLrs = perGroupOption(owner, "baseLr", o.baseLr, groups.length, { min: 0 });
    const maxLrs = perGroupOption(owner, "maxLr", o.maxLr, groups.length, { min: 0 });
    const stepSizeUp = checkOption(owner, "stepSizeUp", o.stepSizeUp, { min: 0, minExclusive: true }, 2000);
    const stepSizeDown = o.stepSizeDown === null ? stepSizeUp : checkOption(owner, "stepSizeDown", o.stepSizeDown, { min: 0, minExclusive: true }, stepSizeUp);
    const mode = checkChoice(owner, "mode", o.mode, MODES, "triangular");
    const gamma = checkOption(owner, "gamma", o.gamma, { min: 0 }, 1);
    const scaleFn = o.scaleFn ?? null;
    if (scaleFn !== null && typeof scaleFn !== "function") throw new TypeError(`simdopt: CyclicLR scaleFn must be a function, got ${describe(scaleFn)}`);
    const scaleMode = checkChoice(owner, "scaleMode", o.scaleMode, SCALE_MODES, "cycle");
    const cycleMomentum = checkFlag(owner, "cycleMomentum", o.cycleMomentum, true);
    const baseMomentums = perGroupOption(owner, "baseMomentum", o.baseMomentum, groups.length, { min: 0 }, 0.8);
    const maxMomentums = perGroupOption(owner, "maxMomentum", o.maxMomentum, groups.length, { min: 0 }, 0.9);
    const lastEpoch = checkLastEpoch(owner, o.lastEpoch);
    const key = cycleMomentum ? momentumKey(owner, opt) : null;
    if (lastEpoch !== -1) {
      groups.forEach((group, i) => {
        if (typeof group.initialLr !== "number") throw new TypeError(`simdopt: CyclicLR with lastEpoch ${lastEpoch} resumes a schedule and needs paramGroups[${i}].initialLr`);
      });
    }

    super(opt);
    if (lastEpoch === -1) groups.forEach((group, i) => { group.lr = baseLrs[i]!; });
    this.maxLrs = maxLrs;
    this.totalSize = stepSizeUp + stepSizeDown;
    this.stepRatio = stepSizeUp / this.totalSize;
    this.mode = mode;
    this.gamma = gamma;
    this.#scaleFnCustom = scaleFn as ((x: number) => number) | null;
    this.scaleMode = scaleMode;
    this.#initScaleMode();
    this.cycleMomentum = cycleMomentum;
    this.momentumKey = key;
    this.baseMomentums = key === null ? [] : baseMomentums;
    this.maxMomentums = key === null ? [] : maxMomentums;
    if (key !== null && lastEpoch === -1) {
      groups.forEach((group, i) => {
        writeMomentum(group, key, maxMomentums[i]!);
        group.maxMomentum = maxMomentums[i]!;
        group.baseMomentum = baseMomentums[i]!;
      });
    }
    // As in PyTorch, the initial step runs with the base lrs taken from `initialLr` (which an
    // earlier scheduler may have set); the baseLr option replaces them afterwards.
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
    this.baseLrs = baseLrs;
  }

  /** Without a custom scale function, the mode decides what it is evaluated on. */
  #initScaleMode(): void {
    if (this.#scaleFnCustom !== null) return;
    this.scaleMode = this.mode === "exp_range" ? "iterations" : "cycle";
  }

  #scale(x: number): number {
    if (this.#scaleFnCustom !== null) return this.#scaleFnCustom(x);
    if (this.mode === "triangular") return 1;
    if (this.mode === "triangular2") return 1 / 2 ** (x - 1);
    return this.gamma ** x;
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    checkPerGroup(where, "maxLrs", state.maxLrs, this.maxLrs.length, { min: 0 });
    checkBounded(where, "totalSize", state.totalSize, { min: 0, minExclusive: true });
    checkBounded(where, "stepRatio", state.stepRatio, { min: 0, minExclusive: true, max: 1, maxExclusive: true });
    checkChoiceOf(where, "mode", state.mode, MODES);
    checkBounded(where, "gamma", state.gamma, { min: 0 });
    checkChoiceOf(where, "scaleMode", state.scaleMode, SCALE_MODES);
    checkBoolean(where, "cycleMomentum", state.cycleMomentum);
    checkMomentumKey(where, state.momentumKey, state.cycleMomentum as boolean);
    const momentumGroups = state.momentumKey === null ? 0 : this.maxLrs.length;
    checkPerGroup(where, "baseMomentums", state.baseMomentums, momentumGroups, { min: 0 });
    checkPerGroup(where, "maxMomentums", state.maxMomentums, momentumGroups, { min: 0 });
  }

  protected computeLr(): number[] {
    const cycle = Math.floor(1 + this.lastEpoch / this.totalSize);
    const x = 1 + this.lastEpoch / this.totalSize - cycle;
    const scaleFactor = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const scaleArgument = this.scaleMode === "cycle" ? cycle : this.lastEpoch;
    const lrs = this.baseLrs.map((baseLr, i) => {
      const baseHeight = (this.maxLrs[i]! - baseLr) * scaleFactor;
      return baseLr + baseHeight * this.#scale(scaleArgument);
    });
    const key = this.momentumKey;
    if (key !== null) {
      const momentums = this.baseMomentums.map((baseMomentum, i) => {
        const baseHeight = (this.maxMomentums[i]! - baseMomentum) * scaleFactor;
        return this.maxMomentums[i]! - baseHeight * this.#scale(scaleArgument);
      });
      const groups = this.optimizer.paramGroups;
      const count = Math.min(groups.length, momentums.length);
      for (let i = 0; i < count; i++) writeMomentum(groups[i]!, key, momentums[i]!);
    }
    return lrs;
  }

  /** A custom `scaleFn` is kept (functions are not state), the mode's is re-derived. */
  protected override afterLoad(): void {
    this.#initScaleMode();
  }
}
