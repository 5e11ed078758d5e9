// The shared base of every learning-rate scheduler (torch.optim.lr_scheduler.LRScheduler):
// `lastEpoch`, the constructor's initial step, `initialLr` per group, `getLastLr()` and state
// dicts of plain data. A subclass supplies its chainable rule (`computeLr`, PyTorch's `get_lr`,
// which reads the groups' current lr) and, where PyTorch has one, its closed form (used by
// `step(epoch)` and by SequentialLR's hand-over at a milestone).
//
// Schedulers only touch the optimizer's `paramGroups` (plain objects with a live `lr`, and
// `momentum` or `betas` where the optimizer has them), so they are typed structurally and work
// with any object of that shape, not only simdopt's own optimizers.

import {
  checkBounded, checkChoice as checkChoiceOf, describe, optionalBoolean, readOptions as readOptionsObject, reject,
  type NumberCheck as BoundsCheck,
} from "../checks.js";

/** A parameter group as schedulers see it: a live `lr` plus whatever else the optimizer keeps. */
export interface SchedulableParamGroup {
  /** The learning rate the scheduler writes before each optimizer step. */
  lr: number;
  [key: string]: unknown;
}

/** What a scheduler needs from an optimizer: its groups (and, optionally, its defaults). */
export interface SchedulableOptimizer {
  /** The groups whose `lr` (and momentum, for the cycling schedulers) the scheduler writes. */
  paramGroups: SchedulableParamGroup[];
  /**
   * The optimizer's default options, when it has them (simdopt's optimizers do). Momentum
   * cycling looks here for `momentum` / `betas`, as PyTorch does; without it, at the groups.
   */
  defaults?: object;
}

/** A scheduler's state: a structured-clone-able plain object (numbers, strings, arrays, objects). */
export type SchedulerStateDict = Record<string, unknown>;

/** Options every scheduler built on LRScheduler accepts. */
export interface LastEpochOption {
  /**
   * The index of the last epoch when resuming; -1 starts afresh (and records `initialLr` in
   * every group). Any other value requires `initialLr` in every group. Default -1.
   */
  lastEpoch?: number;
}

// Internal hooks the composite schedulers call on the schedulers they drive (PyTorch's
// `_initial_step` and `_update_lr`); symbols keep them off the public surface.
/** @internal */
export const INITIAL_STEP: unique symbol = Symbol("simdopt.initialStep");
/** @internal */
export const UPDATE_LR: unique symbol = Symbol("simdopt.updateLr");
/** @internal */
export const PREPARE_LOAD: unique symbol = Symbol("simdopt.prepareLoad");

// ---- option checks (each names the option it rejects; the checks themselves are src/checks.ts) ----

/** @internal Bounds of a numeric option. */
export type NumberCheck = BoundsCheck;

/** @internal The options object, checked for unknown keys (a typo such as `T_max` throws, with a hint). */
export function readOptions(owner: string, options: unknown, allowed: readonly string[], required = true): Record<string, unknown> {
  return readOptionsObject(owner, options, allowed, !required);
}

/** @internal A finite number within bounds, or the default when `value` is undefined. */
export function checkOption(owner: string, name: string, value: unknown, check: NumberCheck, fallback?: number): number {
  return checkBounded(`${owner} `, name, value, check, fallback);
}

/** @internal One of the allowed strings, or the default when `value` is undefined. */
export function checkChoice<T extends string>(owner: string, name: string, value: unknown, choices: readonly T[], fallback: T): T {
  return checkChoiceOf(`${owner} `, name, value, choices, fallback);
}

/** @internal A boolean, or the default when `value` is undefined. */
export function checkFlag(owner: string, name: string, value: unknown, fallback: boolean): boolean {
  return optionalBoolean(`${owner} `, name, value, fallback);
}

/**
 * @internal A per-group value: one number for every group, or an array with one per group
 * (PyTorch's `_format_param`).
 */
