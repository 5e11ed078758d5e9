// Parameter: a float32 tensor whose values and gradient live in wasm memory, handed to users as
// zero-copy Float32Array views.

import { F32Block } from "./bindings/memory.js";
import { isInitialized, notInitialized } from "./bindings/instance.js";
import { fillInit, INIT_SCHEMES, type InitScheme } from "./weight-init.js";
import { checkInteger, describe, nearMiss, readOptions, reject } from "./checks.js";

const OPTION_KEYS = ["init", "name", "seed"] as const;

/** Options of `parameter(shape, options)`. */
export interface ParameterOptions {
  /**
   * Initial values: an `ArrayLike<number>` of the parameter's size (copied in once) or a scheme
   * name. Default `"zeros"`.
   */
  init?: ArrayLike<number> | InitScheme;
  /** A name for messages and state dicts. Default `param<N>`. */
  name?: string;
  /** Seed of the random schemes: an integer in [0, 2^32 − 1]; the same seed gives the same values. Default: random. */
  seed?: number;
}

let nextParameterId = 0;

/** Checks a shape and returns its element count. Zero, negative, fractional or non-finite dims throw. */
export function shapeSize(shape: unknown, argument = "shape"): number {
  if (!Array.isArray(shape)) throw new TypeError(`simdopt: ${argument} must be an array of dimensions, got ${describe(shape)}`);
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const dim: unknown = shape[i];
    if (typeof dim !== "number" || !Number.isInteger(dim) || dim <= 0) reject("", `${argument}[${i}]`, dim, "a positive integer", false);
    size *= dim;
  }
  if (size * 4 > 2 ** 32) throw new RangeError(`simdopt: ${argument} [${shape.join(", ")}] has ${size} elements, more than fit in wasm memory`);
  return size;
}

/** A float32 tensor whose values (`data`) and gradient (`grad`) live in wasm memory and are handed out as zero-copy `Float32Array` views; made by `parameter(shape, options)`. Optimizers update it from `grad`; `dispose()` frees it. */
export class Parameter {
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** Element count: the product of `shape`. */
  readonly size: number;
  /** A name for messages and state dicts (`options.name`, else `param<N>`). */
  readonly name: string;
  #data: F32Block | null;
  #grad: F32Block | null;

  constructor(shape: readonly number[], options: ParameterOptions = {}) {
    if (!isInitialized()) throw notInitialized();
    readOptions("parameter", options, OPTION_KEYS);
    const size = shapeSize(shape);
    const { init = "zeros", name, seed } = options;
    if (name !== undefined && typeof name !== "string") reject("parameter options.", "name", name, "a string", true);
    // The generator takes 32 bits: a larger, negative or fractional seed would silently alias another.
    if (seed !== undefined) checkInteger("parameter options.", "seed", seed, 0, 0xffffffff);
    // Validate everything before allocating, so a bad call leaves nothing behind.
    if (typeof init === "string") {
      if (!INIT_SCHEMES.includes(init)) {
        const guess = nearMiss(init, INIT_SCHEMES);
        throw new RangeError(`simdopt: unknown init "${init}"${guess === undefined ? "" : `; did you mean "${guess}"?`} Expected one of ${INIT_SCHEMES.join(", ")} or an array of values`);
      }
      if (init !== "zeros" && init !== "ones" && shape.length < 2) {
        throw new RangeError(`simdopt: init "${init}" needs a parameter with at least 2 dimensions (fan-in and fan-out), got shape [${shape.join(", ")}]`);
      }
    } else if (init === null || typeof init !== "object" || typeof (init as ArrayLike<number>).length !== "number") {
      throw new TypeError(`simdopt: parameter options.init must be an array of values or a scheme name, got ${describe(init)}`);
    } else if (init.length !== size) {
      throw new RangeError(`simdopt: init has ${init.length} values but shape [${shape.join(", ")}] needs ${size}`);
    } else if (!(init instanceof Float32Array || init instanceof Float64Array)) {
      for (let i = 0; i < init.length; i++) {
        if (typeof init[i] !== "number") reject("parameter options.", `init[${i}]`, init[i], "a number", true);
      }
    }
    this.shape = Object.freeze([...shape]);
    this.size = size;
    this.name = name ?? `param${nextParameterId++}`;
    this.#data = new F32Block(size);
    try {
      this.#grad = new F32Block(size);
    } catch (error) {
      this.#data.free();
      throw error;
    }
    if (typeof init === "string") fillInit(this.#data.view, this.shape, init, seed);
    else this.#data.view.set(init);
  }

  /** The values: a Float32Array view into wasm memory (no copy). */
  get data(): Float32Array {
    return this.#live(this.#data).view;
  }

  /** The gradient: a Float32Array view into wasm memory, zero-initialised. */
  get grad(): Float32Array {
    return this.#live(this.#grad).view;
  }

  /** True once `dispose()` has been called. */
  get disposed(): boolean {
    return this.#data === null;
  }

  /** @internal Byte offset of the values in wasm memory. */
  get dataPtr(): number {
    return this.#live(this.#data).ptr;
  }

  /** @internal Byte offset of the gradient in wasm memory. */
  get gradPtr(): number {
    return this.#live(this.#grad).ptr;
  }

  /**
   * Frees the values and gradient at once; any later use of this parameter throws, and views
   * obtained earlier must no longer be used (their bytes go to later allocations).
   *
   * A parameter dropped without `dispose()` is reclaimed by the garbage collector once neither
   * it nor a view returned by `.data`/`.grad` is reachable: a held view keeps its bytes. Arrays
   * derived from a view (`subarray()`, `new Float32Array(view.buffer, ...)`) do not: keep the
   * parameter or the view itself alive while using them.
   */
  dispose(): void {
    if (this.#data !== null) disposals++;
    this.#data?.free();
    this.#grad?.free();
    this.#data = null;
    this.#grad = null;
  }

  #live(block: F32Block | null): F32Block {
    if (block === null) throw new TypeError(`simdopt: parameter "${this.name}" has been disposed`);
    return block;
  }
}

let disposals = 0;
/** @internal How many parameters have been disposed so far: a step re-checks its parameters only when this moved. */
export function parameterDisposals(): number {
  return disposals;
}

/** @internal The elements of `params` in all. */
export function totalSize(params: readonly Parameter[]): number {
  let elements = 0;
  for (let i = 0; i < params.length; i++) elements += params[i]!.size;
  return elements;
}

/** Creates a parameter of `shape` (zeros unless `options.init` says otherwise). */
export function parameter(shape: readonly number[], options?: ParameterOptions): Parameter {
  return new Parameter(shape, options);
}
