// The shared base of every optimizer: parameter groups, option validation, per-parameter state
// in wasm memory, step counts, state dicts, and the masked / row-sparse / guarded step variants.
// A concrete optimizer supplies its defaults, its option checks, the names of its state buffers
// and the one kernel call that updates a slice of a parameter.

import { kernels } from "../bindings/instance.js";
import { F32Block, heapF32, heapU8, Scratch } from "../bindings/memory.js";
import { Parameter } from "../parameter.js";

/** A parameter group: the options of the optimizer plus its parameters; every option is live. */
export type ParamGroup<Options extends object> = Options & {
  params: Parameter[];
  /** Any further keys (e.g. `initialLr`, written by schedulers) are kept as they are. */
  [key: string]: unknown;
};

/** What the constructor accepts as a group: its parameters and any options to override. */
export type ParamGroupInput<Options extends object> = Partial<Options> & { params: Parameter[] };

/** Options of `step()`. */
export interface StepOptions {
  /**
   * Per-parameter 0/1 masks (Uint8Array or Float32Array, one entry per element): only
   * masked-in elements of the parameter change; state buffers update as in a dense step.
   */
  mask?: Map<Parameter, Uint8Array | Float32Array>;
  /**
   * Per-parameter row indices of 2-D parameters: only these rows of the parameter and its
   * state are read or written (lazy updates for embedding tables).
   */
  rows?: Map<Parameter, Int32Array>;
  /** When true and any gradient holds NaN/±Inf, change nothing and return false. Default false. */
  skipIfNonfinite?: boolean;
}

/** Per-parameter state: the step count and named float32 buffers in wasm memory. */
export interface ParamState {
  step: number;
  buffers: Map<string, F32Block>;
  /**
   * For parameters stepped by rows: which rows have been touched (first-touch rules apply per
   * row). null once the whole parameter has been stepped densely.
   */
  touchedRows: Uint8Array | null;
  /**
   * Per-parameter scalar state that is not a buffer (e.g. NAdam's `muProduct`): the values of
   * `scalarStateNames()`, in order, owned by the optimizer's `prepareStep` and carried by
   * stateDict/loadStateDict. A Float64Array so that updating it each step allocates nothing.
   */
  scalars: Float64Array;
}

/** The pointers of the slice being updated: a whole parameter, or one row of it. */
export interface Slice {
  param: number;
  grad: number;
  length: number;
  /** Byte offsets of the state buffers, in the order of `stateBufferNames`; 0 when absent. */
  buffers: number[];
  /** True when this slice's state was just created (PyTorch's "state is empty" first step). */
  firstUse: boolean;
}

/** A serialisable snapshot of an optimizer (structured-clone-able; typed arrays are copies). */
export interface OptimizerStateDict {
  optimizer: string;
  state: Array<{
    step: number;
    buffers: Record<string, Float32Array>;
    touchedRows: Uint8Array | null;
    /** Per-parameter scalar state (e.g. NAdam's muProduct); always written, optional when loading. */
    scalars?: Record<string, number>;
  } | null>;
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

// ---- option checks shared by every optimizer ----
// Each names the option it rejects as `prefix + name` (e.g. "paramGroups[1]." + "lr"). The checks
// run on every group at every step, so they are kept tiny (the engine inlines them and never boxes
// the option's value) and the message is only assembled, out of line, when one fails: validating
// allocates nothing.

/** Throws RangeError for a number out of range, TypeError for a value of the wrong type. */
function reject(prefix: string, name: string, value: unknown, requirement: string, wrongType = typeof value !== "number" || Number.isNaN(value)): never {
  const ErrorType = wrongType ? TypeError : RangeError;
  throw new ErrorType(`simdopt: ${prefix}${name} must be ${requirement}, got ${String(value)}`);
}

export function checkNumber(prefix: string, name: string, value: unknown): number {
  if (typeof value !== "number" || value !== value) reject(prefix, name, value, "a number");
  return value as number;
}

export function checkNonNegative(prefix: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !(value >= 0 && value < Infinity)) reject(prefix, name, value, "a finite number ≥ 0");
}

