// Gradient accumulation for every optimizer (optax MultiSteps): each step() adds the gradients
// into per-parameter sums; every k-th step applies their mean (the kernels read it in place of
// `.grad`) and starts over. The sums live in wasm memory and are made once.

import { kernels } from "../bindings/instance.js";
import { F32Block } from "../bindings/memory.js";
import { checkBounded, describe } from "../checks.js";
import { totalSize, type Parameter } from "../parameter.js";
import { threadHooks } from "../threads/hooks.js";

/** The accumulation part of a state dict: steps accumulated so far and the sums, per parameter in order. */
export interface AccumulationState {
  count: number;
  sums: Float32Array[];
}

export class GradientAccumulator {
  readonly k: number;
  count = 0;
  /** True while the optimizer applies the mean: slices read the sums instead of `.grad`. */
  applying = false;
  readonly #sums = new Map<Parameter, F32Block>();

  constructor(k: number) {
    this.k = k;
  }

  /** Makes the sums of parameters that have none (atomically: on failure nothing is kept). */
  allocate(params: readonly Parameter[]): void {
    // Runs on every step: the list below is made only when a sum is missing (whether an
    // allocation here is optimised away depends on the engine's inlining budget).
    let missing = false;
    for (let i = 0; i < params.length && !missing; i++) missing = !this.#sums.has(params[i]!);
    if (!missing) return;
    const made: Parameter[] = [];
    try {
      for (let i = 0; i < params.length; i++) {
        const param = params[i]!;
        if (this.#sums.has(param)) continue;
        this.#sums.set(param, new F32Block(param.size));
        made.push(param);
      }
    } catch (error) {
      for (const param of made) { this.#sums.get(param)!.free(); this.#sums.delete(param); }
      throw error;
    }
  }

  /** Adds every parameter's gradient; true when this was the k-th (the sums now hold the mean). */
  add(params: readonly Parameter[]): boolean {
    // With threads on, the sums are collected and split across them in one dispatch.
    const threads = threadHooks();
    const threaded = threads !== null && threads.beginStep(totalSize(params));
    try {
      const { accumulateGrad } = kernels();
      for (let i = 0; i < params.length; i++) {
        const param = params[i]!;
        accumulateGrad(this.#sums.get(param)!.ptr, param.gradPtr, param.size);
      }
    } finally {
      if (threaded) threads.endStep();
    }
    const { scaleInPlace } = kernels();
    this.count += 1;
    if (this.count < this.k) return false;
    for (let i = 0; i < params.length; i++) {
      const param = params[i]!;
      scaleInPlace(this.#sums.get(param)!.ptr, param.size, 1 / this.k);
    }
    return true;
  }

  /** Where the kernels read the gradient of `param` from. */
  gradPtr(param: Parameter): number {
    return this.applying ? this.#sums.get(param)!.ptr : param.gradPtr;
  }

  /** After applying: zero sums, count 0. */
  reset(params: readonly Parameter[]): void {
    for (let i = 0; i < params.length; i++) this.#sums.get(params[i]!)!.view.fill(0);
    this.count = 0;
    this.applying = false;
  }

  snapshot(params: readonly Parameter[]): AccumulationState {
    return { count: this.count, sums: params.map((param) => this.#sums.get(param)?.view.slice() ?? new Float32Array(param.size)) };
  }

  /** Throws unless `state` fits these parameters; allocates the sums (nothing is written). */
  check(state: unknown, params: readonly Parameter[]): AccumulationState {
    if (typeof state !== "object" || state === null) throw new TypeError(`simdopt: stateDict.accumulation must be an object { count, sums }, got ${describe(state)}`);
    const { count, sums } = state as Partial<AccumulationState>;
    checkBounded("stateDict.accumulation.", "count", count, { integer: true, min: 0, max: this.k - 1 });
    if (!Array.isArray(sums) || sums.length !== params.length) {
      throw new RangeError(`simdopt: stateDict.accumulation.sums must hold ${params.length} Float32Arrays, got ${describe(sums)}`);
    }
    sums.forEach((values, i) => {
      if (!(values instanceof Float32Array) || values.length !== params[i]!.size) {
        throw new RangeError(`simdopt: stateDict.accumulation.sums[${i}] must be a Float32Array of ${params[i]!.size} values, got ${describe(values)}`);
      }
    });
    this.allocate(params);
    return state as AccumulationState;
  }

  /** Writes a state that `check` accepted. */
  restore(state: AccumulationState, params: readonly Parameter[]): void {
    params.forEach((param, i) => this.#sums.get(param)!.view.set(state.sums[i]!));
    this.count = state.count;
  }

  free(): void {
    for (const block of this.#sums.values()) block.free();
    this.#sums.clear();
  }
}
