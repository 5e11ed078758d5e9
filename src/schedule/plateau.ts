// ReduceLROnPlateau: multiply the lr by `factor` once a metric has not improved for more than
// `patience` steps; PyTorch's counters (best, bad epochs, cooldown) exactly.

import { checkBounded, checkChoice as checkChoiceOf, describe, reject, type NumberCheck } from "../checks.js";
import {
  checkChoice, checkOption, checkPerGroup, checkOptimizer, LRScheduler, perGroupOption, readOptions,
  type SchedulableOptimizer,
} from "./scheduler.js";

/** Options of ReduceLROnPlateau (torch.optim.lr_scheduler.ReduceLROnPlateau). */
export interface ReduceLROnPlateauOptions {
  /** "min": reduce when the metric stops decreasing; "max": when it stops increasing. Default "min". */
  mode?: "min" | "max";
  /** new lr = lr · factor, in [0, 1). Default 0.1. */
  factor?: number;
  /** Steps without improvement tolerated before reducing: an integer ≥ 0. Default 10. */
  patience?: number;
  /** How much better a metric must be to count as an improvement (≥ 0). Default 1e-4. */
  threshold?: number;
  /**
   * "rel": better than best·(1 ∓ threshold); "abs": better than best ∓ threshold.
   * Default "rel".
   */
  thresholdMode?: "rel" | "abs";
  /** Steps after a reduction during which bad steps are not counted: an integer ≥ 0. Default 0. */
  cooldown?: number;
  /** Lower bound of the lr, one for every group or an array with one per group (≥ 0). Default 0. */
  minLr?: number | readonly number[];
  /** A reduction smaller than eps is skipped (≥ 0). Default 1e-8. */
  eps?: number;
}

const OPTION_KEYS = ["mode", "factor", "patience", "threshold", "thresholdMode", "cooldown", "minLr", "eps"] as const;

/**
 * Reduces every group's lr when `step(metric)` reports no improvement for more than `patience`
 * steps. It performs no initial step and leaves the lrs as they are until a reduction.
 */
export class ReduceLROnPlateau extends LRScheduler {
  /** The factor the lr is multiplied by on a plateau (the `factor` option). */
  readonly factor: number;
  /** Steps without improvement tolerated before reducing (the `patience` option). */
  readonly patience: number;
  /** Steps to wait after a reduction before counting again (the `cooldown` option). */
  readonly cooldown: number;
  /** Reductions smaller than this are skipped (the `eps` option). */
  readonly eps: number;
  /** `"min"` or `"max"`: whether a lower or a higher metric is better (the `mode` option). */
  readonly mode: "min" | "max";
  /** How much better a metric must be to count as an improvement (the `threshold` option). */
  readonly threshold: number;
  /** `"rel"` or `"abs"`: how `threshold` is applied (the `thresholdMode` option). */
  readonly thresholdMode: "rel" | "abs";
  /** The lower bound per group. */
  protected minLrs: number[];
  /** The scalar minLr (extended to groups added later), or null when given per group. */
  protected defaultMinLr: number | null;
  /** The best metric so far (±Infinity before the first step). */
  protected best: number;
  protected modeWorse: number;
  protected numBadEpochs = 0;
  protected cooldownCounter = 0;

  constructor(optimizer: SchedulableOptimizer, options?: ReduceLROnPlateauOptions) {
    const owner = "ReduceLROnPlateau";
    const o = readOptions(owner, options, OPTION_KEYS, false);
    const opt = checkOptimizer(owner, optimizer);
    const mode = checkChoice(owner, "mode", o.mode, ["min", "max"] as const, "min");
    const factor = checkOption(owner, "factor", o.factor, { min: 0, max: 1, maxExclusive: true }, 0.1);
    const patience = checkOption(owner, "patience", o.patience, { integer: true, min: 0 }, 10);
    const threshold = checkOption(owner, "threshold", o.threshold, { min: 0 }, 1e-4);
    const thresholdMode = checkChoice(owner, "thresholdMode", o.thresholdMode, ["rel", "abs"] as const, "rel");
    const cooldown = checkOption(owner, "cooldown", o.cooldown, { integer: true, min: 0 }, 0);
    const minLrs = perGroupOption(owner, "minLr", o.minLr, opt.paramGroups.length, { min: 0 }, 0);
    const eps = checkOption(owner, "eps", o.eps, { min: 0 }, 1e-8);
    super(opt);
    this.factor = factor;
    this.defaultMinLr = Array.isArray(o.minLr) ? null : minLrs[0]!;
    this.minLrs = minLrs;
    this.patience = patience;
    this.cooldown = cooldown;
    this.eps = eps;
    this.lastEpoch = 0;
    this.lastLr = this.groupLrs();
    this.mode = mode;
    this.threshold = threshold;
    this.thresholdMode = thresholdMode;
    this.modeWorse = mode === "min" ? Infinity : -Infinity;
    this.best = this.modeWorse;
  }

