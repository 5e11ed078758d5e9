// Bring your own arrays: Parameters that mirror Float32Arrays the caller keeps.
//
// A model whose weights and gradients already live in plain Float32Arrays has two ways in:
// - move them into simdopt once (`parameter(shape, { init: weights })`, then use `p.data` and
//   `p.grad` as the arrays from then on): no copies at all;
// - keep them and mirror them: `mirror([{ data, grad }])` makes a Parameter per pair, and
//   `m.step(optimizer)` copies values and gradients in, steps, and copies values out (three
//   memcpys per step, no allocation). The optimizer itself is untouched: it sees Parameters.

import { Parameter } from "./parameter.js";
import type { StepOptions } from "./optim/optimizer.js";

/** One array pair to mirror: the values and the gradient, of equal length. */
export interface MirrorPair {
  /** The values, updated in place after each step. */
  data: Float32Array;
  /** The gradient, read before each step. */
  grad: Float32Array;
  /** Shape of the parameter (default `[data.length]`); matters to optimizers that look at it. */
  shape?: readonly number[];
  /** A name for messages and state dicts. Default `param<N>`. */
  name?: string;
}

/** Anything with PyTorch's `step()`: simdopt's optimizers. */
export interface Steppable {
  /** One optimizer step (see `Optimizer.step`). */
  step(options?: StepOptions): boolean;
}

/** Parameters mirroring caller-owned Float32Arrays: `step(optimizer)` copies in, steps, copies out. */
export class Mirror {
  /** One Parameter per pair, in order: give these to an optimizer. */
  readonly params: readonly Parameter[];
  readonly #pairs: readonly MirrorPair[];

  constructor(pairs: readonly MirrorPair[]) {
    if (!Array.isArray(pairs) || pairs.length === 0) {
      throw new TypeError("simdopt: mirror needs a non-empty array of { data, grad } pairs");
    }
    pairs.forEach((pair, i) => {
      if (typeof pair !== "object" || pair === null) throw new TypeError(`simdopt: mirror pairs[${i}] must be { data, grad }, got ${String(pair)}`);
      for (const key of Object.keys(pair)) {
        if (!["data", "grad", "shape", "name"].includes(key)) throw new TypeError(`simdopt: mirror pairs[${i}] has no option "${key}"; allowed: data, grad, shape, name`);
      }
      if (!(pair.data instanceof Float32Array)) throw new TypeError(`simdopt: mirror pairs[${i}].data must be a Float32Array`);
      if (!(pair.grad instanceof Float32Array)) throw new TypeError(`simdopt: mirror pairs[${i}].grad must be a Float32Array`);
      if (pair.grad.length !== pair.data.length) {
        throw new RangeError(`simdopt: mirror pairs[${i}].grad has ${pair.grad.length} values, .data has ${pair.data.length}`);
      }
      if (pair.shape !== undefined && (!Array.isArray(pair.shape) || pair.shape.reduce((a: number, b: number) => a * b, 1) !== pair.data.length)) {
        throw new RangeError(`simdopt: mirror pairs[${i}].shape [${String(pair.shape)}] does not hold ${pair.data.length} values`);
      }
    });
    const params: Parameter[] = [];
    try {
      for (const pair of pairs) params.push(new Parameter(pair.shape ?? [pair.data.length], { init: pair.data, name: pair.name }));
    } catch (error) {
      for (const param of params) param.dispose();
      throw error;
    }
    this.params = Object.freeze(params);
    this.#pairs = Object.freeze(pairs.map((pair) => ({ ...pair })));
  }

  /** Copies every pair's values and gradient into its Parameter. */
  pull(): void {
    for (let i = 0; i < this.#pairs.length; i++) {
      const pair = this.#pairs[i]!;
      const param = this.params[i]!;
      param.data.set(pair.data);
      param.grad.set(pair.grad);
    }
  }

  /** Copies every Parameter's values back into its pair's `data`. */
  push(): void {
    for (let i = 0; i < this.#pairs.length; i++) this.#pairs[i]!.data.set(this.params[i]!.data);
  }

  /** `pull()`, `optimizer.step(options)`, `push()`; returns what the step returned. */
  step(optimizer: Steppable, options?: StepOptions): boolean {
    if (typeof optimizer !== "object" || optimizer === null || typeof optimizer.step !== "function") {
      throw new TypeError(`simdopt: Mirror.step needs an optimizer, got ${String(optimizer)}`);
    }
    this.pull();
    const stepped = optimizer.step(options);
    this.push();
    return stepped;
  }

  /** Frees the Parameters (the caller's arrays stay as they are). */
  dispose(): void {
    for (const param of this.params) param.dispose();
  }
}

/** Parameters mirroring the given `{ data, grad }` arrays; `m.step(optimizer)` copies in, steps, copies out. */
export function mirror(pairs: readonly MirrorPair[]): Mirror {
  return new Mirror(pairs);
}
