// Exponential moving average of weights, as torch.optim.swa_utils.AveragedModel with
// get_ema_multi_avg_fn(decay): the first update() copies the parameters, each later one moves
// the averages toward them by (1 − decay). Averages live in wasm memory beside the parameters.

import { kernels } from "../bindings/instance.js";
import { F32Block, stepScalars } from "../bindings/memory.js";
import { checkBounded, checkObject, checkOptionKeys, describe } from "../checks.js";
import { Parameter, totalSize } from "../parameter.js";
import { threadHooks } from "../threads/hooks.js";

/** Options of EMA. */
export interface EMAOptions {
  /** Weight of the old average in each update, in [0, 1]. Default 0.999. */
  decay: number;
}

/** A serialisable snapshot of an EMA (typed arrays are copies). */
export interface EMAStateDict {
  /** Always "EMA": loading anything else throws. */
  kind: "EMA";
  /** The decay it was made with (for the record: loading keeps the loading EMA's own decay). */
  decay: number;
  /** How many update() calls have been averaged (0: none yet, the next one copies). */
  nAveraged: number;
  /** The averages, one per parameter, in order. */
  averages: Float32Array[];
}

const OPTION_KEYS = ["decay"] as const;

/** Exponential moving average of parameters: update(), swap() for evaluation, copyTo(). */
export class EMA {
  /** The averaged parameters, in order. */
  readonly params: readonly Parameter[];
  /** Weight of the old average in each update. */
  readonly decay: number;
  #averages: F32Block[] = [];
  #nAveraged = 0;
  #swapped = false;
  #disposed = false;

  constructor(params: Parameter[], options?: Partial<EMAOptions>) {
    checkObject("EMA options", options);
    if (options !== undefined) checkOptionKeys(options, OPTION_KEYS, "EMA options");
    this.decay = checkBounded("EMA options.", "decay", options?.decay ?? 0.999, { min: 0, max: 1 });
    if (!Array.isArray(params) || params.length === 0) throw new TypeError("simdopt: EMA needs a non-empty array of parameters");
    params.forEach((param, i) => {
      if (!(param instanceof Parameter)) throw new TypeError(`simdopt: EMA params[${i}] must be a Parameter, got ${describe(param)}`);
      if (param.disposed) throw new TypeError(`simdopt: parameter "${param.name}" has been disposed`);
    });
    if (new Set(params).size !== params.length) throw new RangeError("simdopt: EMA params lists a parameter twice");
    this.params = Object.freeze([...params]);
    const made: F32Block[] = [];
    try {
      for (const param of params) made.push(new F32Block(param.size));
    } catch (error) {
      for (const block of made) block.free();
      throw error;
    }
    this.#averages = made;
  }

  /** How many updates the averages hold. */
  get nAveraged(): number {
    return this.#nAveraged;
  }

  /** Folds the current parameters into the averages (the first call copies them). */
  update(): void {
    this.#check("update");
    if (this.#swapped) throw new Error("simdopt: EMA.update() while swapped: call swap() again to put the trained weights back first");
    // With threads on, the calls are collected and split across them in one dispatch.
    const threads = threadHooks();
    const threaded = threads !== null && threads.beginStep(totalSize(this.params));
    try {
      const { emaUpdate } = kernels();
      // decay 0 copies: the same as PyTorch's first call (n_averaged == 0).
      stepScalars()[0] = this.#nAveraged === 0 ? 0 : this.decay;
      for (let i = 0; i < this.params.length; i++) {
        const param = this.params[i]!;
        emaUpdate(this.#averages[i]!.ptr, param.dataPtr, param.size);
      }
    } finally {
      if (threaded) threads.endStep();
    }
    this.#nAveraged += 1;
  }

  /** Exchanges parameters and averages in place (evaluate with the averages, then swap back). */
  swap(): void {
    this.#check("swap");
    if (this.#nAveraged === 0) throw new Error("simdopt: EMA.swap() before the first update(): there are no averages yet");
    const { swapF32 } = kernels();
    for (let i = 0; i < this.params.length; i++) swapF32(this.params[i]!.dataPtr, this.#averages[i]!.ptr, this.params[i]!.size);
    this.#swapped = !this.#swapped;
  }

  /** Copies the averages into `params` (parameters of the same sizes, in order). */
  copyTo(params: Parameter[]): void {
    this.#check("copyTo");
    if (this.#nAveraged === 0) throw new Error("simdopt: EMA.copyTo() before the first update(): there are no averages yet");
    if (!Array.isArray(params) || params.length !== this.params.length) {
      throw new RangeError(`simdopt: EMA.copyTo needs ${this.params.length} parameters, got ${describe(params)}`);
    }
    params.forEach((param, i) => {
      if (!(param instanceof Parameter) || param.disposed) throw new TypeError(`simdopt: EMA.copyTo params[${i}] must be a live Parameter`);
      if (param.size !== this.params[i]!.size) throw new RangeError(`simdopt: EMA.copyTo params[${i}] has ${param.size} elements, the average has ${this.params[i]!.size}`);
    });
    params.forEach((param, i) => param.data.set(this.#averageView(i)));
  }

  /** A snapshot (not while swapped: the averages are then in the parameters). */
  stateDict(): EMAStateDict {
    this.#check("stateDict");
    if (this.#swapped) throw new Error("simdopt: EMA.stateDict() while swapped: swap() back first");
    return { kind: "EMA", decay: this.decay, nAveraged: this.#nAveraged, averages: this.params.map((_, i) => this.#averageView(i).slice()) };
  }

  /** Restores a snapshot of an EMA over parameters of the same sizes; checks everything first. */
  loadStateDict(state: EMAStateDict): void {
    this.#check("loadStateDict");
    if (this.#swapped) throw new Error("simdopt: EMA.loadStateDict() while swapped: swap() back first");
    if (typeof state !== "object" || state === null || state.kind !== "EMA") {
      throw new TypeError(`simdopt: EMA.loadStateDict expects an object made by EMA.stateDict(), got ${describe(state)}`);
    }
    const nAveraged = checkBounded("stateDict.", "nAveraged", state.nAveraged, { integer: true, min: 0 });
    if (!Array.isArray(state.averages) || state.averages.length !== this.params.length) {
      throw new RangeError(`simdopt: stateDict.averages must hold ${this.params.length} Float32Arrays, got ${describe(state.averages)}`);
    }
    state.averages.forEach((values, i) => {
      if (!(values instanceof Float32Array)) throw new TypeError(`simdopt: stateDict.averages[${i}] must be a Float32Array, got ${describe(values)}`);
      if (values.length !== this.params[i]!.size) throw new RangeError(`simdopt: stateDict.averages[${i}] has ${values.length} values, parameter "${this.params[i]!.name}" has ${this.params[i]!.size}`);
    });
    state.averages.forEach((values, i) => this.#averageView(i).set(values));
    this.#nAveraged = nAveraged;
  }

  /** Frees the averages; later calls throw. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const block of this.#averages) block.free();
    this.#averages = [];
  }

  #averageView(i: number): Float32Array {
    return this.#averages[i]!.view;
  }

  #check(method: string): void {
    if (this.#disposed) throw new Error(`simdopt: EMA.${method}() after dispose()`);
  }
}
