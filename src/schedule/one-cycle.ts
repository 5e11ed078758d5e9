// OneCycleLR (Smith & Topin, "Super-Convergence"; fastai's two-phase default): the lr rises from
// maxLr/divFactor to maxLr and anneals to maxLr/(divFactor·finalDivFactor), while momentum (or
// beta1) moves the opposite way between maxMomentum and baseMomentum.

import { checkBoolean, checkBounded, checkChoice as checkChoiceOf, checkOptionKeys, describe } from "../checks.js";
import {
  checkChoice, checkFlag, checkLastEpoch, checkOption, checkOptimizer, INITIAL_STEP, LRScheduler,
  perGroupOption, readOptions,
  type LastEpochOption, type SchedulableOptimizer, type SchedulableParamGroup,
} from "./scheduler.js";
import { checkMomentumKey, momentumKey, writeMomentum, type MomentumKey } from "./momentum.js";

/** Options of OneCycleLR (torch.optim.lr_scheduler.OneCycleLR). */
export interface OneCycleLROptions extends LastEpochOption {
  /** The peak lr, one for every group or an array with one per group (≥ 0). Required. */
  maxLr: number | readonly number[];
  /** Steps in the cycle (a positive integer); or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  /** Epochs to train for (positive integer); with `stepsPerEpoch`, when `totalSteps` is absent. */
  epochs?: number;
  /** Steps per epoch (positive integer); with `epochs`, when `totalSteps` is absent. */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent raising the lr, in [0, 1]. Default 0.3. */
  pctStart?: number;
  /** Annealing curve. Default "cos". */
  annealStrategy?: "cos" | "linear";
  /** Cycle `momentum` (SGD, RMSprop) or `betas[0]` (Adam family) inversely to the lr. Default true. */
  cycleMomentum?: boolean;
  /** Momentum at the lr's peak, per group or one for all. Default 0.85. */
  baseMomentum?: number | readonly number[];
  /** Momentum at the start and end of the cycle, per group or one for all. Default 0.95. */
  maxMomentum?: number | readonly number[];
  /** The initial lr is maxLr / divFactor (> 0). Default 25. */
  divFactor?: number;
  /** The final lr is initial lr / finalDivFactor (> 0). Default 1e4. */
  finalDivFactor?: number;
  /**
   * Three phases as in the paper (up, symmetric down to the initial lr, then down to the final
   * lr) instead of fastai's two. Default false.
   */
  threePhase?: boolean;
}

type LrKey = "initialLr" | "maxLr" | "minLr";
type MomentumBoundKey = "maxMomentum" | "baseMomentum";

/** One phase of the cycle: where it ends and which group values it anneals between. */
interface OneCyclePhase {
  endStep: number;
  startLr: LrKey;
  endLr: LrKey;
  startMomentum: MomentumBoundKey;
  endMomentum: MomentumBoundKey;
}

const ANNEAL_STRATEGIES = ["cos", "linear"] as const;
const LR_KEYS: readonly LrKey[] = ["initialLr", "maxLr", "minLr"];
const MOMENTUM_BOUND_KEYS: readonly MomentumBoundKey[] = ["maxMomentum", "baseMomentum"];
const PHASE_KEYS = ["endStep", "startLr", "endLr", "startMomentum", "endMomentum"] as const;
const OPTION_KEYS = [
  "maxLr", "totalSteps", "epochs", "stepsPerEpoch", "pctStart", "annealStrategy", "cycleMomentum",
  "baseMomentum", "maxMomentum", "divFactor", "finalDivFactor", "threePhase", "lastEpoch",
] as const;

function groupNumber(group: SchedulableParamGroup, key: string, index: number): number {
  const value = group[key];
  if (typeof value !== "number") throw new TypeError(`simdopt: OneCycleLR needs paramGroups[${index}].${key} (a number), got ${describe(value)}`);
  return value;
}

/**
 * The 1cycle policy. Step it after every batch: `totalSteps` calls of `step()` after
 * construction are allowed, the next one throws RangeError. It writes `initialLr`, `maxLr`,
 * `minLr` (and, when cycling momentum, `maxMomentum` and `baseMomentum`) into every group and
 * reads them back each step, as PyTorch does.
 */
