// Schedulers made of schedulers: SequentialLR (one after another, switching at milestones —
// the usual warm-up then decay) and ChainedScheduler (all of them every step, their factors
// compounding).

import { describe } from "../checks.js";
import { ReduceLROnPlateau } from "./plateau.js";
import {
  checkLastEpoch, checkOption, checkOptimizer, checkPerGroup, INITIAL_STEP, LRScheduler, PREPARE_LOAD, readOptions, UPDATE_LR,
  type LastEpochOption, type SchedulableOptimizer, type SchedulerStateDict,
} from "./scheduler.js";

/** Options of SequentialLR (torch.optim.lr_scheduler.SequentialLR). */
export interface SequentialLROptions extends LastEpochOption {
  /** The schedulers, in order, all attached to the same optimizer. Required. */
  schedulers: readonly LRScheduler[];
  /**
   * The steps at which the next scheduler takes over: positive integers in increasing order,
   * one fewer than the schedulers. Required.
   */
  milestones: readonly number[];
}

function checkMembers(owner: string, schedulers: unknown, optimizer: SchedulableOptimizer | undefined): LRScheduler[] {
  if (!Array.isArray(schedulers) || schedulers.length === 0) {
    throw new TypeError(`simdopt: ${owner} needs a non-empty array of schedulers, got ${describe(schedulers)}`);
  }
  schedulers.forEach((scheduler, i) => {
    if (!(scheduler instanceof LRScheduler)) throw new TypeError(`simdopt: ${owner} schedulers[${i}] is not a scheduler`);
    if (scheduler instanceof ReduceLROnPlateau) {
      throw new TypeError(`simdopt: ${owner} does not support ReduceLROnPlateau (schedulers[${i}]): its step() needs a metric`);
    }
    const expected = optimizer ?? (schedulers[0] as LRScheduler).optimizer;
    if (scheduler.optimizer !== expected) {
      throw new TypeError(`simdopt: ${owner} schedulers[${i}] belongs to another optimizer; all schedulers must share one`);
    }
  });
  return [...schedulers] as LRScheduler[];
}

function stateOfMembers(schedulers: readonly LRScheduler[]): SchedulerStateDict[] {
  return schedulers.map((scheduler) => scheduler.stateDict());
}

/** What SequentialLR and ChainedScheduler share: member schedulers, saved inside the state dict. */
abstract class CompositeScheduler extends LRScheduler {
  /** The member schedulers, in order. */
  readonly schedulers: readonly LRScheduler[];

  constructor(optimizer: SchedulableOptimizer, schedulers: readonly LRScheduler[]) {
    super(optimizer);
    this.schedulers = schedulers;
  }

  protected computeLr(): number[] {
    throw new TypeError(`simdopt: ${this.constructor.name} has no lr rule of its own; it delegates to its schedulers`);
  }

  protected override nonStateKeys(): readonly string[] {
    return ["schedulers"];
  }

  /** As LRScheduler's, with the members' state dicts under `schedulers`. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), schedulers: stateOfMembers(this.schedulers) };
  }

  /** @internal Validates the composite's own state and every member's before any of them is written. */
  override [PREPARE_LOAD](stateDict: unknown): () => void {
    const owner = this.constructor.name;
    const write = super[PREPARE_LOAD](stateDict);
    const states = (stateDict as SchedulerStateDict).schedulers;
    if (states === undefined) return write;
    if (!Array.isArray(states) || states.length !== this.schedulers.length) {
      throw new TypeError(`simdopt: ${owner}.loadStateDict: "schedulers" must be an array of ${this.schedulers.length} state dicts, got ${describe(states)}`);
    }
    const writes = this.schedulers.map((scheduler, i) => {
      try {
        return scheduler[PREPARE_LOAD](states[i]);
      } catch (error) {
        if (error instanceof Error) error.message = error.message.replace(/^simdopt: /, `simdopt: ${owner}.loadStateDict: schedulers[${i}]: `);
        throw error;
      }
    });
    return () => {
      write();
      for (const writeMember of writes) writeMember();
    };
  }

}

/**
 * Runs `schedulers[0]` until `milestones[0]`, then `schedulers[1]` (which starts over at its
 * epoch 0, from its closed form where it has one) until `milestones[1]`, and so on.
 *
 * Construction resets every group's lr to its `initialLr`, undoes the initial step the member
 * schedulers made when they were built, and performs the initial step of the first one only.
 */
export class SequentialLR extends CompositeScheduler {
  /** The steps at which the next scheduler takes over (the `milestones` option). */
  readonly milestones: number[];