export function perGroupOption(owner: string, name: string, value: unknown, groups: number, check: NumberCheck, fallback?: number): number[] {
  if (Array.isArray(value)) {
    if (value.length !== groups) {
      throw new RangeError(`simdopt: ${owner} ${name} has ${value.length} values, the optimizer has ${groups} param groups`);
    }
    return value.map((entry, i) => checkOption(owner, `${name}[${i}]`, entry, check));
  }
  return new Array<number>(groups).fill(checkOption(owner, name, value, check, fallback));
}

/** @internal The `lastEpoch` option: an integer ≥ -1, default -1. */
export function checkLastEpoch(owner: string, value: unknown): number {
  return checkOption(owner, "lastEpoch", value, { integer: true, min: -1 }, -1);
}

/** @internal Throws TypeError unless `optimizer` has a non-empty `paramGroups` with numeric `lr`. */
export function checkOptimizer(owner: string, optimizer: unknown, argument = "optimizer"): SchedulableOptimizer {
  if (typeof optimizer !== "object" || optimizer === null || !Array.isArray((optimizer as SchedulableOptimizer).paramGroups)) {
    throw new TypeError(`simdopt: ${owner} ${argument} must be an optimizer (an object with paramGroups), got ${describe(optimizer)}`);
  }
  const groups = (optimizer as SchedulableOptimizer).paramGroups;
  if (groups.length === 0) throw new TypeError(`simdopt: ${owner} ${argument}.paramGroups is empty`);
  groups.forEach((group, i) => {
    if (typeof group !== "object" || group === null || typeof group.lr !== "number") {
      throw new TypeError(`simdopt: ${owner} ${argument}.paramGroups[${i}].lr must be a number`);
    }
  });
  return optimizer as SchedulableOptimizer;
}

/** Python's floor modulo (the sign follows the divisor), for `%` in PyTorch's formulas. */
export function floorMod(a: number, n: number): number {
  const r = a % n;
  return r !== 0 && (r < 0) !== (n < 0) ? r + n : r;
}

/** A deep copy of plain data; functions are not data and make this throw. */
function clonePlain(value: unknown, path: string): unknown {
  if (value === null || typeof value !== "object") {
    if (typeof value === "function") throw new TypeError(`simdopt: ${path} is a function and cannot be part of a state dict`);
    return value;
  }
  if (Array.isArray(value)) return value.map((entry, i) => clonePlain(entry, `${path}[${i}]`));
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    // An own "__proto__" (JSON.parse makes one) assigned here would replace the copy's prototype.
    if (key === "__proto__") throw new TypeError(`simdopt: ${path} has an own "__proto__" key, which is not scheduler state`);
    out[key] = clonePlain(entry, `${path}.${key}`);
  }
  return out;
}