export class OneCycleLR extends LRScheduler {
  /** Steps in the cycle (`totalSteps`, or `epochs` × `stepsPerEpoch`). */
  readonly totalSteps: number;
  /** `"cos"` or `"linear"` (the `annealStrategy` option). */
  readonly annealStrategy: "cos" | "linear";
  /** Whether momentum (or beta1) is cycled against the lr (the `cycleMomentum` option). */
  readonly cycleMomentum: boolean;
  /** @internal The group option cycled with the lr, or null without momentum cycling. */
  protected momentumKey: MomentumKey | null;
  protected phases: OneCyclePhase[];

  constructor(optimizer: SchedulableOptimizer, options: OneCycleLROptions) {
    const owner = "OneCycleLR";
    const o = readOptions(owner, options, OPTION_KEYS);
    const opt = checkOptimizer(owner, optimizer);
    const groups = opt.paramGroups;
    if (o.maxLr === undefined) throw new TypeError("simdopt: OneCycleLR requires the option maxLr");
    const maxLrs = perGroupOption(owner, "maxLr", o.maxLr, groups.length, { min: 0 });
    let totalSteps: number;
    if (o.totalSteps !== undefined && o.totalSteps !== null) {
      totalSteps = checkOption(owner, "totalSteps", o.totalSteps, { integer: true, min: 1 });
    } else if (o.epochs !== undefined && o.stepsPerEpoch !== undefined) {
      totalSteps = checkOption(owner, "epochs", o.epochs, { integer: true, min: 1 })
        * checkOption(owner, "stepsPerEpoch", o.stepsPerEpoch, { integer: true, min: 1 });
    } else {
      throw new TypeError("simdopt: OneCycleLR requires the option totalSteps, or both epochs and stepsPerEpoch");
    }
    const pctStart = checkOption(owner, "pctStart", o.pctStart, { min: 0, max: 1 }, 0.3);
    const annealStrategy = checkChoice(owner, "annealStrategy", o.annealStrategy, ANNEAL_STRATEGIES, "cos");
    const cycleMomentum = checkFlag(owner, "cycleMomentum", o.cycleMomentum, true);
    const baseMomentums = perGroupOption(owner, "baseMomentum", o.baseMomentum, groups.length, { min: 0 }, 0.85);
    const maxMomentums = perGroupOption(owner, "maxMomentum", o.maxMomentum, groups.length, { min: 0 }, 0.95);
    const divFactor = checkOption(owner, "divFactor", o.divFactor, { min: 0, minExclusive: true }, 25);
    const finalDivFactor = checkOption(owner, "finalDivFactor", o.finalDivFactor, { min: 0, minExclusive: true }, 1e4);
    const threePhase = checkFlag(owner, "threePhase", o.threePhase, false);
    const lastEpoch = checkLastEpoch(owner, o.lastEpoch);

    const phases: OneCyclePhase[] = threePhase
      ? [
        { endStep: pctStart * totalSteps - 1, startLr: "initialLr", endLr: "maxLr", startMomentum: "maxMomentum", endMomentum: "baseMomentum" },
        { endStep: 2 * pctStart * totalSteps - 2, startLr: "maxLr", endLr: "initialLr", startMomentum: "baseMomentum", endMomentum: "maxMomentum" },
        { endStep: totalSteps - 1, startLr: "initialLr", endLr: "minLr", startMomentum: "maxMomentum", endMomentum: "maxMomentum" },
      ]
      : [
        { endStep: pctStart * totalSteps - 1, startLr: "initialLr", endLr: "maxLr", startMomentum: "maxMomentum", endMomentum: "baseMomentum" },
        { endStep: totalSteps - 1, startLr: "maxLr", endLr: "minLr", startMomentum: "baseMomentum", endMomentum: "maxMomentum" },
      ];
    // A first phase of length 0 would divide 0 by 0 at step 0 (PyTorch raises ZeroDivisionError).
    if (phases[0]!.endStep === 0) {
      throw new RangeError(`simdopt: OneCycleLR pctStart·totalSteps must not be 1 (the warm-up phase would have no length), got pctStart ${pctStart} with totalSteps ${totalSteps}`);
    }
    const key = cycleMomentum ? momentumKey(owner, opt) : null;
    if (lastEpoch !== -1) {
      const needed = ["initialLr", "maxLr", "minLr", ...(cycleMomentum ? ["maxMomentum", "baseMomentum"] : [])];
      groups.forEach((group, i) => {
        for (const name of needed) groupNumber(group, name, i);
      });
    }

    super(opt);
    this.totalSteps = totalSteps;
    this.annealStrategy = annealStrategy;
    this.cycleMomentum = cycleMomentum;
    this.momentumKey = key;
    this.phases = phases;
    if (lastEpoch === -1) {
      groups.forEach((group, i) => {
        group.initialLr = maxLrs[i]! / divFactor;
        group.maxLr = maxLrs[i]!;
        group.minLr = (group.initialLr as number) / finalDivFactor;
        if (key !== null) {
          writeMomentum(group, key, maxMomentums[i]!);
          group.maxMomentum = maxMomentums[i]!;
          group.baseMomentum = baseMomentums[i]!;
        }
      });
    }
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
  }

