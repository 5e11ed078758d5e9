// The shared base of every optimizer: parameter groups, option validation, per-parameter state
// in wasm memory, step counts, state dicts, and the masked / row-sparse / guarded step variants.
// A concrete optimizer supplies its defaults, its option checks, the names of its state buffers
// and the one kernel call that updates a slice of a parameter.

import { F32Block } from "../bindings/memory.js";
import { threadHooks } from "../threads/hooks.js";
import { Parameter, parameterDisposals, totalSize } from "../parameter.js";
import { checkInteger, checkObject, checkOptionKeys, type NumberCheck } from "../checks.js";
import { checkMembers, checkStepOptions, groupPrefix, makeGroup, makeGroups, stripUndefined } from "./groups.js";
import { loadState, makeStateDict, type StateAccess } from "./state-dict.js";
import { GradientAccumulator } from "./accumulate.js";
import { checkMasks, checkRows, gradientsFinite, reserveMaskScratch, restoreMaskedOut, stageMask } from "./sparse.js";
import { buildTable, tableValid, type GroupTable } from "./tables.js";

import { blockFloats, elementBytes } from "./lowp.js";
import {
  layoutLength, PARAM_SHAPED,
  type OptimizerStateDict, type ParamGroup, type ParamGroupInput, type ParamState, type Slice,
  type StateBufferLayout, type StateBufferSpec, type StepOptions, type StepScalars, type StepSupport,
} from "./types.js";

// ParamState, Slice and StepScalars stay out of the published declarations: subclasses import them from types.js.
export type { OptimizerStateDict, ParamGroup, ParamGroupInput, StateBufferLayout, StateBufferSpec, StepOptions, StepSupport } from "./types.js";

/** The optimizer-level option every optimizer takes besides its group options. */
export interface AccumulateOption {
  /**
   * Average the gradients of this many step() calls before one update (optax MultiSteps): the
   * other calls only accumulate and return false. Default 1. Not combinable with mask or rows.
   */
  accumulate?: number;
}

const NO_STEP_OPTIONS: StepOptions = Object.freeze({});
const NO_NAMES: readonly string[] = Object.freeze([]);
const NO_BOUNDS: NumberCheck = Object.freeze({});
const NO_SCALARS: StepScalars = new Float64Array(0);
const ALL_STEPS: StepSupport = Object.freeze({ rows: true, mask: true });