export function checkPositive(prefix: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !(value > 0 && value < Infinity)) reject(prefix, name, value, "a finite number > 0");
}

/** A coefficient in [0, 1) (betas, alpha, rho) or, with `closed`, in [0, 1]. */
export function checkUnitInterval(prefix: string, name: string, value: unknown, closed = false): void {
  if (typeof value !== "number" || !(value >= 0 && (value < 1 || (closed && value === 1)))) {
    reject(prefix, name, value, closed ? "in [0, 1]" : "in [0, 1)");
  }
}

/** A pair [beta1, beta2], each in [0, 1). */
export function checkBetas(prefix: string, name: string, value: unknown): void {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new TypeError(`simdopt: ${prefix}${name} must be a pair [beta1, beta2], got ${String(value)}`);
  }
  const pair = value as unknown[];
  const beta1 = pair[0];
  const beta2 = pair[1];
  if (typeof beta1 !== "number" || !(beta1 >= 0 && beta1 < 1)) reject(prefix, `${name}[0]`, beta1, "in [0, 1)");
  if (typeof beta2 !== "number" || !(beta2 >= 0 && beta2 < 1)) reject(prefix, `${name}[1]`, beta2, "in [0, 1)");
}

export function checkBoolean(prefix: string, name: string, value: unknown): void {
  if (typeof value !== "boolean") reject(prefix, name, value, "a boolean", true);
}

const NO_STEP_OPTIONS: StepOptions = Object.freeze({});
const NO_NAMES: readonly string[] = Object.freeze([]);
const groupPrefixes: string[] = [];
/** "paramGroups[i]." for error messages, made once per index. */
function groupPrefix(index: number): string {
  return (groupPrefixes[index] ??= `paramGroups[${index}].`);
}

/** Masked steps: the parameter's values set aside, then the mask, in one block (one allocation). */
const scratch = new Scratch();
/** Bytes of the masked-step scratch for a parameter of `size` floats and a mask of `maskBytes`. */
function maskedScratchBytes(size: number, maskBytes: number): number {
  return Math.ceil(size / 4) * 16 + maskBytes;
}

// Group membership is checked on every step: each parameter is stamped with the check's number,
// so a parameter met twice is caught in one pass and nothing is allocated (the stamps are small
// integers; the table is replaced on the rare wrap-around so that an old stamp never matches).
let memberStamps = new WeakMap<Parameter, number>();
let memberCheck = 0;
function nextMemberCheck(): number {
  memberCheck = (memberCheck + 1) & 0x3fffffff;
  if (memberCheck === 0) {
    memberStamps = new WeakMap();
    memberCheck = 1;
  }
  return memberCheck;
}

/** A value's kind for messages: "Object", "Float32Array", "number 3", "undefined". */
function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as { constructor?: { name?: string } }).constructor?.name ?? "an object";
  return value === undefined ? "undefined" : `${typeof value} ${String(value)}`;
}

export abstract class Optimizer<Options extends object> {
  /** The groups, in order; plain objects whose options may be changed between steps. */
  readonly paramGroups: ParamGroup<Options>[] = [];
  /** The options every group starts from (PyTorch's `defaults`, with the constructor's overrides). */
  readonly defaults: Readonly<Options>;
  /** Per-parameter state, created on a parameter's first step. */
  protected readonly state = new Map<Parameter, ParamState>();
  readonly #slice: Slice = { param: 0, grad: 0, length: 0, buffers: [], firstUse: false };
  readonly #bufferBases: number[] = [];
  readonly #rowSeen = new Map<Parameter, Uint8Array>();
  #disposed = false;
  // Reused by every step (no allocation per step): per parameter in step order, whether its
  // state buffers were created by this call; what this call allocated, so that a failed
  // allocation can be undone; and the scratch the step's masks need.
  readonly #fresh: boolean[] = [];
  readonly #madeBlocks: { state: ParamState; name: string; block: F32Block }[] = [];
  readonly #madeStates: Parameter[] = [];
  #maskScratchBytes = 0;

