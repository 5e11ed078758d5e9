// The types shared by the optimizer base, its row/mask step variants and the state-dict code.

import type { F32Block } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";

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

/**
 * The layout of one state buffer relative to its parameter. By default a buffer has the
 * parameter's shape and is sliced with it (a row step reads the same rows of it). Buffers of
 * another shape (per-row or per-column statistics, a per-tensor norm, a scalar) say so here.
 */
export interface StateBufferLayout {
  /** The buffer's shape from the parameter's shape; absent: the parameter's own shape. */
  readonly shape?: (paramShape: readonly number[]) => readonly number[];
  /** A fixed element count, whatever the parameter (used when `shape` is absent). */
  readonly length?: number;
  /**
   * True when element i of the buffer belongs to element i of the parameter, so that a slice
   * of the parameter (a row, a run of rows) uses the same slice of the buffer. False: every
   * slice gets the whole buffer, and row steps are refused.
   */
  readonly sliceable: boolean;
  /**
   * The element type the buffer stores (default float32): "bfloat16" (Uint16Array bit
   * patterns) or "uint8" (8-bit codes). `length`/`shape` count elements of this type.
   */
  readonly dtype?: "bfloat16" | "uint8";
}

/** A state buffer as described to tools and docs: its name and layout. */
export interface StateBufferSpec extends StateBufferLayout {
  readonly name: string;
}

/** @internal Per-parameter state: the step count and named float32 buffers in wasm memory. */
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

/** @internal The pointers of the slice being updated: a whole parameter, or one row of it. */
export interface Slice {
  param: number;
  grad: number;
  length: number;
  /** The parameter's shape (for optimizers whose state is per row or column; a row slice is part of it). */
  shape: readonly number[];
  /** Byte offsets of the state buffers, in the order of `stateBufferNames`; 0 when absent. */
  buffers: number[];
  /** True when this slice's state was just created (PyTorch's "state is empty" first step). */
  firstUse: boolean;
}

/**
 * @internal The step's scalars that `prepareStep` computes once per parameter (bias corrections, decayed
 * learning rates, ...) and `update` passes to the kernel. Each optimizer returns the same
 * Float64Array every time (filled anew), so a step allocates nothing.
 */
export type StepScalars = Float64Array;

/** A serialisable snapshot of an optimizer (structured-clone-able; typed arrays are copies). */
export interface OptimizerStateDict {
  /** The class that made it (`"AdamW"`, …): loading into another class throws. */
  optimizer: string;
  /** Per parameter, in group order: its step count, copies of its state buffers, row flags and scalar state; null for a parameter not stepped yet. */
  state: Array<{
    step: number;
    /** Float32Array, or the buffer's stored form: Uint16Array (bfloat16), Uint8Array (int8 codes). */
    buffers: Record<string, StateArray>;
    touchedRows: Uint8Array | null;
    /** Per-parameter scalar state (e.g. NAdam's muProduct); always written, optional when loading. */
    scalars?: Record<string, number>;
  } | null>;
  /** The groups' options, with `params` replaced by the parameters' indices into `state`. */
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
  /** With `accumulate` > 1: the steps accumulated since the last update and the gradient sums. */
  accumulation?: { count: number; sums: Float32Array[] };
}

/** A state buffer's contents as a state dict carries them. */
export type StateArray = Float32Array | Uint16Array | Uint8Array;

/** Which step variants an optimizer supports. */
export interface StepSupport {
  /** `step({ rows })`: needs every state buffer sliceable (see StateBufferLayout). */
  readonly rows: boolean;
  /** `step({ mask })`. */
  readonly mask: boolean;
}

/** @internal The default layout: the parameter's shape, sliced with it. */
export const PARAM_SHAPED: StateBufferLayout = Object.freeze({ sliceable: true });

/** @internal Elements of a buffer of this layout for a parameter of this shape. */
export function layoutLength(layout: StateBufferLayout, param: Parameter): number {
  if (layout.shape !== undefined) {
    const shape = layout.shape(param.shape);
    let size = 1;
    for (let i = 0; i < shape.length; i++) size *= shape[i]!;
    return size;
  }
  return layout.length ?? param.size;
}

