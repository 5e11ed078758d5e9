// fitScaler / applyScaler / invertScaler: per-feature scaling over the last axis, with the
// kernels of assembly/ops/scaler.ts. Arrays that are views into wasm memory (Parameter.data,
// ...) are used in place; other Float32Arrays are staged through reused scratch.

import { kernels } from "../bindings/instance.js";
import { heapF32 } from "../bindings/memory.js";
import { Staging } from "../ops/staging.js";
import { scalerExpand, scalerFinishMinMax, scalerFinishStandard } from "./scaler-fold.js";
import { shapeSize } from "../parameter.js";
import { checkChoice, describe, readOptions } from "../checks.js";

/** What a scaler holds: y = (x − offset)/scale, one entry per feature (the last axis). */
export interface Scaler {
  /** Subtracted from each feature first (the mean, or the minimum). */
  offset: ArrayLike<number>;
  /** What each feature is then divided by (the standard deviation, or max − min; 1 for a constant feature). */
  scale: ArrayLike<number>;
}

/** A fitted scaler: Float32Arrays owned by the caller. */
export interface FittedScaler extends Scaler {
  /** One offset per feature. */
  offset: Float32Array;
  /** One scale per feature. */
  scale: Float32Array;
}

/** How `fitScaler` measures each feature: mean and population std, or minimum and range. */
export type ScalerKind = "standard" | "minmax";

/** Options of `fitScaler`. */
export interface FitScalerOptions {
  /** "standard": offset = mean, scale = population std (ddof 0); "minmax": offset = min, scale = max − min. Default "standard". */
  kind?: ScalerKind;
}

/** Options of `applyScaler` and `invertScaler`. */
export interface ApplyScalerOptions {
  /** Receives the result (length = x.length). Default: x itself (in place). */
  out?: Float32Array;
}

const KINDS = ["standard", "minmax"] as const;
const FIT_KEYS = ["kind"] as const;
const APPLY_KEYS = ["out"] as const;
const staging = new Staging();

interface Geometry { total: number; channels: number; period: number }

function geometry(fn: string, x: unknown, shape: unknown): Geometry {
  if (!(x instanceof Float32Array)) throw new TypeError(`simdopt: ${fn}: x must be a Float32Array, got ${describe(x)}`);
  const size = shapeSize(shape, "shape");
  const dims = shape as number[];
  if (dims.length === 0) throw new RangeError(`simdopt: ${fn}: shape must have at least 1 dimension, got []`);
  if (size !== x.length) throw new RangeError(`simdopt: ${fn}: x has ${x.length} elements but shape [${dims.join(", ")}] needs ${size}`);
  // A 1-D shape [n] is one feature with n samples.
  const channels = dims.length === 1 ? 1 : dims[dims.length - 1]!;
  const period = channels % 4 === 0 ? channels : channels % 2 === 0 ? 2 * channels : 4 * channels;
  return { total: size, channels, period };
}

function stagedCommit(fn: string, stage: Staging, outSlot: number, xSlot: number): void {
  try {
    stage.separate(fn, outSlot, xSlot);
    stage.commit();
  } catch (error) {
    stage.reset();
    throw error;
  }
}

/**
 * Per-feature statistics of x (shape [..., C]; [n] is one feature): `{ offset, scale }` with
 * y = (x − offset)/scale. Constant features get scale 1. Statistics are accumulated in f64.
 */
export function fitScaler(x: Float32Array, shape: readonly number[], options?: FitScalerOptions): FittedScaler {
  const fn = "fitScaler";
  const opts = readOptions(fn, options, FIT_KEYS);
  const kind = checkChoice(`${fn}: `, "kind", opts.kind, KINDS, "standard");
  const { total, channels, period } = geometry(fn, x, shape);
  const k = kernels();
  const stage = staging.reset();
  const xSlot = stage.bind(x, "x", true, false);
  const a = stage.scratch(period);
  const b = stage.scratch(kind === "standard" ? 2 * period : period);
  const c = kind === "standard" ? stage.scratch(2 * period) : -1;
  const offsetSlot = stage.scratch(channels);
  const scaleSlot = stage.scratch(channels);
  stagedCommit(fn, stage, -1, -1);
  try {
    const xPtr = stage.ptr(xSlot);
    if (kind === "standard") {
      scalerExpand(xPtr, channels, period, stage.ptr(a));
      k.scalerSums(xPtr, total, period, stage.ptr(a), stage.ptr(b), stage.ptr(c));
      scalerFinishStandard(stage.ptr(a), stage.ptr(b), stage.ptr(c), channels, period, total / channels,
        stage.ptr(offsetSlot), stage.ptr(scaleSlot));
    } else {
      scalerExpand(xPtr, channels, period, stage.ptr(a));
      scalerExpand(xPtr, channels, period, stage.ptr(b));
      k.scalerMinMax(xPtr, total, period, stage.ptr(a), stage.ptr(b));
      scalerFinishMinMax(stage.ptr(a), stage.ptr(b), channels, period, stage.ptr(offsetSlot), stage.ptr(scaleSlot));
    }
    return { offset: stage.result(offsetSlot, channels), scale: stage.result(scaleSlot, channels) };
  } finally {
    stage.reset();
  }
}