  /**
   * @param params parameters, or groups `{ params, ...options }`
   * @param options overrides of the optimizer's defaults, for every group
   * @param defaults the optimizer's own defaults (PyTorch's)
   */
  constructor(params: Parameter[] | ParamGroupInput<Options>[], options: Partial<Options> | undefined, defaults: Options) {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new TypeError(`simdopt: ${this.constructor.name} options must be an object`);
    }
    for (const key of Object.keys(options ?? {})) {
      if (!(key in defaults)) throw new TypeError(`simdopt: ${this.constructor.name} has no option "${key}"`);
    }
    this.defaults = Object.freeze({ ...defaults, ...stripUndefined(options ?? {}) }) as Readonly<Options>;
    this.validateGroup(this.defaults as Options, "");
    if (!Array.isArray(params) || params.length === 0) {
      throw new TypeError(`simdopt: ${this.constructor.name} needs a non-empty array of parameters or parameter groups`);
    }
    const groups: ParamGroupInput<Options>[] = params.every((entry) => entry instanceof Parameter)
      ? [{ params: params as Parameter[] } as ParamGroupInput<Options>]
      : (params as ParamGroupInput<Options>[]);
    const candidate: ParamGroup<Options>[] = groups.map((group, index) => this.#makeGroup(group, index));
    const seen = new Set<Parameter>();
    for (const [index, group] of candidate.entries()) {
      for (const param of group.params) {
        if (seen.has(param)) throw new RangeError(`simdopt: parameter "${param.name}" appears in more than one group (group ${index})`);
        seen.add(param);
      }
    }
    this.paramGroups.push(...candidate);
  }

  /** Adds a group (PyTorch's add_param_group); missing options come from `defaults`. */
  addParamGroup(group: ParamGroupInput<Options>): void {
    const made = this.#makeGroup(group, this.paramGroups.length);
    for (const param of made.params) {
      if (this.paramGroups.some((existing) => existing.params.includes(param))) {
        throw new RangeError(`simdopt: parameter "${param.name}" is already in a group of this optimizer`);
      }
    }
    this.paramGroups.push(made);
  }

