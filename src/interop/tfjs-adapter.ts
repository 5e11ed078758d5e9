// The TensorFlow.js adapter's machinery: copying between tensors and Parameters on each backend,
// which variable is which Parameter, one simdopt step between copy-in and write-back, the
// optimizer state as named tensors (getWeights / setWeights), option-key checks and the config a
// saved model carries.

import { clipGradNorm } from "../optim/clip.js";
import type { Optimizer, OptimizerStateDict } from "../optim/optimizer.js";
import { Parameter } from "../parameter.js";

// ---- copies between tensors and Parameters ----
// tfjs is never imported: everything goes through the `tf` namespace the caller passed, and the
// backends are recognised by what they hold, not by name.
// - tfjs-backend-cpu keeps each tensor's values as a JS typed array in `backend.data`
//   (a DataStorage keyed by the tensor's dataId): read it and write it directly.
// - tfjs-backend-wasm keeps them in its own wasm heap: `backend.dataIdMap.get(dataId).memoryOffset`
//   is the byte offset in `backend.wasm.HEAPU8` — one memcpy each way, no tensor made. Its
//   matmul, conv2d and prelu kernels cache XNNPACK operators holding a packed copy of the weights,
//   keyed by the weight tensor's id and dropped when that id is disposed (backend.cc
//   dispose_data). A value written in place would leave them computing with the old weights, so
//   after each write the id is disposed and registered again at the same memory (what a new
//   tensor per step, as tfjs's own optimizers make, costs in repacking anyway).
// - Anything else (WebGL, WebGPU, the Node binding, data still on another backend) goes through
//   the public API: `dataSync()` to read, `assign()` of a freshly made tensor to write. That costs
//   a readback and an upload per variable per step.
//
// In-place writes are only made into data this module created itself and that no other tensor
// shares (refCount 1): a tensor made from a caller's array may alias that array on the cpu
// backend, and `tf.clone(v)` shares v's dataId, so writing into either would change what the
// caller holds.

/** @internal The parts of a tfjs tensor used here. */
export interface TfTensor {
  readonly dataId: object;
  readonly shape: number[];
  readonly dtype: string;
  readonly size: number;
  dataSync(): ArrayLike<number>;
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}

/** @internal The parts of a tfjs variable used here. */
export interface TfVariable extends TfTensor {
  readonly name: string;
  assign(value: TfTensor): void;
}

/** @internal The parts of the tfjs namespace used here (checked when it is passed in). */
export interface Tf {
  Optimizer: abstract new () => object;
  engine(): { registeredVariables: Record<string, TfVariable> };
  backend(): unknown;
  tensor(values: Float32Array | Int32Array, shape?: number[], dtype?: string): TfTensor;
  keep<T>(tensor: T): T;
  serialization: { registerClass(cls: unknown): unknown };
}

interface DataStorage<T> { get(dataId: object): T | undefined }
interface CpuBackend { data: DataStorage<{ values?: unknown }>; refCount(dataId: object): number }
interface WasmBackend {
  dataIdMap: DataStorage<{ id: number; memoryOffset: number | null }>;
  wasm: {
    HEAPU8: Uint8Array;
    tfjs: { disposeData(id: number): void; registerTensor(id: number, size: number, memoryOffset: number): void };
  };
  refCount(dataId: object): number;
}

/** "cpu" or "wasm" when the backend's storage can be reached (wasm: with its re-register hooks). */
function kindOf(backend: unknown): "cpu" | "wasm" | null {
  const b = backend as Partial<CpuBackend & WasmBackend> | null;
  if (typeof b?.refCount !== "function") return null;
  if (typeof b.dataIdMap?.get === "function" && b.wasm?.HEAPU8 instanceof Uint8Array
    && typeof b.wasm.tfjs?.disposeData === "function" && typeof b.wasm.tfjs.registerTensor === "function") return "wasm";
  return typeof b.data?.get === "function" ? "cpu" : null;
}

/**
 * @internal
 * Copies between tensors and Float32Arrays with the fastest route the current backend allows.
 * Asks `tf.backend()` on every call because the caller may switch backends.
 */