  constructor(optimizer: SchedulableOptimizer, options: SequentialLROptions) {
    const owner = "SequentialLR";
    const opt = checkOptimizer(owner, optimizer);
    const o = readOptions(owner, options, ["schedulers", "milestones", "lastEpoch"]);
    const schedulers = checkMembers(owner, o.schedulers, opt);
    schedulers.forEach((scheduler, i) => {
      // PyTorch hands over with `_update_lr(0)`, which a composite scheduler cannot do.
      if (i > 0 && scheduler instanceof CompositeScheduler) {
        throw new TypeError(`simdopt: SequentialLR schedulers[${i}] is a ${scheduler.constructor.name}; only the first scheduler may be a composite`);
      }
    });
    if (!Array.isArray(o.milestones)) throw new TypeError(`simdopt: SequentialLR requires the option milestones (an array of step indices), got ${describe(o.milestones)}`);
    const milestones = (o.milestones as unknown[]).map((m, i) => checkOption(owner, `milestones[${i}]`, m, { integer: true, min: 1 }));
    if (milestones.length !== schedulers.length - 1) {
      throw new RangeError(`simdopt: SequentialLR needs one milestone fewer than schedulers: got ${schedulers.length} schedulers and ${milestones.length} milestones`);
    }
    for (let i = 1; i < milestones.length; i++) {
      if (!(milestones[i]! > milestones[i - 1]!)) throw new RangeError(`simdopt: SequentialLR milestones must be increasing, got ${milestones.join(", ")}`);
    }
    const lastEpoch = checkLastEpoch(owner, o.lastEpoch);
    opt.paramGroups.forEach((group, i) => {
      if (typeof group.initialLr !== "number") throw new TypeError(`simdopt: SequentialLR needs paramGroups[${i}].initialLr (set by the member schedulers)`);
    });

    super(opt, schedulers);
    this.milestones = milestones;
    this.lastEpoch = lastEpoch + 1;
    for (const group of opt.paramGroups) group.lr = group.initialLr as number;
    undoInitialSteps(this);
    schedulers[0]![INITIAL_STEP]();
    this.lastLr = schedulers[0]!.getLastLr();
  }

  protected override checkState(state: Record<string, unknown>, where: string): void {
    super.checkState(state, where);
    checkPerGroup(where, "milestones", state.milestones, this.schedulers.length - 1, { integer: true, min: 1 }, "switch between schedulers");
    const milestones = state.milestones as number[];
    for (let i = 1; i < milestones.length; i++) {
      if (!(milestones[i]! > milestones[i - 1]!)) throw new RangeError(`simdopt: ${where}milestones must be increasing, got ${milestones.join(", ")}`);
    }
  }

  /** Steps the scheduler whose turn it is; at a milestone, the next one starts at its epoch 0. */
  override step(): void {
    const epoch = this.lastEpoch + 1;
    let index = 0; // bisect_right(milestones, epoch)
    while (index < this.milestones.length && this.milestones[index]! <= epoch) index++;
    const scheduler = this.schedulers[index]!;
    if (index > 0 && this.milestones[index - 1] === epoch) scheduler[UPDATE_LR](0);
    else scheduler.step();
    this.lastEpoch = epoch;
    this.lastLr = scheduler.getLastLr();
  }
}

/** PyTorch's `recursive_undo`: step every leaf scheduler's `lastEpoch` back by one. */
function undoInitialSteps(scheduler: LRScheduler): void {
  if (scheduler instanceof CompositeScheduler) {
    for (const member of scheduler.schedulers) undoInitialSteps(member);
  } else {
    scheduler.lastEpoch -= 1;
  }
}

/**
 * Steps every scheduler in order on each `step()`, so their chainable rules compound (e.g.
 * ConstantLR's factor times ExponentialLR's decay). It makes no initial step of its own.
 * `lastEpoch` follows the last member's.
 */
export class ChainedScheduler extends CompositeScheduler {

  /**
   * @param schedulers the schedulers to chain, all attached to one optimizer
   * @param optimizer that optimizer; default: the first scheduler's
   */
  constructor(schedulers: readonly LRScheduler[], optimizer?: SchedulableOptimizer) {
    const opt = optimizer === undefined ? undefined : checkOptimizer("ChainedScheduler", optimizer);
    const members = checkMembers("ChainedScheduler", schedulers, opt);
    super(opt ?? members[0]!.optimizer, members);
    this.lastLr = this.groupLrs();
    this.lastEpoch = members[members.length - 1]!.lastEpoch;
  }

  /** Steps every member scheduler, in order. */
  override step(): void {
    for (const scheduler of this.schedulers) scheduler.step();
    this.lastLr = this.groupLrs();
    this.lastEpoch = this.schedulers[this.schedulers.length - 1]!.lastEpoch;
  }
}
