// The tfjs-independent half of the TensorFlow.js adapter: which variable is which Parameter,
// copying gradients in and values out around one simdopt step, and the optimizer state as named
// tensors (getWeights / setWeights).

import { clipGradNorm } from "../optim/clip.js";
import type { Optimizer, OptimizerStateDict } from "../optim/optimizer.js";
import { Parameter } from "../parameter.js";
import { TensorCopier, type TfNamespace, type TfTensor, type TfVariable } from "./tfjs-backend.js";

/** A variable that has joined: its Parameter and the dataId last written by the adapter. */
interface Slot {
  variable: TfVariable;
  param: Parameter;
  group: number;
  /** The dataId the adapter wrote last; another one means the value was changed outside. */
  owned: object | null;
}

/** Per-variable state as carried by getWeights/setWeights, before it is loaded. */
export interface SavedState {
  name: string;
  step: number;
  buffers: Record<string, Float32Array>;
  scalars: Record<string, number>;
  /** The shape the buffers were saved with (the variable's shape once it has joined). */
  shape?: number[];
}

export interface AdapterSettings {
  noDecay: RegExp | null;
  clipGradNorm: number | null;
}

/**
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

  constructor(readonly tf: TfNamespace, readonly optimizer: Optimizer<object>, readonly settings: AdapterSettings) {
    this.#copier = new TensorCopier(tf);
    this.#groupParams = optimizer.paramGroups.map((group) => group.params);
  }

  /** "cpu", "wasm" or "public": how values move on the current backend. */
  get route(): string {
    return this.#copier.route;
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
    if (joining.length > 0) this.#loadPending();

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
        : { name: slot.variable.name, step: entry.step, buffers: entry.buffers, scalars: entry.scalars ?? {}, shape: slot.variable.shape });
    }
    return saved;
  }

  /**
   * Replaces the state: position i goes to the i-th variable to join (as tfjs's own optimizers
   * match state to variables by position). Sizes of joined variables are checked first.
   */
  restore(states: SavedState[]): void {
    states.forEach((state, i) => {
      const slot = this.slots[i];
      if (slot !== undefined) checkSizes(state, slot.param, i);
    });
    this.#pending.clear();
    states.forEach((state, i) => { if (i >= this.slots.length) this.#pending.set(i, state); });
    const dict = this.optimizer.stateDict();
    this.slots.forEach((slot, i) => {
      const state = states[i];
      dict.state[this.#flatIndex(slot)] = state === undefined || state.step === 0 ? null
        : { step: state.step, buffers: state.buffers, touchedRows: null, scalars: state.scalars };
    });
    this.optimizer.loadStateDict(dict);
  }

  #loadPending(): void {
    const ready = [...this.#pending.keys()].filter((i) => i < this.slots.length);
    if (ready.length === 0) return;
    // Checked before any of it is taken: a mismatch leaves the pending state where it was.
    for (const i of ready) checkSizes(this.#pending.get(i)!, this.slots[i]!.param, i);
    const dict: OptimizerStateDict = this.optimizer.stateDict();
    for (const i of ready) {
      const state = this.#pending.get(i)!;
      if (state.step > 0) {
        dict.state[this.#flatIndex(this.slots[i]!)] = { step: state.step, buffers: state.buffers, touchedRows: null, scalars: state.scalars };
      }
      this.#pending.delete(i);
    }
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

function checkSizes(state: SavedState, param: Parameter, position: number): void {
  for (const [name, values] of Object.entries(state.buffers)) {
    if (values.length !== param.size) {
      throw new RangeError(`simdopt: setWeights: state "${state.name}/${name}" (position ${position}) has ${values.length} values, variable "${param.name}" has ${param.size}`);
    }
  }
}