export class TensorCopier {
  constructor(private readonly tf: Tf) {}

  /** A Float32Array over the tensor's own storage (no copy), or null when that is not possible. */
  #storage(tensor: TfTensor, backend: unknown, kind: "cpu" | "wasm" | null): Float32Array | null {
    if (kind === "cpu") {
      const values = (backend as CpuBackend).data.get(tensor.dataId)?.values;
      return values instanceof Float32Array && values.length === tensor.size ? values : null;
    }
    const offset = kind === "wasm" ? (backend as WasmBackend).dataIdMap.get(tensor.dataId)?.memoryOffset : null;
    if (typeof offset !== "number" || offset % 4 !== 0) return null;
    const heap = (backend as WasmBackend).wasm.HEAPU8;
    return offset + tensor.size * 4 <= heap.byteLength ? new Float32Array(heap.buffer, heap.byteOffset + offset, tensor.size) : null;
  }

  /** Copies a float32 tensor's values into `target` (same length). */
  read(tensor: TfTensor, target: Float32Array): void {
    const backend = this.tf.backend();
    target.set(this.#storage(tensor, backend, kindOf(backend)) ?? tensor.dataSync());
  }

  /**
   * Writes `values` into the variable. In place when `owned` is the variable's dataId and nothing
   * else shares it; otherwise assigns a tensor made from a copy of `values`. Returns the dataId
   * the variable now has (the caller's `owned` for the next write).
   */
  write(variable: TfVariable, values: Float32Array, owned: object | null): object {
    const backend = this.tf.backend();
    const kind = kindOf(backend);
    const storage = variable.dataId === owned && kind !== null && (backend as CpuBackend).refCount(owned) === 1
      ? this.#storage(variable, backend, kind) : null;
    if (storage !== null) {
      storage.set(values);
      if (kind === "wasm") {
        // Drops the kernels' cached packed weights (see the top of this file).
        const { tfjs } = (backend as WasmBackend).wasm;
        const info = (backend as WasmBackend).dataIdMap.get(variable.dataId)!;
        tfjs.disposeData(info.id);
        tfjs.registerTensor(info.id, variable.size, info.memoryOffset!);
      }
      return owned!;
    }
    // A copy: the cpu backend keeps the array it is given, and simdopt memory must never end up
    // inside a tensor (the next step would change it behind tfjs's back).
    const fresh = this.tf.tensor(values.slice(), variable.shape, "float32");
    variable.assign(fresh);
    fresh.dispose();
    return variable.dataId;
  }
}

/** A variable that has joined: its Parameter and the dataId last written by the adapter. */
interface Slot {
  variable: TfVariable;
  param: Parameter;
  group: number;
  /** The dataId the adapter wrote last; another one means the value was changed outside. */
  owned: object | null;
}

/** @internal Per-variable state as carried by getWeights/setWeights, before it is loaded. */
export interface SavedState {
  name: string;
  step: number;
  buffers: Record<string, Float32Array>;
  scalars: Record<string, number>;
  /** The shape the buffers were saved with (the variable's shape once it has joined). */
  shape?: number[];
}

/** @internal */
export interface AdapterSettings {
  noDecay: RegExp | null;
  clipGradNorm: number | null;
}

/**
 * @internal
 * Holds the simdopt optimizer whose groups exist from the start (empty until variables join),
 * so schedulers can be built on it before the first step.
 */
export class AdapterState {
  readonly slots: Slot[] = [];
  readonly #byVariable = new Map<TfVariable, Slot>();
  /** State from setWeights for positions whose variables have not joined yet. */
  readonly #pending = new Map<number, SavedState>();
  readonly #copier: TensorCopier;
  // Reused every step, so a step allocates no arrays of its own.
  readonly #stepSlots: Slot[] = [];
  readonly #stepParams: Parameter[] = [];
  readonly #groupParams: Parameter[][];
  disposed = false;

  constructor(readonly tf: Tf, readonly optimizer: Optimizer<object>, readonly settings: AdapterSettings) {
    this.#copier = new TensorCopier(tf);
    this.#groupParams = optimizer.paramGroups.map((group) => group.params);
  }