  protected computeLr(): number[] {
    return this.groupLrs();
  }

  /** True while the cooldown after a reduction lasts. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  #isBetter(current: number, best: number): boolean {
    if (this.mode === "min" && this.thresholdMode === "rel") return current < best * (1 - this.threshold);
    if (this.mode === "min") return current < best - this.threshold;
    if (this.thresholdMode === "rel") return current > best * (this.threshold + 1);
    return current > best + this.threshold;
  }

  /**
   * Reports the metric of the epoch just finished (a number; NaN counts as no improvement) and
   * reduces the lrs when it has not improved for more than `patience` steps.
   */
  override step(metric?: number, epoch?: number): void {
    if (typeof metric !== "number") reject("ReduceLROnPlateau.step(metric): ", "metric", metric, "a number", true);
    if (epoch !== undefined && !Number.isFinite(epoch)) reject("ReduceLROnPlateau.step(metric, epoch): ", "epoch", epoch, "a finite number", true);
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.minLrs.length && this.defaultMinLr === null) {
      // PyTorch raises here only when a reduction is due; checking first keeps the counters intact.
      const due = !this.#isBetter(metric, this.best) && !this.inCooldown && this.numBadEpochs + 1 > this.patience;
      if (due) {
        throw new RangeError(`simdopt: ReduceLROnPlateau: the optimizer has ${groups.length} param groups but minLr was given for ${this.minLrs.length}; set one minLr per group`);
      }
    }
    this.lastEpoch = epoch ?? this.lastEpoch + 1;
    if (this.#isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs during the cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.#reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.groupLrs();
  }

  #reduceLr(): void {
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.minLrs.length && this.defaultMinLr !== null) {
      this.minLrs = new Array<number>(groups.length).fill(this.defaultMinLr);
    }
    groups.forEach((group, i) => {
      const oldLr = group.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]!);
      if (oldLr - newLr > this.eps) group.lr = newLr;
    });
  }

  /** @internal `step(metric, epoch)` may set any finite epoch (declared by LRScheduler). */
  protected override lastEpochBounds(): NumberCheck {
    return {};
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    const mode = checkChoiceOf(where, "mode", state.mode, ["min", "max"] as const);
    checkBounded(where, "factor", state.factor, { min: 0, max: 1, maxExclusive: true });
    checkBounded(where, "patience", state.patience, { integer: true, min: 0 });
    checkBounded(where, "threshold", state.threshold, { min: 0 });
    checkChoiceOf(where, "thresholdMode", state.thresholdMode, ["rel", "abs"] as const);
    checkBounded(where, "cooldown", state.cooldown, { integer: true, min: 0 });
    checkPerGroup(where, "minLrs", state.minLrs, null, { min: 0 });
    if (state.defaultMinLr !== null) checkBounded(where, "defaultMinLr", state.defaultMinLr, { min: 0 });
    checkBounded(where, "eps", state.eps, { min: 0 });
    const worse = mode === "min" ? Infinity : -Infinity;
    if (state.modeWorse !== worse) throw new RangeError(`simdopt: ${where}modeWorse must be ${worse} in mode "${mode}", got ${describe(state.modeWorse)}`);
    if (typeof state.best !== "number" || Number.isNaN(state.best)) throw new TypeError(`simdopt: ${where}best must be a number, got ${describe(state.best)}`);
    checkBounded(where, "numBadEpochs", state.numBadEpochs, { integer: true, min: 0 });
    checkBounded(where, "cooldownCounter", state.cooldownCounter, { integer: true, min: 0 });
  }
}