  #anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === "cos") return end + (start - end) / 2 * (Math.cos(Math.PI * pct) + 1);
    return (end - start) * pct + start;
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    checkBounded(where, "totalSteps", state.totalSteps, { integer: true, min: 1 });
    checkChoiceOf(where, "annealStrategy", state.annealStrategy, ANNEAL_STRATEGIES);
    checkBoolean(where, "cycleMomentum", state.cycleMomentum);
    checkMomentumKey(where, state.momentumKey, state.cycleMomentum as boolean);
    const phases = state.phases;
    if (!Array.isArray(phases) || (phases.length !== 2 && phases.length !== 3)) {
      throw new TypeError(`simdopt: ${where}phases must be an array of 2 or 3 phases, got ${describe(phases)}`);
    }
    phases.forEach((phase: unknown, i) => {
      const at = `${where}phases[${i}].`;
      if (typeof phase !== "object" || phase === null) throw new TypeError(`simdopt: ${at.slice(0, -1)} must be an object, got ${describe(phase)}`);
      const p = phase as Record<string, unknown>;
      checkOptionKeys(p, PHASE_KEYS, at.slice(0, -1));
      checkBounded(at, "endStep", p.endStep, {});
      checkChoiceOf(at, "startLr", p.startLr, LR_KEYS);
      checkChoiceOf(at, "endLr", p.endLr, LR_KEYS);
      checkChoiceOf(at, "startMomentum", p.startMomentum, MOMENTUM_BOUND_KEYS);
      checkChoiceOf(at, "endMomentum", p.endMomentum, MOMENTUM_BOUND_KEYS);
    });
  }

  protected computeLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new RangeError(`simdopt: OneCycleLR tried to step ${stepNum} times; totalSteps is ${this.totalSteps}`);
    }
    // Pick the phase once (it does not depend on the group) and check it before writing anything.
    let startStep = 0;
    let phase = this.phases[this.phases.length - 1]!;
    for (let i = 0; i < this.phases.length; i++) {
      const candidate = this.phases[i]!;
      if (stepNum <= candidate.endStep || i === this.phases.length - 1) {
        phase = candidate;
        break;
      }
      startStep = candidate.endStep;
    }
    if (phase.endStep === startStep) {
      throw new RangeError(`simdopt: OneCycleLR phase ending at step ${phase.endStep} has no length (pctStart is 0 or 1 for these totalSteps); cannot compute step ${stepNum}`);
    }
    const pct = (stepNum - startStep) / (phase.endStep - startStep);
    const groups = this.optimizer.paramGroups;
    const reads = groups.map((group, i) => ({
      startLr: groupNumber(group, phase.startLr, i),
      endLr: groupNumber(group, phase.endLr, i),
      startMomentum: this.momentumKey === null ? 0 : groupNumber(group, phase.startMomentum, i),
      endMomentum: this.momentumKey === null ? 0 : groupNumber(group, phase.endMomentum, i),
    }));
    return groups.map((group, i) => {
      const r = reads[i]!;
      if (this.momentumKey !== null) writeMomentum(group, this.momentumKey, this.#anneal(r.startMomentum, r.endMomentum, pct));
      return this.#anneal(r.startLr, r.endLr, pct);
    });
  }
}