/** The base of every optimizer (PyTorch's `torch.optim.Optimizer`): parameter groups with live options, per-parameter state in wasm memory, `step()` (dense, masked, by rows, guarded), `zeroGrad()`, state dicts and `dispose()`. Subclasses add their defaults, option checks and kernel. */
export abstract class Optimizer<Options extends object> {
  /** The groups, in order; plain objects whose options may be changed between steps. */
  readonly paramGroups: ParamGroup<Options>[] = [];
  /** The options every group starts from (PyTorch's `defaults`, with the constructor's overrides). */
  readonly defaults: Readonly<Options>;
  /** @internal Per-parameter state, created on a parameter's first step. */
  protected readonly state = new Map<Parameter, ParamState>();
  readonly #slice: Slice = { param: 0, grad: 0, length: 0, shape: [], buffers: [], firstUse: false };
  readonly #bufferBases: number[] = [];
  readonly #bufferRowBytes: number[] = [];
  readonly #rowSeen = new Map<Parameter, Uint8Array>();
  #disposed = false;
  /** The parameters the groups held when last validated, in step order, and as a set. */
  readonly #memberList: Parameter[] = [];
  #memberSet = new Set<Parameter>();
  /** Bumped whenever the parameters in step order change (see #checkMembers); tables record it. */
  #generation = 0;
  /** parameterDisposals() when the members last passed their check. */
  #disposalsSeen = -1;
  /** Elements of all the members (set with #generation): below the threads' split size, no recording. */
  #elements = 0;
  // Reused by every step (no allocation per step): per parameter in step order, whether its
  // state buffers were created by this call; what this call allocated, so that a failed
  // allocation can be undone; and the scratch the step's masks need.
  readonly #fresh: boolean[] = [];
  readonly #madeBlocks: { state: ParamState; name: string; block: F32Block }[] = [];
  readonly #madeStates: Parameter[] = [];
  #maskScratchBytes = 0;
  /** Per group, its multi-tensor table (see tables.ts); valid while `#version` is what it was built at. */
  readonly #tables: (GroupTable | undefined)[] = [];
  /** Bumped whenever state is created, freed, loaded or stepped by rows. */
  #version = 0;
  /** Per group, the `#version` at which it was found ineligible for a table (see #buildTable). */
  readonly #noTable: number[] = [];
  // Per parameter in step order, what the last #allocateForStep found: the parameter, its buffer
  // names and its state; current while `#version` is `#statesVersion`. A step over the same
  // parameters and names then skips the allocation pass and the per-tensor state look-ups.
  readonly #stepParams: Parameter[] = [];
  readonly #stepNames: (readonly string[])[] = [];
  readonly #stepStates: ParamState[] = [];
  /** And the slice of the whole parameter (its pointers, length and shape), for dense steps. */
  readonly #stepSlices: Slice[] = [];
  #statesVersion = -1;
  /** The option names (keys of the defaults), and with "params": what a group's keys are checked against. */
  readonly #optionNames: readonly string[];
  readonly #groupKeys: readonly string[];
  readonly #validate = (group: ParamGroup<Options>, prefix: string): void => {
    this.#checkStateDtypeKey(group, prefix.slice(0, -1));
    this.validateGroup(group, prefix);
  };
  /** Steps whose gradients are averaged before one update (optax MultiSteps); 1: every step updates. */
  readonly accumulate: number;
  readonly #accumulator: GradientAccumulator | null;

  /**
   * @param params parameters, or groups `{ params, ...options }`
   * @param options overrides of the optimizer's defaults, for every group
   * @param defaults the optimizer's own defaults (PyTorch's)
   */
  constructor(params: Parameter[] | ParamGroupInput<Options>[], optionsIn: (Partial<Options> & AccumulateOption) | undefined, defaults: Options) {
    checkObject(`${this.constructor.name} options`, optionsIn);
    this.#optionNames = Object.freeze(Object.keys(defaults));
    this.#groupKeys = Object.freeze([...this.#optionNames, "params"]);
    this.#checkStateDtypeKey(optionsIn, `${this.constructor.name} options`);
    if (optionsIn !== undefined) checkOptionKeys(optionsIn, [...this.#optionNames, "accumulate"], `${this.constructor.name} options`);
    // `accumulate` belongs to the optimizer, not to its groups.
    const { accumulate, ...rest } = optionsIn ?? {};
    const options = optionsIn === undefined ? undefined : (rest as Partial<Options>);
    this.accumulate = checkInteger(`${this.constructor.name} options.`, "accumulate", accumulate ?? 1, 1);
    this.#accumulator = this.accumulate > 1 ? new GradientAccumulator(this.accumulate) : null;
    this.defaults = Object.freeze({ ...defaults, ...stripUndefined(options ?? {}) }) as Readonly<Options>;
    this.validateGroup(this.defaults as Options, "");
    this.paramGroups.push(...makeGroups(this.constructor.name, params, this.defaults, this.#groupKeys, this.#validate));
  }

  /** Adds a group (PyTorch's add_param_group); missing options come from `defaults`. */
  addParamGroup(group: ParamGroupInput<Options>): void {
    const made = makeGroup(group, this.paramGroups.length, this.defaults, this.#groupKeys, this.#validate);
    for (const param of made.params) {
      if (this.paramGroups.some((existing) => existing.params.includes(param))) {
        throw new RangeError(`simdopt: parameter "${param.name}" is already in a group of this optimizer`);
      }
    }
    this.paramGroups.push(made);
  }

  // ---- what each optimizer supplies ----
  // These hooks work on wasm pointers and internal state, so they are no extension point for users:
  // @internal keeps them (and the memory types they mention) out of the published declarations.

  /**
   * @internal Throws RangeError/TypeError naming the first bad option (`prefix` + name). Runs on
   * every step, so each number is tested in place (`typeof x === "number" && …`) and handed to a
   * checks.ts helper only when it fails, for the message: a float passed to a call that V8 does
   * not inline is boxed, and whether it inlines depends on timing — an allocation on some runs.
   */
  protected abstract validateGroup(group: Options, prefix: string): void;

  /**
   * @internal The state buffers a parameter of this group needs now (order = Slice.buffers
   * order); may depend on the parameter's shape (Adafactor factors matrices but not vectors).
   */
  protected abstract stateBufferNames(group: ParamGroup<Options>, param: Parameter): readonly string[];

  /**
   * @internal The layout of state buffer `name`. Default: the parameter's shape, sliced with it. An
   * optimizer whose state is per row, per column, per tensor or scalar overrides this.
   */
  protected stateBufferLayout(_name: string): StateBufferLayout {
    return PARAM_SHAPED;
  }

  /** @internal Which step variants this optimizer supports. Default both (rows only where every buffer is sliceable). */
  protected get stepSupport(): StepSupport {
    return ALL_STEPS;
  }

  /** The state buffers a parameter of a group keeps (default: the first group's first), with their layouts. */
  stateBuffers(group: ParamGroup<Options> = this.paramGroups[0]!, param: Parameter = group.params[0]!): StateBufferSpec[] {
    return this.stateBufferNames(group, param).map((name) => ({ name, ...this.stateBufferLayout(name) }));
  }

  /** @internal Names of per-parameter scalar state (see ParamState.scalars). Default none. */
  protected scalarStateNames(): readonly string[] {
    return NO_NAMES;
  }

  /** @internal The range a loaded scalar state must lie in. Default: any finite number. */
  protected scalarStateBounds(_scalar: string): NumberCheck {
    return NO_BOUNDS;
  }

  /** @internal The value a scalar state starts with. Default 0. */
  protected initialScalarValue(_scalar: string): number {
    return 0;
  }

  #newScalars(values?: Record<string, number>): Float64Array {
    const names = this.scalarStateNames();
    const scalars = new Float64Array(names.length);
    for (let i = 0; i < names.length; i++) scalars[i] = values?.[names[i]!] ?? this.initialScalarValue(names[i]!);
    return scalars;
  }

  /** @internal The value a new state buffer starts with. Default 0. */
  protected initialStateValue(_buffer: string, _group: ParamGroup<Options>): number {
    return 0;
  }

  /**
   * Called once per parameter per step, after the step count advanced: compute the step's
   * scalars (bias corrections, decayed lr, ...) for `update` (`param` for shape-dependent ones).
   * @internal
   */
  protected prepareStep(_group: ParamGroup<Options>, _state: ParamState, _param: Parameter): StepScalars {
    return NO_SCALARS;
  }

  /**
   * @internal Whether this group's dense steps may run as one multi-tensor kernel call (see
   * tables.ts): `update` must make exactly one step-kernel call, on the slice's streams, whose
   * kernel walks a table when given a negative length, and the group's buffer names must not
   * depend on the parameter. Default false: an optimizer opts in.
   */
  protected multiTensor(_group: ParamGroup<Options>): boolean {
    return false;
  }

  /** @internal Runs the kernel on one slice (a whole parameter, or one row of it). */
  protected abstract update(slice: Slice, group: ParamGroup<Options>, state: ParamState, scalars: StepScalars): void;

  // ---- the public surface ----

  /**
   * One update of every parameter from its `.grad`. Returns false (changing nothing) only when
   * `skipIfNonfinite` is set and a gradient holds NaN/±Inf; otherwise true.
   */
  step(options?: StepOptions): boolean {
    this.#checkLive("step");
    if (options !== undefined) checkStepOptions(options);
    const { mask, rows, skipIfNonfinite = false } = options ?? NO_STEP_OPTIONS;
    this.#checkBeforeStep(mask, rows);
    if (skipIfNonfinite && !gradientsFinite(this.paramGroups, rows)) return false;
    // Everything the step needs is allocated before anything is written: running out of memory
    // leaves every parameter, buffer and step count as it was.
    // Groups whose tables are current have every state and buffer already (multi-tensor steps
    // then skip the per-tensor look-ups).
    const accumulator = this.#accumulator;
    // Every group with a current table: all their buffers are sliceable too (see #buildTable).
    let tables = false;
    if (accumulator === null) {
      tables = this.#tablesCurrent(mask, rows);
      if (mask !== undefined || (!tables && !this.#statesCurrent())) this.#allocateForStep();
    } else {
      accumulator.allocate(this.#memberList);
      if (accumulator.count + 1 === accumulator.k && !this.#tablesCurrent(mask, rows) && !this.#statesCurrent()) this.#allocateForStep();
      // Not the k-th step: the gradients are only added to the sums.
      if (!accumulator.add(this.#memberList)) return false;
      accumulator.applying = true;
    }
    // Indexed loops on the hot path: a for-of iterator is only free where the engine inlines the
    // loop's whole body, and a step must allocate nothing whatever the engine decides.
    // With threads on, the step's kernel calls are collected and split across the threads in one
    // dispatch at the end (src/threads/step-batch.ts); a masked step's restore runs what was
    // collected first, so effects keep their single-thread order.
    // Only while every buffer is sliced with its parameter: the recorder cuts each call into
    // element ranges of all its streams.
    // One thread (none started, stopped or paused) pays one call here, nothing per tensor.
    const threads = threadHooks();
    const threaded = threads !== null && threads.threadCount() > 1 && (tables || this.#everyBufferSliceable()) && threads.beginStep(this.#elements);
    try {
      this.#stepAll(mask, rows);
    } finally {
      if (threaded) threads.endStep();
    }
    if (accumulator !== null) accumulator.reset(this.#memberList);
    return true;
  }

  #everyBufferSliceable(): boolean {
    const groups = this.paramGroups;
    // Buffer names are shared constant lists: each distinct list is checked once.
    let checked: readonly string[] | null = null;
    for (let g = 0; g < groups.length; g++) {
      const params = groups[g]!.params;
      for (let i = 0; i < params.length; i++) {
        const names = this.stateBufferNames(groups[g]!, params[i]!);
        if (names === checked) continue;
        if (!this.#allSliceable(names)) return false;
        checked = names;
      }
    }
    return true;
  }

  #stepAll(mask: StepOptions["mask"], rows: StepOptions["rows"]): void {
    const groups = this.paramGroups;
    let index = 0;
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      const params = group.params;
      if (params.length > 1 && mask === undefined && rows === undefined && this.#stepTable(g, group, index)) {
        index += params.length;
        continue;
      }
      for (let i = 0; i < params.length; i++) {
        const param = params[i]!;
        // Current: #allocateForStep ran this step, or found what it finds now (#statesCurrent).
        const names = this.#stepNames[index]!;
        const state = this.#stepStates[index]!;
        this.#wholeSlice = this.#stepSlices[index]!;
        this.#freshBuffers = this.#fresh[index++]!;
        // New buffers are untouched everywhere, so per-row first-use rules start over.
        if (this.#freshBuffers && state.touchedRows !== null) state.touchedRows.fill(0);
        state.step += 1;
        this.#scalars = this.prepareStep(group, state, param);
        const paramRows = rows?.get(param);
        if (paramRows !== undefined) {
          this.#stepRows(param, group, state, names, paramRows);
          continue;
        }
        const paramMask = mask?.get(param);
        if (paramMask === undefined) {
          this.#stepDense(param, group, state, names);
        } else {
          this.#stepMasked(param, group, state, names, paramMask);
        }
      }
    }
  }

  /**
   * The group's dense step as one kernel call over its table, built or rebuilt here when the
   * group is eligible (two or more tensors, none with fresh buffers or a rows history, all at
   * the same step with the same scalar state); false (nothing done) when it is not. Step
   * scalars (bias corrections…) are computed once for the group.
   */
  #stepTable(g: number, group: ParamGroup<Options>, index: number): boolean {
    const params = group.params;
    if (!this.multiTensor(group) || this.#noTable[g] === this.#version) return false;
    // Optimizers that opt in keep the same buffer names for every parameter of a group.
    const names = this.stateBufferNames(group, params[0]!);
    let table = this.#tables[g];
    if (!tableValid(table, params.length, names, this.#version, this.#generation, index)) {
      table?.block.free();
      this.#tables[g] = table = this.#buildTable(g, group, names, index);
      if (table === undefined) return false;
    }
    const states = table!.states;
    for (let i = 0; i < states.length; i++) states[i]!.step += 1;
    // Per-parameter scalar state advances for every tensor: all alike (see #buildTable), so the
    // first's new values are every tensor's. One prepareStep call site: each inlined copy eats into
    // the budget that keeps the kernel call below inlined too (with threads on, a recorder that is
    // not inlined gets its float arguments boxed: an allocation per step).
    const scalars = this.prepareStep(group, states[0]!, params[0]!);
    const advanced = states[0]!.scalars;
    for (let j = 0; j < advanced.length; j++) {
      for (let i = 1; i < states.length; i++) states[i]!.scalars[j] = advanced[j]!;
    }
    this.update(table!.slice, group, states[0]!, scalars);
    return true;
  }

  /** True when the step is dense and every group has a current table (see #stepTable). */
  #tablesCurrent(mask: StepOptions["mask"], rows: StepOptions["rows"]): boolean {
    if (mask !== undefined || rows !== undefined) return false;
    const groups = this.paramGroups;
    let index = 0;
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      const params = group.params;
      if (!this.multiTensor(group) || !tableValid(this.#tables[g], params.length, this.stateBufferNames(group, params[0]!), this.#version, this.#generation, index)) return false;
      index += params.length;
    }
    return true;
  }

  /**
   * True when every parameter, in step order, is the one #allocateForStep last saw, with the same
   * buffer names, and no state changed since: then nothing needs allocating and no buffer is fresh.
   */
  #statesCurrent(): boolean {
    if (this.#statesVersion !== this.#version) return false;
    const groups = this.paramGroups;
    let index = 0;
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      const params = group.params;
      for (let i = 0; i < params.length; i++, index++) {
        const param = params[i]!;
        if (this.#stepParams[index] !== param || this.#stepNames[index] !== this.stateBufferNames(group, param)) return false;
        this.#fresh[index] = false;
      }
    }
    return true;
  }

  /**
   * The group's table, or undefined when it is not eligible now. Only groups whose buffers are
   * all parameter-shaped (sliceable) and at most three: the kernels' table entries hold three.
   * Ineligibility that lasts until the state changes is remembered (no retry, no allocation, per step).
   */
  #buildTable(g: number, group: ParamGroup<Options>, names: readonly string[], index: number): GroupTable | undefined {
    const params = group.params;
    const states: ParamState[] = [];
    const first = this.state.get(params[0]!)!;
    let eligible = names.length <= 3 && names.every((name) => this.stateBufferLayout(name).sliceable);
    for (let i = 0; i < params.length && eligible; i++) {
      const state = this.state.get(params[i]!)!;
      // Fresh buffers: first-use rules this step, eligible on the next one.
      if (this.#fresh[index + i]) return undefined;
      eligible = state.touchedRows === null && state.step === first.step && state.scalars.every((value, j) => Object.is(value, first.scalars[j]));
      states.push(state);
    }
    if (!eligible) {
      this.#noTable[g] = this.#version;
      return undefined;
    }
    const accumulator = this.#accumulator;
    try {
      // With accumulate, tables serve only applying steps, which read the sums.
      return buildTable(params, states, names, this.#version, this.#generation, index, (param) => accumulator === null ? param.gradPtr : accumulator.gradPtr(param));
    } catch {
      return undefined; // out of memory for the table: step tensor by tensor
    }
  }

  /** Zeroes every gradient (PyTorch's zero_grad; gradients here always exist, so they are zero-filled). */
  zeroGrad(): void {
    this.#checkLive("zeroGrad");
    // Every parameter is checked first: a disposed one must not leave the gradients half-zeroed.
    this.#checkMembers();
    for (const group of this.paramGroups) {
      for (const param of group.params) param.grad.fill(0);
    }
  }

  /** A snapshot: step counts, copies of state buffers, and group options with parameter indices. */
  stateDict(): OptimizerStateDict {
    this.#checkLive("stateDict");
    const dict = makeStateDict(this.#access());
    if (this.#accumulator !== null) dict.accumulation = this.#accumulator.snapshot(this.paramGroups.flatMap((group) => group.params));
    return dict;
  }

  /**
   * Restores a snapshot made by `stateDict()` of the same optimizer class over parameters of the
   * same sizes. Checks every value and allocates every buffer first: a mismatch (or running out
   * of memory) throws and changes nothing. The loaded state keeps no reference to the caller's arrays.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    this.#checkLive("loadStateDict");
    const accumulator = this.#accumulator;
    const saved: unknown = (stateDict as { accumulation?: unknown } | null)?.accumulation;
    if (accumulator === null && saved !== undefined) {
      throw new RangeError(`simdopt: this state dict accumulates gradients; ${this.constructor.name} was made without accumulate`);
    }
    const params = this.paramGroups.flatMap((group) => group.params);
    // Checked (and the sums allocated) before anything else changes.
    const accumulation = accumulator === null || saved === undefined ? null : accumulator.check(saved, params);
    try {
      loadState(this.#access(), stateDict);
    } finally {
      this.#version++;
    }
    if (accumulator !== null) {
      accumulator.allocate(params);
      if (accumulation === null) accumulator.reset(params);
      else accumulator.restore(accumulation, params);
    }
  }

  #access(): StateAccess<Options> {
    return {
      owner: this.constructor.name,
      groups: this.paramGroups,
      state: this.state,
      optionNames: this.#optionNames,
      bufferNames: (group, param) => this.stateBufferNames(group, param),
      bufferLength: (param, name) => layoutLength(this.stateBufferLayout(name), param),
      bufferLayout: (name) => this.stateBufferLayout(name),
      scalarNames: this.scalarStateNames(),
      scalarBounds: (name) => this.scalarStateBounds(name),
      initialScalar: (name) => this.initialScalarValue(name),
      validateGroup: (group, prefix) => this.validateGroup(group, prefix),
      freeState: (param) => this.#freeState(param),
    };
  }

  /**
   * Frees this optimizer's state (its buffers in wasm memory) at once. The parameters are the
   * caller's and stay usable. Afterwards `step()`, `zeroGrad()`, `stateDict()` and
   * `loadStateDict()` throw; calling `dispose()` again does nothing.
   *
   * An optimizer dropped without `dispose()` has its state reclaimed once the garbage collector
   * finds it unreachable — at a time the engine chooses, so call `dispose()` where memory
   * matters (optimizers made in a loop, large models).
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const param of [...this.state.keys()]) this.#freeState(param);
    this.#accumulator?.free();
    for (const table of this.#tables) table?.block.free();
    this.#tables.length = 0;
  }

  // ---- internals ----

  #freshBuffers = false;
  #scalars: StepScalars = NO_SCALARS;
  /** The current parameter's entry of #stepSlices. */
  #wholeSlice: Slice = this.#slice;

  #freeState(param: Parameter): void {
    const entry = this.state.get(param);
    if (entry === undefined) return;
    this.#version++;
    for (const block of entry.buffers.values()) block.free();
    this.state.delete(param);
  }

  #checkLive(method: string): void {
    if (this.#disposed) {
      throw new Error(`simdopt: ${this.constructor.name}.${method}() after dispose(): its state has been freed; create a new optimizer`);
    }
  }

  /**
   * Creates every state and buffer this step needs and the masked step's scratch; on failure
   * frees what this call created and rethrows, leaving the optimizer as it was.
   */
  #allocateForStep(): void {
    const madeBlocks = this.#madeBlocks;
    const madeStates = this.#madeStates;
    this.#statesVersion = -1;
    try {
      let index = 0;
      const groups = this.paramGroups;
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g]!;
        const params = group.params;
        for (let i = 0; i < params.length; i++, index++) {
          const param = params[i]!;
          const names = this.stateBufferNames(group, param);
          this.#fresh[index] = this.#ensureState(param, group, names);
          this.#stepParams[index] = param;
          this.#stepNames[index] = names;
          const state = this.state.get(param)!;
          this.#stepStates[index] = state;
          this.#fillSlice(this.#stepSlices[index] ??= { param: 0, grad: 0, length: 0, shape: [], buffers: [], firstUse: false }, param, state, names, 0, param.size);
        }
      }
      // Last: once it has grown, nothing after it can fail.
      reserveMaskScratch(this.#maskScratchBytes);
      this.#statesVersion = this.#version;
    } catch (error) {
      for (const made of madeBlocks) {
        made.state.buffers.delete(made.name);
        made.block.free();
      }
      for (const param of madeStates) this.state.delete(param);
      throw error;
    } finally {
      madeBlocks.length = 0;
      madeStates.length = 0;
    }
  }

  /** Creates the parameter's state and any buffer the group now needs; true if a buffer was made. */
  #ensureState(param: Parameter, group: ParamGroup<Options>, names: readonly string[]): boolean {
    let state = this.state.get(param);
    if (state === undefined) {
      this.#version++;
      state = { step: 0, buffers: new Map(), touchedRows: null, scalars: this.#newScalars() };
      this.state.set(param, state);
      this.#madeStates.push(param);
    }
    let fresh = false;
    for (let n = 0; n < names.length; n++) {
      const name = names[n]!;
      if (!state.buffers.has(name)) {
        this.#version++;
        const layout = this.stateBufferLayout(name);
        const block = new F32Block(blockFloats(layout, layoutLength(layout, param)));
        state.buffers.set(name, block);
        this.#madeBlocks.push({ state, name, block });
        const initial = this.initialStateValue(name, group);
        if (initial !== 0) block.view.fill(initial);
        fresh = true;
      }
    }
    return fresh;
  }

  #fillSlice(slice: Slice, param: Parameter, state: ParamState, names: readonly string[], firstElement: number, length: number): void {
    const byteOffset = firstElement * 4;
    slice.param = param.dataPtr + byteOffset;
    const accumulator = this.#accumulator;
    slice.grad = (accumulator === null ? param.gradPtr : accumulator.gradPtr(param)) + byteOffset;
    slice.length = length;
    slice.shape = param.shape;
    // Setting an array's length is a runtime call even when it does not change.
    if (slice.buffers.length !== names.length) slice.buffers.length = names.length;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const ptr = state.buffers.get(name)!.ptr;
      if (firstElement === 0) {
        slice.buffers[i] = ptr;
        continue;
      }
      // A buffer not shaped like the parameter is passed whole to every slice.
      const layout = this.stateBufferLayout(name);
      slice.buffers[i] = ptr + (layout.sliceable ? firstElement * elementBytes(layout) : 0);
    }
  }

  #stepRows(param: Parameter, group: ParamGroup<Options>, state: ParamState, names: readonly string[], rows: Int32Array): void {
    this.#version++;
    const columns = param.size / param.shape[0]!;
    if (state.touchedRows === null) {
      // State that exists from dense steps counts as touched everywhere.
      state.touchedRows = new Uint8Array(param.shape[0]!).fill(this.#freshBuffers ? 0 : 1);
    }
    // Look the pointers up once; each row is then only an offset from them (rows are the
    // embedding-table case, thousands per step, so per-row overhead matters).
    const slice = this.#slice;
    this.#fillSlice(slice, param, state, names, 0, columns);
    const paramBase = slice.param;
    const gradBase = slice.grad;
    const bufferBases = this.#bufferBases;
    if (bufferBases.length !== slice.buffers.length) bufferBases.length = slice.buffers.length;
    for (let b = 0; b < bufferBases.length; b++) bufferBases[b] = slice.buffers[b]!;
    const rowBytes = columns * 4;
    // Per buffer: its row's bytes (a bfloat16 buffer's rows are half as long).
    const bufferRowBytes = this.#bufferRowBytes;
    if (bufferRowBytes.length !== names.length) bufferRowBytes.length = names.length;
    for (let b = 0; b < names.length; b++) bufferRowBytes[b] = columns * elementBytes(this.stateBufferLayout(names[b]!));
    const touched = state.touchedRows;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const offset = row * rowBytes;
      slice.param = paramBase + offset;
      slice.grad = gradBase + offset;
      for (let b = 0; b < bufferBases.length; b++) slice.buffers[b] = bufferBases[b]! + row * bufferRowBytes[b]!;
      slice.firstUse = touched[row] === 0;
      touched[row] = 1;
      this.update(slice, group, state, this.#scalars);
    }
  }

  /** The whole parameter. After row steps, rows never touched get first-use rules. */
  #stepDense(param: Parameter, group: ParamGroup<Options>, state: ParamState, names: readonly string[]): void {
    const slice = this.#slice;
    const touched = state.touchedRows;
    // Runs of rows only matter to per-element state; state laid out otherwise (blockwise
    // scales) is stepped whole, its rows counting as touched.
    if (touched === null || !this.#allSliceable(names)) {
      state.touchedRows = null;
      const whole = this.#wholeSlice;
      if (this.#accumulator !== null) whole.grad = this.#accumulator.gradPtr(param);
      whole.firstUse = this.#freshBuffers;
      this.update(whole, group, state, this.#scalars);
      return;
    }
    const columns = param.size / param.shape[0]!;
    let row = 0;
    while (row < touched.length) {
      // Runs of rows with the same first-use status go to the kernel in one call.
      const first = touched[row];
      let end = row + 1;
      while (end < touched.length && touched[end] === first) end++;
      this.#fillSlice(slice, param, state, names, row * columns, (end - row) * columns);
      slice.firstUse = first === 0;
      this.update(slice, group, state, this.#scalars);
      row = end;
    }
    state.touchedRows = null;
  }

  #stepMasked(param: Parameter, group: ParamGroup<Options>, state: ParamState, names: readonly string[], mask: Uint8Array | Float32Array): void {
    // Fits: step() reserved the scratch before changing anything.
    const saved = stageMask(param, mask);
    this.#stepDense(param, group, state, names);
    restoreMaskedOut(param, mask, saved);
  }


  /** Validates the options of every group and the step's masks and rows; throws before any write. */
  #checkBeforeStep(mask: StepOptions["mask"], rows: StepOptions["rows"]): void {
    // Plain loops and cached prefixes: step() allocates nothing, validation included.
    for (let index = 0; index < this.paramGroups.length; index++) {
      // Group keys are checked where groups are made (constructor, addParamGroup, loadStateDict),
      // not here: enumerating keys on every step allocates once the engine's key caches miss.
      this.validateGroup(this.paramGroups[index]!, groupPrefix(index));
    }
    this.#checkMembers();
    this.#maskScratchBytes = 0;
    if (this.#accumulator !== null && (mask !== undefined || rows !== undefined)) {
      throw new RangeError(`simdopt: step({ ${mask !== undefined ? "mask" : "rows"} }) cannot be combined with accumulate (${this.accumulate}): accumulated steps are dense`);
    }
    if (mask !== undefined) {
      if (!this.stepSupport.mask) throw new RangeError(`simdopt: ${this.constructor.name} does not support step({ mask }); step it densely`);
      this.#maskScratchBytes = checkMasks(mask, this.#memberSet);
    }
    if (rows !== undefined) {
      if (!this.stepSupport.rows) throw new RangeError(`simdopt: ${this.constructor.name} does not support step({ rows }); step it densely`);
      checkRows(rows, mask, this.#memberSet, this.#rowSeen);
      for (const param of rows.keys()) this.#checkSliceable(param);
    }
  }

  /** Checks the groups' parameters (live, each once), cheaply while they are those checked last. */
  #checkMembers(): void {
    const disposals = parameterDisposals();
    const changed = checkMembers(this.paramGroups, this.#memberList, disposals !== this.#disposalsSeen);
    if (changed !== null) {
      this.#memberSet = changed;
      this.#generation++;
      this.#elements = totalSize(this.#memberList);
    }
    this.#disposalsSeen = disposals;
  }

  /** A stateDtype given to an optimizer without one would be kept as an extra key and ignored. */
  #checkStateDtypeKey(options: object | undefined, where: string): void {
    if (options !== undefined && Object.prototype.hasOwnProperty.call(options, "stateDtype") && !this.#optionNames.includes("stateDtype")) {
      throw new TypeError(`simdopt: ${where}: ${this.constructor.name} keeps float32 state only; option stateDtype is for Adam, AdamW and Lion`);
    }
  }

  #allSliceable(names: readonly string[]): boolean {
    for (let n = 0; n < names.length; n++) if (!this.stateBufferLayout(names[n]!).sliceable) return false;
    return true;
  }

  /** Row steps slice every buffer with the parameter: refused for a parameter with other state. */
  #checkSliceable(param: Parameter): void {
    const group = this.paramGroups.find((candidate) => candidate.params.includes(param))!;
    const names = this.stateBufferNames(group, param);
    for (let n = 0; n < names.length; n++) {
      if (!this.stateBufferLayout(names[n]!).sliceable) {
        throw new RangeError(`simdopt: ${this.constructor.name} cannot step "${param.name}" by rows: its state "${names[n]}" is not shaped like the parameter; step it densely`);
      }
    }
  }
}