  #makeGroup(group: ParamGroupInput<Options>, index: number): ParamGroup<Options> {
    if (typeof group !== "object" || group === null || !Array.isArray(group.params)) {
      throw new TypeError(`simdopt: paramGroups[${index}] must be a Parameter or an object { params: Parameter[], ...options }`);
    }
    if (group.params.length === 0) throw new RangeError(`simdopt: paramGroups[${index}].params is empty`);
    group.params.forEach((param, i) => {
      if (!(param instanceof Parameter)) throw new TypeError(`simdopt: paramGroups[${index}].params[${i}] is not a Parameter`);
      if (param.disposed) throw new TypeError(`simdopt: parameter "${param.name}" has been disposed`);
    });
    if (new Set(group.params).size !== group.params.length) {
      throw new RangeError(`simdopt: paramGroups[${index}].params lists a parameter twice`);
    }
    const made = { ...this.defaults, ...stripUndefined(group), params: [...group.params] } as ParamGroup<Options>;
    this.validateGroup(made, `paramGroups[${index}].`);
    return made;
  }

  // ---- what each optimizer supplies ----

  /** Throws RangeError/TypeError naming the first bad option (`prefix` + name). */
  protected abstract validateGroup(group: Options, prefix: string): void;

  /** The state buffers a parameter of this group needs now (order = Slice.buffers order). */
  protected abstract stateBufferNames(group: ParamGroup<Options>): readonly string[];

  /** Names of per-parameter scalar state (see ParamState.scalars). Default none. */
  protected scalarStateNames(): readonly string[] {
    return NO_NAMES;
  }

  /** The value a scalar state starts with. Default 0. */
  protected initialScalarValue(_scalar: string): number {
    return 0;
  }

  #newScalars(values?: Record<string, number>): Float64Array {
    const names = this.scalarStateNames();
    const scalars = new Float64Array(names.length);
    for (let i = 0; i < names.length; i++) scalars[i] = values?.[names[i]!] ?? this.initialScalarValue(names[i]!);
    return scalars;
  }

  /** The value a new state buffer starts with. Default 0. */
  protected initialStateValue(_buffer: string, _group: ParamGroup<Options>): number {
    return 0;
  }

  /**
   * Called once per parameter per step, after the step count advanced: compute the step's
   * scalars (bias corrections, decayed lr, ...) for `update`.
   */
  protected prepareStep(_group: ParamGroup<Options>, _state: ParamState): void {}

  /** Runs the kernel on one slice (a whole parameter, or one row of it). */
  protected abstract update(slice: Slice, group: ParamGroup<Options>, state: ParamState): void;

  // ---- the public surface ----

  /**
   * One update of every parameter from its `.grad`. Returns false (changing nothing) only when
   * `skipIfNonfinite` is set and a gradient holds NaN/±Inf; otherwise true.
   */
  step(options?: StepOptions): boolean {
    this.#checkLive("step");
    const { mask, rows, skipIfNonfinite = false } = options ?? NO_STEP_OPTIONS;
    this.#checkBeforeStep(mask, rows);
    if (skipIfNonfinite && !this.#gradientsFinite(rows)) return false;
    // Everything the step needs is allocated before anything is written: running out of memory
    // leaves every parameter, buffer and step count as it was.
    this.#allocateForStep();
    let index = 0;
    for (const group of this.paramGroups) {
      const names = this.stateBufferNames(group);
      for (const param of group.params) {
        const state = this.state.get(param)!;
        this.#freshBuffers = this.#fresh[index++]!;
        // New buffers are untouched everywhere, so per-row first-use rules start over.
        if (this.#freshBuffers && state.touchedRows !== null) state.touchedRows.fill(0);
        state.step += 1;
        this.prepareStep(group, state);
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
    return true;
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
    const state: OptimizerStateDict["state"] = [];
    const paramGroups: OptimizerStateDict["paramGroups"] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const indices: number[] = [];
      for (const param of group.params) {
        const entry = this.state.get(param);
        if (entry === undefined) {
          state.push(null);
        } else {
          const buffers: Record<string, Float32Array> = {};
          for (const [name, block] of entry.buffers) buffers[name] = block.view.slice();
          const scalars: Record<string, number> = {};
          this.scalarStateNames().forEach((name, i) => { scalars[name] = entry.scalars[i]!; });
          state.push({ step: entry.step, buffers, touchedRows: entry.touchedRows?.slice() ?? null, scalars });
        }
        indices.push(index++);
      }
      const options: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(group)) {
        if (key !== "params") options[key] = Array.isArray(value) ? [...value] : value;
      }
      paramGroups.push({ ...options, params: indices });
    }
    return { optimizer: this.constructor.name, state, paramGroups };
  }

  /**
   * Restores a snapshot made by `stateDict()` of the same optimizer class over parameters of the
   * same sizes. Checks everything first: a mismatch throws and changes nothing.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    this.#checkLive("loadStateDict");
    const name = this.constructor.name;
    if (typeof stateDict !== "object" || stateDict === null || !Array.isArray(stateDict.state) || !Array.isArray(stateDict.paramGroups)) {
      throw new TypeError(`simdopt: loadStateDict expects an object made by ${name}.stateDict()`);
    }
    if (stateDict.optimizer !== name) throw new TypeError(`simdopt: this state dict belongs to ${String(stateDict.optimizer)}, not ${name}`);
    if (stateDict.paramGroups.length !== this.paramGroups.length) {
      throw new RangeError(`simdopt: state dict has ${stateDict.paramGroups.length} param groups, this optimizer has ${this.paramGroups.length}`);
    }
    const params = this.paramGroups.flatMap((group) => group.params);
    if (stateDict.state.length !== params.length) {
      throw new RangeError(`simdopt: state dict has state for ${stateDict.state.length} parameters, this optimizer has ${params.length}`);
    }
    const restoredGroups: ParamGroup<Options>[] = [];
    stateDict.paramGroups.forEach((saved, g) => {
      const group = this.paramGroups[g]!;
      if (!Array.isArray(saved.params) || saved.params.length !== group.params.length) {
        throw new RangeError(`simdopt: state dict group ${g} has ${saved.params?.length} parameters, this optimizer's has ${group.params.length}`);
      }
      const { params: _indices, ...options } = saved;
      // Copy array options (betas): the group must not share them with the caller's dict.
      for (const [key, value] of Object.entries(options)) if (Array.isArray(value)) options[key] = [...value];
      const restored = { ...group, ...options, params: group.params } as ParamGroup<Options>;
      this.validateGroup(restored, `stateDict.paramGroups[${g}].`);
      restoredGroups.push(restored);
    });
    stateDict.state.forEach((entry, i) => {
      if (entry === null) return;
      const param = params[i]!;
      if (typeof entry.step !== "number" || typeof entry.buffers !== "object" || entry.buffers === null) {
        throw new TypeError(`simdopt: state dict entry ${i} is malformed`);
      }
      for (const [buffer, values] of Object.entries(entry.buffers)) {
        if (!(values instanceof Float32Array) || values.length !== param.size) {
          throw new RangeError(`simdopt: state dict buffer "${buffer}" of parameter ${i} has ${values?.length} values, "${param.name}" has ${param.size}`);
        }
      }
      if (entry.scalars !== undefined) {
        if (typeof entry.scalars !== "object" || entry.scalars === null) throw new TypeError(`simdopt: state dict scalars of parameter ${i} must be an object`);
        for (const [scalar, value] of Object.entries(entry.scalars)) {
          if (typeof value !== "number") throw new TypeError(`simdopt: state dict scalar "${scalar}" of parameter ${i} must be a number, got ${String(value)}`);
        }
      }
      if (entry.touchedRows != null && (!(entry.touchedRows instanceof Uint8Array) || entry.touchedRows.length !== param.shape[0])) {
        throw new RangeError(`simdopt: state dict row flags of parameter ${i} do not match "${param.name}"`);
      }
    });
    // Everything checked: now write.
    restoredGroups.forEach((restored, g) => {
      const group = this.paramGroups[g]!;
      for (const key of Object.keys(group)) if (!(key in restored)) delete group[key];
      Object.assign(group, restored);
    });
    stateDict.state.forEach((entry, i) => {
      const param = params[i]!;
      this.#freeState(param);
      if (entry === null) return;
      const buffers = new Map<string, F32Block>();
      for (const [buffer, values] of Object.entries(entry.buffers)) {
        const block = new F32Block(param.size);
        block.view.set(values);
        buffers.set(buffer, block);
      }
      this.state.set(param, { step: entry.step, buffers, touchedRows: entry.touchedRows?.slice() ?? null, scalars: this.#newScalars(entry.scalars) });
    });
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
  }

  // ---- internals ----

  #freshBuffers = false;

  #freeState(param: Parameter): void {
    const entry = this.state.get(param);
    if (entry === undefined) return;
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
    try {
      let index = 0;
      for (const group of this.paramGroups) {
        const names = this.stateBufferNames(group);
        for (const param of group.params) this.#fresh[index++] = this.#ensureState(param, group, names);
      }
      // Last: once it has grown, nothing after it can fail.
      if (this.#maskScratchBytes > 0) scratch.bytes(this.#maskScratchBytes);
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
      state = { step: 0, buffers: new Map(), touchedRows: null, scalars: this.#newScalars() };
      this.state.set(param, state);
      this.#madeStates.push(param);
    }
    let fresh = false;
    for (const name of names) {
      if (!state.buffers.has(name)) {
        const block = new F32Block(param.size);
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
    slice.grad = param.gradPtr + byteOffset;
    slice.length = length;
    slice.buffers.length = names.length;
    for (let i = 0; i < names.length; i++) slice.buffers[i] = state.buffers.get(names[i]!)!.ptr + byteOffset;
  }

  #stepRows(param: Parameter, group: ParamGroup<Options>, state: ParamState, names: readonly string[], rows: Int32Array): void {
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
    bufferBases.length = slice.buffers.length;
    for (let b = 0; b < bufferBases.length; b++) bufferBases[b] = slice.buffers[b]!;
    const rowBytes = columns * 4;
    const touched = state.touchedRows;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const offset = row * rowBytes;
      slice.param = paramBase + offset;
      slice.grad = gradBase + offset;
      for (let b = 0; b < bufferBases.length; b++) slice.buffers[b] = bufferBases[b]! + offset;
      slice.firstUse = touched[row] === 0;
      touched[row] = 1;
      this.update(slice, group, state);
    }
  }

  /** The whole parameter. After row steps, rows never touched get first-use rules. */
  #stepDense(param: Parameter, group: ParamGroup<Options>, state: ParamState, names: readonly string[]): void {
    const slice = this.#slice;
    const touched = state.touchedRows;
    if (touched === null) {
      this.#fillSlice(slice, param, state, names, 0, param.size);
      slice.firstUse = this.#freshBuffers;
      this.update(slice, group, state);
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
      this.update(slice, group, state);
      row = end;
    }
    state.touchedRows = null;
  }

  #stepMasked(param: Parameter, group: ParamGroup<Options>, state: ParamState, names: readonly string[], mask: Uint8Array | Float32Array): void {
    const bytes = param.size * 4;
    // Fits: step() reserved the scratch before changing anything.
    const saved = scratch.bytes(maskedScratchBytes(param.size, mask.byteLength));
    const maskIsBytes = mask instanceof Uint8Array;
    const maskPtr = saved + Math.ceil(param.size / 4) * 16;
    // Copy the parameter aside and the mask in (reused scratch: no allocation per step).
    const heap = heapU8();
    heap.copyWithin(saved, param.dataPtr, param.dataPtr + bytes);
    if (maskIsBytes) heap.set(mask, maskPtr);
    else heapF32().set(mask, maskPtr >>> 2);
    this.#stepDense(param, group, state, names);
    kernels().restoreMaskedOut(param.dataPtr, saved, maskPtr, param.size, maskIsBytes);
  }

  /** Only the given rows of a row-stepped parameter are checked: the others are never read. */
  #gradientsFinite(rows: StepOptions["rows"]): boolean {
    const { allFinite } = kernels();
    for (const group of this.paramGroups) {
      for (const param of group.params) {
        const paramRows = rows?.get(param);
        if (paramRows === undefined) {
          if (allFinite(param.gradPtr, param.size) === 0) return false;
          continue;
        }
        const columns = param.size / param.shape[0]!;
        for (let i = 0; i < paramRows.length; i++) {
          if (allFinite(param.gradPtr + paramRows[i]! * columns * 4, columns) === 0) return false;
        }
      }
    }
    return true;
  }

  /**
   * Checks that the live groups hold only live Parameters, each once (users may push into
   * `paramGroups[i].params`); stamps each with the check's number for #checkOwnParameter.
   */
  #checkMembers(): void {
    const check = nextMemberCheck();
    for (let index = 0; index < this.paramGroups.length; index++) {
      const params: unknown = this.paramGroups[index]!.params;
      if (!Array.isArray(params)) {
        throw new TypeError(`simdopt: paramGroups[${index}].params must be an array of Parameters, got ${describeValue(params)}`);
      }
      for (let i = 0; i < params.length; i++) {
        const param: unknown = params[i];
        if (!(param instanceof Parameter)) {
          throw new TypeError(`simdopt: paramGroups[${index}].params[${i}] must be a Parameter, got ${describeValue(param)}`);
        }
        if (param.disposed) throw new TypeError(`simdopt: parameter "${param.name}" has been disposed`);
        if (memberStamps.get(param) === check) {
          throw new RangeError(`simdopt: parameter "${param.name}" appears more than once in paramGroups (again at paramGroups[${index}].params[${i}])`);
        }
        memberStamps.set(param, check);
      }
    }
  }

  /** Validates the options of every group and the step's masks and rows; throws before any write. */
  #checkBeforeStep(mask: StepOptions["mask"], rows: StepOptions["rows"]): void {
    // Plain loops and cached prefixes: step() allocates nothing, validation included.
    for (let index = 0; index < this.paramGroups.length; index++) {
      this.validateGroup(this.paramGroups[index]!, groupPrefix(index));
    }
    this.#checkMembers();
    this.#maskScratchBytes = 0;
    if (mask !== undefined) {
      if (!(mask instanceof Map)) throw new TypeError("simdopt: step({ mask }) must be a Map<Parameter, Uint8Array | Float32Array>");
      for (const [param, values] of mask) {
        this.#checkOwnParameter(param, "mask");
        if (!(values instanceof Uint8Array) && !(values instanceof Float32Array)) {
          throw new TypeError(`simdopt: mask of "${param.name}" must be a Uint8Array or Float32Array`);
        }
        if (values.length !== param.size) {
          throw new RangeError(`simdopt: mask of "${param.name}" has ${values.length} entries, the parameter has ${param.size}`);
        }
        this.#maskScratchBytes = Math.max(this.#maskScratchBytes, maskedScratchBytes(param.size, values.byteLength));
      }
    }
    if (rows !== undefined) {
      if (!(rows instanceof Map)) throw new TypeError("simdopt: step({ rows }) must be a Map<Parameter, Int32Array>");
      for (const [param, indices] of rows) {
        this.#checkOwnParameter(param, "rows");
        if (mask?.has(param)) throw new RangeError(`simdopt: "${param.name}" has both a mask and rows; give one`);
        if (!(indices instanceof Int32Array)) throw new TypeError(`simdopt: rows of "${param.name}" must be an Int32Array`);
        if (param.shape.length !== 2) {
          throw new RangeError(`simdopt: rows need a 2-D parameter, "${param.name}" has shape [${param.shape.join(", ")}]`);
        }
        const rowCount = param.shape[0]!;
        let seen = this.#rowSeen.get(param);
        if (seen === undefined) {
          seen = new Uint8Array(rowCount);
          this.#rowSeen.set(param, seen);
        }
        let bad: string | null = null;
        let i = 0;
        for (; i < indices.length; i++) {
          const row = indices[i]!;
          if (row < 0 || row >= rowCount) { bad = `row index ${row} is out of range [0, ${rowCount})`; break; }
          if (seen[row] === 1) { bad = `row index ${row} is given twice`; break; }
          seen[row] = 1;
        }
        for (let j = 0; j < i; j++) seen[indices[j]!] = 0;
        if (bad !== null) throw new RangeError(`simdopt: rows of "${param.name}": ${bad}`);
      }
    }
  }

  /** After #checkMembers: this optimizer's parameters carry the current check's stamp. */
  #checkOwnParameter(param: Parameter, what: string): void {
    if (!(param instanceof Parameter) || memberStamps.get(param) !== memberCheck) {
      throw new RangeError(`simdopt: step({ ${what} }) names a parameter this optimizer does not hold`);
    }
  }
}

function stripUndefined<T extends object>(object: T): Partial<T> {
  const result: Partial<T> = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined) (result as Record<string, unknown>)[key] = value;
  return result;
}