/** The scaler's entries as float32, checked: C finite offsets and C finite, non-zero scales. */
function checkScaler(fn: string, scaler: unknown, channels: number, offsets: Float32Array, scales: Float32Array): void {
  if (typeof scaler !== "object" || scaler === null) throw new TypeError(`simdopt: ${fn}: scaler must be an object { offset, scale }, got ${describe(scaler)}`);
  const { offset, scale } = scaler as Partial<Scaler>;
  for (const [name, values, target] of [["offset", offset, offsets], ["scale", scale, scales]] as const) {
    const length = (values as { length?: unknown } | undefined)?.length;
    if (typeof values !== "object" || values === null || typeof length !== "number") {
      throw new TypeError(`simdopt: ${fn}: scaler.${name} must be an array of numbers, got ${describe(values)}`);
    }
    if (length !== channels) throw new RangeError(`simdopt: ${fn}: scaler.${name} has ${length} entries, x has ${channels} features`);
    for (let i = 0; i < channels; i++) {
      const v: unknown = (values as ArrayLike<unknown>)[i];
      const f = typeof v === "number" ? Math.fround(v) : NaN;
      if (!Number.isFinite(f) || (name === "scale" && f === 0)) {
        const what = name === "scale" ? "a finite non-zero number" : "a finite number";
        const ErrorType = typeof v === "number" && v === v ? RangeError : TypeError;
        throw new ErrorType(`simdopt: ${fn}: scaler.${name}[${i}] must be ${what} (in float32), got ${describe(v)}`);
      }
      target[i] = f;
    }
  }
}

function applyOrInvert(fn: string, x: Float32Array, shape: readonly number[], scaler: Scaler, options: ApplyScalerOptions | undefined, invert: boolean): Float32Array {
  const opts = readOptions(fn, options, APPLY_KEYS);
  const { total, channels, period } = geometry(fn, x, shape);
  const out = opts.out === undefined ? x : opts.out;
  if (!(out instanceof Float32Array)) throw new TypeError(`simdopt: ${fn}: out must be a Float32Array, got ${describe(out)}`);
  if (out.length !== total) throw new RangeError(`simdopt: ${fn}: out has ${out.length} elements, expected ${total} (the size of x)`);
  const offsets = new Float32Array(channels);
  const scales = new Float32Array(channels);
  checkScaler(fn, scaler, channels, offsets, scales);
  const k = kernels();
  const stage = staging.reset();
  const xSlot = stage.bind(x, "x", true, false);
  const outSlot = stage.bind(out, "out", false, true);
  const offsetSlot = stage.scratch(period);
  const scaleSlot = stage.scratch(period);
  stagedCommit(fn, stage, outSlot, xSlot);
  try {
    const heap = heapF32();
    const offsetAt = stage.ptr(offsetSlot) >>> 2;
    const scaleAt = stage.ptr(scaleSlot) >>> 2;
    for (let i = 0; i < period; i++) {
      heap[offsetAt + i] = offsets[i % channels]!;
      heap[scaleAt + i] = scales[i % channels]!;
    }
    k.scalerApply(stage.ptr(xSlot), stage.ptr(outSlot), total, period, stage.ptr(offsetSlot), stage.ptr(scaleSlot), invert);
    return stage.result(outSlot, total);
  } finally {
    stage.reset();
  }
}

/** y = (x − offset)/scale per feature (last axis); in place unless `out` is given. Returns the output array. */
export function applyScaler(x: Float32Array, shape: readonly number[], scaler: Scaler, options?: ApplyScalerOptions): Float32Array {
  return applyOrInvert("applyScaler", x, shape, scaler, options, false);
}

/** x = y·scale + offset per feature (the inverse of applyScaler); in place unless `out` is given. Returns the output array. */
export function invertScaler(y: Float32Array, shape: readonly number[], scaler: Scaler, options?: ApplyScalerOptions): Float32Array {
  return applyOrInvert("invertScaler", y, shape, scaler, options, true);
}