  parameterOf(variable: TfVariable): Parameter | undefined {
    return this.#byVariable.get(variable)?.param;
  }

  /**
   * One step from (variable, gradient) pairs. Everything is checked before anything changes;
   * variables seen for the first time join (a Parameter initialised from the variable's value).
   */
  apply(pairs: Array<{ variable: TfVariable; gradient: TfTensor }>): void {
    if (this.disposed) throw new TypeError("simdopt: this tfjs optimizer has been disposed");
    const joining: Slot[] = [];
    try {
      for (const { variable } of pairs) {
        if (this.#byVariable.has(variable) || joining.some((slot) => slot.variable === variable)) continue;
        const group = this.settings.noDecay !== null && this.settings.noDecay.test(variable.name) ? 1 : 0;
        const param = new Parameter(variable.shape.length === 0 ? [1] : variable.shape, { name: variable.name });
        joining.push({ variable, param, group, owned: null });
        // State waiting from setWeights must fit before the variable may join.
        const position = this.slots.length + joining.length - 1;
        const state = this.#pending.get(position);
        if (state !== undefined) checkSizes(state, param, position);
      }
    } catch (error) {
      for (const slot of joining) slot.param.dispose();
      throw error;
    }
    // Committed: the new slots join their groups (state from setWeights is loaded as they do).
    for (const slot of joining) {
      this.#groupParams[slot.group]!.push(slot.param);
      this.#byVariable.set(slot.variable, slot);
      this.slots.push(slot);
    }
    if (joining.length > 0 && this.#pending.size > 0) this.#loadPending(false);

    const stepSlots = this.#stepSlots;
    const stepParams = this.#stepParams;
    stepSlots.length = 0;
    stepParams.length = 0;
    for (const { variable, gradient } of pairs) {
      const slot = this.#byVariable.get(variable)!;
      // A value changed outside (assign, setWeights, loadWeights) gives the variable a new dataId.
      if (variable.dataId !== slot.owned) this.#copier.read(variable, slot.param.data);
      this.#copier.read(gradient, slot.param.grad);
      stepSlots.push(slot);
      stepParams.push(slot.param);
    }
    if (this.settings.clipGradNorm !== null) clipGradNorm(stepParams, this.settings.clipGradNorm);
    this.#stepOnly(stepSlots);
    for (const slot of stepSlots) slot.owned = this.#copier.write(slot.variable, slot.param.data, slot.owned);
  }

  /** Steps only the given slots' parameters (variables without a gradient this call keep still). */
  #stepOnly(stepSlots: Slot[]): void {
    const groups = this.optimizer.paramGroups;
    if (stepSlots.length === this.slots.length) {
      this.optimizer.step();
      return;
    }
    const subsets = this.#groupParams.map(() => [] as Parameter[]);
    for (const slot of stepSlots) subsets[slot.group]!.push(slot.param);
    try {
      groups.forEach((group, g) => { group.params = subsets[g]!; });
      this.optimizer.step();
    } finally {
      groups.forEach((group, g) => { group.params = this.#groupParams[g]!; });
    }
  }

  /** Per-variable state in join order; positions still pending from setWeights included. */
  savedStates(): SavedState[] {
    const dict = this.optimizer.stateDict();
    const saved: SavedState[] = [];
    const count = Math.max(this.slots.length, ...[...this.#pending.keys()].map((i) => i + 1));
    for (let i = 0; i < count; i++) {
      const slot = this.slots[i];
      if (slot === undefined) {
        saved.push(this.#pending.get(i)!);
        continue;
      }
      const entry = dict.state[this.#flatIndex(slot)];
      saved.push(entry == null
        ? { name: slot.variable.name, step: 0, buffers: {}, scalars: {} }
        : { name: slot.variable.name, step: entry.step, buffers: float32Buffers(entry.buffers), scalars: entry.scalars ?? {}, shape: slot.variable.shape });
    }
    return saved;
  }

  /**
   * Replaces the state: position i goes to the i-th variable to join (as tfjs's own optimizers
   * match state to variables by position). Sizes of joined variables are checked first.
   */
  restore(states: SavedState[]): void {
    states.forEach((state, i) => { if (i < this.slots.length) checkSizes(state, this.slots[i]!.param, i); });
    this.#pending.clear();
    states.forEach((state, i) => this.#pending.set(i, state));
    this.#loadPending(true);
  }

  /**
   * Loads pending state into the variables that have joined (sizes were checked before they
   * joined); with `all`, joined variables without pending state start afresh.
   */
  #loadPending(all: boolean): void {
    const dict: OptimizerStateDict = this.optimizer.stateDict();
    this.slots.forEach((slot, i) => {
      const state = this.#pending.get(i);
      if (state === undefined && !all) return;
      dict.state[this.#flatIndex(slot)] = state === undefined || state.step === 0 ? null
        : { step: state.step, buffers: state.buffers, touchedRows: null, scalars: state.scalars };
      this.#pending.delete(i);
    });
    this.optimizer.loadStateDict(dict);
  }

  /** The slot's index in the optimizer's state dict (parameters numbered across groups). */
  #flatIndex(slot: Slot): number {
    let index = 0;
    for (let g = 0; g < slot.group; g++) index += this.#groupParams[g]!.length;
    return index + this.#groupParams[slot.group]!.indexOf(slot.param);
  }

  dispose(): void {
    if (this.disposed) return;
    this.optimizer.dispose();
    for (const slot of this.slots) slot.param.dispose();
    for (const params of this.#groupParams) params.length = 0;
    this.slots.length = 0;
    this.#byVariable.clear();
    this.#pending.clear();
    this.disposed = true;
  }
}

/** tfjs weights are float32 tensors: reduced-precision state (stateDtype) has no place there. */
function float32Buffers(buffers: Record<string, Float32Array | Uint16Array | Uint8Array>): Record<string, Float32Array> {
  for (const [name, values] of Object.entries(buffers)) {
    if (!(values instanceof Float32Array)) throw new TypeError(`simdopt: getWeights saves float32 state only; state "${name}" is a ${values.constructor.name} (use stateDtype "float32" with tfjs)`);
  }
  return buffers as Record<string, Float32Array>;
}

function checkSizes(state: SavedState, param: Parameter, position: number): void {
  for (const [name, values] of Object.entries(state.buffers)) {
    if (values.length !== param.size) {
      throw new RangeError(`simdopt: setWeights: state "${state.name}/${name}" (position ${position}) has ${values.length} values, variable "${param.name}" has ${param.size}`);
    }
  }
}

/** @internal Throws TypeError for a non-object or a key not in `allowed`, with a "did you mean" hint. */
export function checkOptionKeys(what: string, options: unknown, allowed: readonly string[]): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`simdopt: ${what} must be an object, got ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((name) => name.toLowerCase() === key.toLowerCase().replace(/_/g, "") || editDistanceAtMostOne(name, key));
    throw new TypeError(`simdopt: ${what} has no option "${key}"${near === undefined ? "" : ` (did you mean "${near}"?)`}; allowed: ${allowed.join(", ")}`);
  }
}

function editDistanceAtMostOne(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const restA = a.slice(i);
  const restB = b.slice(i);
  return restA.slice(1) === restB.slice(1) || restA === restB.slice(1) || restA.slice(1) === restB;
}

// tfjs-layers rewrites every string of a loaded training config from snake_case to camelCase
// (convertPythonicToTs), which would mangle a RegExp source or an option value such as
// "match_rms_adamw". The config therefore travels as one JSON string with "_" and "%"
// percent-encoded, which that conversion leaves alone.

/** @internal */
export function encodeConfig(config: object): string {
  return JSON.stringify(config).replace(/[%_]/g, (c) => (c === "%" ? "%25" : "%5F"));
}

/** @internal */
export function decodeConfig(config: Record<string, unknown>): unknown {
  const text = config["simdopt"];
  if (typeof text !== "string") throw new TypeError("simdopt: the optimizer config has no simdopt entry (was it saved by simdopt/tfjs?)");
  return JSON.parse(text.replace(/%5F|%25/g, (code) => (code === "%5F" ? "_" : "%")));
}
