// Cosine annealing: CosineAnnealingLR (PyTorch's recursive, chainable form) and
// CosineAnnealingWarmRestarts (SGDR, closed form with restarts, fractional epochs allowed).

import { checkBounded } from "../checks.js";
import {
  checkLastEpoch, checkOption, checkOptimizer, INITIAL_STEP, LRScheduler, readOptions,
  type LastEpochOption, type SchedulableOptimizer,
} from "./scheduler.js";

/** Options of CosineAnnealingLR (torch.optim.lr_scheduler.CosineAnnealingLR). */
export interface CosineAnnealingLROptions extends LastEpochOption {
  /** Steps of half a cosine period (from the base lr down to etaMin), > 0. Required. */
  tMax: number;
  /** The minimum lr, ≥ 0. Default 0. */
  etaMin?: number;
}

/**
 * Anneals every group's lr along a cosine from its base lr to `etaMin` over `tMax` steps,
 * updated recursively as PyTorch does:
 *   lr ← etaMin + (lr − etaMin)·(1 + cos(π·t/tMax)) / (1 + cos(π·(t−1)/tMax)),
 * so it composes with other schedulers and with lr changes made outside it. Past `tMax` it keeps
 * following the cosine back up (period 2·tMax), as PyTorch's does.
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Steps of the half cosine (the `tMax` option). */
  readonly tMax: number;
  /** The lowest lr (the `etaMin` option). */
  readonly etaMin: number;

  constructor(optimizer: SchedulableOptimizer, options: CosineAnnealingLROptions) {
    const o = readOptions("CosineAnnealingLR", options, ["tMax", "etaMin", "lastEpoch"]);
    const tMax = checkOption("CosineAnnealingLR", "tMax", o.tMax, { min: 0, minExclusive: true });
    const etaMin = checkOption("CosineAnnealingLR", "etaMin", o.etaMin, { min: 0 }, 0);
    const lastEpoch = checkLastEpoch("CosineAnnealingLR", o.lastEpoch);
    super(checkOptimizer("CosineAnnealingLR", optimizer));
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    checkBounded(where, "tMax", state.tMax, { min: 0, minExclusive: true });
    checkBounded(where, "etaMin", state.etaMin, { min: 0 });
  }

  protected computeLr(): number[] {
    const { etaMin, tMax, lastEpoch } = this;
    const lrs = this.groupLrs();
    if (this.isInitial) return lrs;
    if (this.stepCount === 1 && lastEpoch > 0) {
      return this.baseLrs.map((baseLr) => etaMin + (baseLr - etaMin) * (1 + Math.cos(lastEpoch * Math.PI / tMax)) / 2);
    }
    // At the bottom of the cosine the ratio below is 0/0; PyTorch steps up by the first
    // increment instead.
    if ((lastEpoch - 1 - tMax) % (2 * tMax) === 0) {
      return lrs.map((lr, i) => lr + (this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2);
    }
    const ratio = (1 + Math.cos(Math.PI * lastEpoch / tMax)) / (1 + Math.cos(Math.PI * (lastEpoch - 1) / tMax));
    return lrs.map((lr) => ratio * (lr - etaMin) + etaMin);
  }

  protected override closedFormLr(): number[] {
    const { etaMin, tMax, lastEpoch } = this;
    return this.baseLrs.map((baseLr) => etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * lastEpoch / tMax)) / 2);
  }
}

/** Options of CosineAnnealingWarmRestarts (torch.optim.lr_scheduler.CosineAnnealingWarmRestarts). */
export interface CosineAnnealingWarmRestartsOptions extends LastEpochOption {
  /** Steps until the first restart: a positive integer. Required. */
  t0: number;
  /** Factor by which the period grows after each restart: an integer ≥ 1. Default 1. */
  tMult?: number;
  /** The minimum lr, ≥ 0. Default 0. */
  etaMin?: number;
}

/**
 * SGDR: cosine annealing from the base lr to `etaMin` over periods of t0, t0·tMult,
 * t0·tMult², ... steps, restarting at the base lr. `step(epoch)` accepts fractional epochs
 * (e.g. `epoch + i / itersPerEpoch` after every batch).
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  /** Steps of the first period (the `t0` option). */
  readonly t0: number;
  /** The growth factor of each next period (the `tMult` option). */
  readonly tMult: number;
  /** The lowest lr (the `etaMin` option). */
  readonly etaMin: number;
  /** Length of the current period. */
  protected tI: number;
  /** Steps (possibly fractional) since the last restart. */
  protected tCur: number;

  constructor(optimizer: SchedulableOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    const owner = "CosineAnnealingWarmRestarts";
    const o = readOptions(owner, options, ["t0", "tMult", "etaMin", "lastEpoch"]);
    const t0 = checkOption(owner, "t0", o.t0, { integer: true, min: 1 });
    const tMult = checkOption(owner, "tMult", o.tMult, { integer: true, min: 1 }, 1);
    const etaMin = checkOption(owner, "etaMin", o.etaMin, { min: 0 }, 0);
    const lastEpoch = checkLastEpoch(owner, o.lastEpoch);
    super(checkOptimizer(owner, optimizer));
    this.t0 = t0;
    this.tI = t0;
    this.tMult = tMult;
    this.etaMin = etaMin;
    this.tCur = lastEpoch;
    this.attach(lastEpoch);
    this[INITIAL_STEP]();
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    checkBounded(where, "t0", state.t0, { integer: true, min: 1 });
    checkBounded(where, "tMult", state.tMult, { integer: true, min: 1 });
    checkBounded(where, "etaMin", state.etaMin, { min: 0 });
    checkBounded(where, "tI", state.tI, { min: 0, minExclusive: true });
    checkBounded(where, "tCur", state.tCur, { min: -1 });
  }

  protected computeLr(): number[] {
    const { etaMin, tCur, tI } = this;
    return this.baseLrs.map((baseLr) => etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * tCur / tI)) / 2);
  }

  /**
   * Advances by one step, or jumps to `epoch` (a number ≥ 0, fractional allowed); both kinds of
   * call may be interleaved, as in PyTorch.
   */
  override step(epoch?: number): void {
    if (epoch !== undefined) {
      checkBounded("CosineAnnealingWarmRestarts.step(epoch): ", "epoch", epoch, { min: 0 });
    }
    if (epoch === undefined && this.lastEpoch < 0) epoch = 0;
    if (epoch === undefined) {
      epoch = this.lastEpoch + 1;
      this.tCur = this.tCur + 1;
      if (this.tCur >= this.tI) {
        this.tCur = this.tCur % this.tI;
        this.tI = this.tI * this.tMult;
      }
    } else if (epoch >= this.t0) {
      if (this.tMult === 1) {
        this.tCur = epoch % this.t0;
      } else {
        // Which period `epoch` falls in: t0·(tMult^n − 1)/(tMult − 1) ≤ epoch.
        const n = Math.trunc(Math.log(epoch / this.t0 * (this.tMult - 1) + 1) / Math.log(this.tMult));
        this.tCur = epoch - this.t0 * (this.tMult ** n - 1) / (this.tMult - 1);
        this.tI = this.t0 * this.tMult ** n;
      }
    } else {
      this.tI = this.t0;
      this.tCur = epoch;
    }
    this.lastEpoch = Math.floor(epoch);
    this.writeLrs(this.computeLr());
  }
}