function kindOf(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

/**
 * The base of every scheduler. A subclass validates its options, calls `super(optimizer)`,
 * `this.attach(lastEpoch)`, sets its fields and finishes with `this.initialStep()` — the order
 * PyTorch follows (fields before the initial step), which JavaScript only allows after
 * `super()` — and implements `computeLr()` (PyTorch's `get_lr`: the new lr of every group,
 * usually from `this.groupLrs()`, `this.baseLrs` and `this.lastEpoch`).
 */
export abstract class LRScheduler {
  /**
   * The index of the last step: -1 before the constructor's initial step, 0 right after it,
   * then +1 per `step()`.
   */
  lastEpoch = -1;
  /** The groups' `initialLr` when the scheduler was attached (PyTorch's `base_lrs`). */
  protected baseLrs: number[] = [];
  /** The lr of every group after the last step (PyTorch's `_last_lr`). */
  protected lastLr: number[] = [];
  /** Calls of `step()` since the initial step began (PyTorch's `_step_count`). */
  protected stepCount = 0;
  readonly #optimizer: SchedulableOptimizer;
  #isInitial = false;

  protected constructor(optimizer: SchedulableOptimizer) {
    this.#optimizer = optimizer;
  }

  /** The optimizer whose `paramGroups[i].lr` this scheduler writes. */
  get optimizer(): SchedulableOptimizer {
    return this.#optimizer;
  }

  /** True only during the constructor's initial step (PyTorch's `_is_initial`). */
  protected get isInitial(): boolean {
    return this.#isInitial;
  }

  /**
   * Records `initialLr` in every group (lastEpoch -1), or checks that it is there (resuming),
   * and takes the base lrs from it. Checks before writing anything.
   */
  protected attach(lastEpoch: number): void {
    const groups = this.#optimizer.paramGroups;
    if (lastEpoch === -1) {
      for (const group of groups) if (!("initialLr" in group)) group.initialLr = group.lr;
    } else {
      groups.forEach((group, i) => {
        if (typeof group.initialLr !== "number") {
          throw new TypeError(`simdopt: ${this.constructor.name} with lastEpoch ${lastEpoch} resumes a schedule and needs paramGroups[${i}].initialLr`);
        }
      });
    }
    this.baseLrs = groups.map((group) => group.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** The chainable rule: the lr of every group at `lastEpoch`, from the groups' current lr. */
  protected abstract computeLr(): number[];

  /** The closed form at `lastEpoch`, where PyTorch has one (used by `step(epoch)`). */
  protected closedFormLr(): number[] | undefined {
    return undefined;
  }

  /** The lr of every param group after the last step. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /**
   * Advances the schedule by one step and writes every group's lr. With `epoch` (deprecated in
   * PyTorch, kept for compatibility) jumps to that epoch, using the closed form where there is one.
   */
  step(epoch?: number): void {
    const savedCount = this.stepCount;
    this.stepCount += 1;
    try {
      this[UPDATE_LR](epoch);
    } catch (error) {
      this.stepCount = savedCount;
      throw error;
    }
  }

  /**
   * Performs the initial step; a subclass calls it at the end of its constructor, after
   * `attach(lastEpoch)` and after setting the fields its `computeLr` reads.
   */
  protected initialStep(): void {
    this[INITIAL_STEP]();
  }

  /** @internal PyTorch's `_initial_step`: reset the step count and step once in initial mode. */
  [INITIAL_STEP](): void {
    this.stepCount = 0;
    this.#isInitial = true;
    try {
      this.step();
    } finally {
      this.#isInitial = false;
    }
  }

  /** @internal PyTorch's `_update_lr`: compute the new lrs and write them; a throw changes nothing. */
  [UPDATE_LR](epoch?: number): void {
    if (epoch !== undefined && !Number.isFinite(epoch)) reject(`${this.constructor.name}.step(epoch): `, "epoch", epoch, "a finite number", true);
    const previous = this.lastEpoch;
    let values: number[];
    try {
      if (epoch === undefined) {
        this.lastEpoch += 1;
        values = this.computeLr();
      } else {
        this.lastEpoch = epoch;
        values = this.closedFormLr() ?? this.computeLr();
      }
    } catch (error) {
      this.lastEpoch = previous;
      throw error;
    }
    this.writeLrs(values);
  }

  /** Writes one lr per group (as far as both lists go, like Python's zip) and records them. */
  protected writeLrs(values: readonly number[]): void {
    const groups = this.#optimizer.paramGroups;
    const count = Math.min(groups.length, values.length);
    for (let i = 0; i < count; i++) groups[i]!.lr = values[i]!;
    this.lastLr = groups.map((group) => group.lr);
  }

  /** The current lr of every group. */
  protected groupLrs(): number[] {
    return this.#optimizer.paramGroups.map((group) => group.lr);
  }

  /** Own keys that are not plain data and that a subclass saves and restores itself. */
  protected nonStateKeys(): readonly string[] {
    return [];
  }

  /**
   * The scheduler's state as plain data (a deep copy): `lastEpoch`, the base and last lrs, the
   * step count and the scheduler's own fields and options, as PyTorch's `state_dict()`.
   */
  stateDict(): SchedulerStateDict {
    const skip = this.nonStateKeys();
    const out: SchedulerStateDict = {};
    for (const [key, value] of Object.entries(this)) {
      if (skip.includes(key) || typeof value === "function" || value === undefined) continue;
      out[key] = clonePlain(value, key);
    }
    return out;
  }

  /**
   * Restores a state made by `stateDict()` of the same kind of scheduler. Unknown keys, values
   * of another kind, and values this scheduler's options would not accept (a NaN `lastEpoch`, a
   * `stepSize` of 0, one lr for a 2-group optimizer, ...) throw before anything changes.
   */
  loadStateDict(stateDict: SchedulerStateDict): void {
    this[PREPARE_LOAD](stateDict)();
  }

  /**
   * @internal Validates `stateDict` completely and returns the function that writes it, so that
   * a composite scheduler can validate every member before writing any.
   */
  [PREPARE_LOAD](stateDict: unknown): () => void {
    const owner = this.constructor.name;
    if (typeof stateDict !== "object" || stateDict === null || Array.isArray(stateDict)) {
      throw new TypeError(`simdopt: ${owner}.loadStateDict expects an object made by stateDict(), got ${describe(stateDict)}`);
    }
    const skip = this.nonStateKeys();
    const target = this as unknown as Record<string, unknown>;
    const candidate: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this)) candidate[key] = value;
    const updates: Array<[string, unknown]> = [];
    for (const [key, value] of Object.entries(stateDict)) {
      if (skip.includes(key)) continue;
      if (!Object.prototype.hasOwnProperty.call(this, key) || typeof target[key] === "function") {
        throw new TypeError(`simdopt: ${owner}.loadStateDict: unknown key "${key}" (is this the state of another kind of scheduler?)`);
      }
      const current = target[key];
      if (current !== undefined && current !== null && value !== null && kindOf(current) !== kindOf(value)) {
        throw new TypeError(`simdopt: ${owner}.loadStateDict: "${key}" must be ${kindOf(current)}, got ${kindOf(value)}`);
      }
      const copy = clonePlain(value, key);
      updates.push([key, copy]);
      candidate[key] = copy;
    }
    this.checkState(candidate, `${owner}.loadStateDict: `);
    return () => {
      for (const [key, value] of updates) target[key] = value;
      this.afterLoad();
    };
  }

  /**
   * Throws unless `state` (this scheduler's fields with the loaded values applied) is one this
   * scheduler could have reached: a subclass adds the checks of its own options and fields.
   */
  protected checkState(state: Record<string, unknown>, where: string): void {
    // Per-group lists must be as long as this scheduler's own (one per group it was built for).
    checkBounded(where, "lastEpoch", state.lastEpoch, this.lastEpochBounds());
    checkBounded(where, "stepCount", state.stepCount, { integer: true, min: 0 });
    checkPerGroup(where, "baseLrs", state.baseLrs, this.baseLrs.length, {});
    checkPerGroup(where, "lastLr", state.lastLr, this.lastLr.length, {});
  }

  /** @internal What a loaded `lastEpoch` may be: an integer ≥ -1 (a step index). */
  protected lastEpochBounds(): NumberCheck {
    return LAST_EPOCH_BOUNDS;
  }

  /** Called after a load has written the state (to re-derive what is not saved). */
  protected afterLoad(): void {}
}

const LAST_EPOCH_BOUNDS: NumberCheck = Object.freeze({ integer: true, min: -1 });

/**
 * @internal An array of finite numbers, each within `check`: `count` of them (null: any number),
 * one per param group unless `each` says what else one entry stands for.
 */
export function checkPerGroup(where: string, name: string, value: unknown, count: number | null, check: NumberCheck,
  each = "param group"): void {
  if (!Array.isArray(value)) throw new TypeError(`simdopt: ${where}${name} must be an array of numbers, got ${describe(value)}`);
  if (count !== null && value.length !== count) {
    throw new RangeError(`simdopt: ${where}${name} has ${value.length} values, expected ${count} (one per ${each})`);
  }
  value.forEach((entry, i) => checkBounded(where, `${name}[${i}]`, entry, check));
}
