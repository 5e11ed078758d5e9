// batchNormForward / batchNormBackward: argument checking, staging of foreign arrays, and the
// kernel calls of assembly/ops/batchnorm.ts. Semantics of torch.nn.functional.batch_norm.
//
// Arrays: a Float32Array that is a view into wasm memory (Parameter.data/.grad, BatchNorm's
// running stats, ...) is used in place; any other Float32Array is copied into reused scratch
// and, if it is written, copied back. Nothing is allocated per call except the result arrays
// the caller did not supply. Everything is validated before anything is written.

import { kernels } from "../bindings/instance.js";
import { Scratch } from "../bindings/memory.js";
import { copyIn, copyOut, copyToNew, wasmOffset } from "../bindings/views.js";
import { shapeSize } from "../parameter.js";
import { checkBounded, checkChoice, checkObject, checkOptionKeys, describe, optionalBoolean } from "../checks.js";

const LAYOUTS = ["NCHW", "NHWC"] as const;

/** Memory order of the tensor: channels second ("NCHW", [N, C, ...spatial]) or last ("NHWC", [N, ...spatial, C]). */
export type BatchNormLayout = "NCHW" | "NHWC";

/** Options of `batchNormForward`. */
export interface BatchNormForwardOptions {
  /** Normalise with the batch statistics (and update the running ones) or, when false, with the running statistics. Default `true`. */
  training?: boolean;
  /** Per-channel scale γ (length C). Default: none (γ = 1). */
  gamma?: Float32Array | null;
  /** Per-channel shift β (length C). Default: none (β = 0). */
  beta?: Float32Array | null;
  /** Running mean (length C): updated in place in training mode, used in eval mode. Default: none. */
  runningMean?: Float32Array | null;
  /** Running variance (length C): updated in place with the unbiased batch variance in training mode, used in eval mode. Default: none. */
  runningVar?: Float32Array | null;
  /** running ← (1 − momentum)·running + momentum·batch. Default `0.1`. */
  momentum?: number;
  /** Added to the variance before the square root. Default `1e-5`. */
  eps?: number;
  /** Default `"NCHW"`. A 2-D shape [N, C] is the same in both layouts. */
  layout?: BatchNormLayout;
  /** Receives y (length = x.length) in place; may be `x` itself. Default: a new array. */
  out?: Float32Array;
  /** Receives the mean used (length C). Default: a new array. */
  meanOut?: Float32Array;
  /** Receives the inverse standard deviation used (length C). Default: a new array. */
  invStdOut?: Float32Array;
}

/** What `batchNormForward` returns: y and the statistics it used (saved for the backward). */
export interface BatchNormForwardResult {
  /** The normalised tensor (`out` when given). */
  y: Float32Array;
  /** Per-channel mean used: the batch mean (training) or a copy of the running mean (eval). `meanOut` when given, else a new array owned by the caller. */
  mean: Float32Array;
  /** Per-channel 1/√(var + eps) with the biased batch variance (training) or the running variance (eval). `invStdOut` when given, else a new array. */
  invStd: Float32Array;
}

/** Options of `batchNormBackward`. */
export interface BatchNormBackwardOptions {
  /** The `mean` returned by the forward. Required. */
  mean: Float32Array;
  /** The `invStd` returned by the forward. Required. */
  invStd: Float32Array;
  /** γ of the forward (length C). Default: none (γ = 1). */
  gamma?: Float32Array | null;
  /** Whether the forward used batch statistics (the full derivative through mean and variance) or constants (eval: dx = dy·γ·invStd). Default `true`. */
  training?: boolean;
  /** Default `"NCHW"`. */
  layout?: BatchNormLayout;
  /** Receives dx in place; may be `dy` itself. Default: a new array. */
  out?: Float32Array;
  /** Receives dL/dγ = Σ dy·x̂ (length C). Default: a new array. */
  dgammaOut?: Float32Array;
  /** Receives dL/dβ = Σ dy (length C). Default: a new array. */
  dbetaOut?: Float32Array;
  /** Add dgamma/dbeta into `dgammaOut`/`dbetaOut` instead of overwriting them (autograd's accumulation). Default `false`. */
  accumulate?: boolean;
}

/** What `batchNormBackward` returns. */
export interface BatchNormBackwardResult {
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
}

/** The reduction geometry of a batch-norm tensor. */
export interface BatchNormGeometry {
  batch: number;
  channels: number;
  spatial: number;
  /** Values per channel: batch · spatial. */
  count: number;
  /** Use the across-channel (NHWC) kernels: layout NHWC, or NCHW without spatial extent. */
  channelsLast: boolean;
}

const scratch = new Scratch();

/** Checks shape against x and the layout; returns the geometry. */
export function batchNormGeometry(fn: string, shape: unknown, length: number, layout: unknown, xName = "x"): BatchNormGeometry {
  checkChoice(`${fn}: `, "layout", layout, LAYOUTS);
  const size = shapeSize(shape, "shape");
  const dims = shape as number[];
  if (dims.length < 2) {
    throw new RangeError(`simdopt: ${fn}: shape must have at least 2 dimensions ([N, C, ...] or [N, ..., C]), got [${dims.join(", ")}]`);
  }
  if (size !== length) {
    throw new RangeError(`simdopt: ${fn}: ${xName} has ${length} elements but shape [${dims.join(", ")}] needs ${size}`);
  }
  const batch = dims[0]!;
  const channels = layout === "NCHW" ? dims[1]! : dims[dims.length - 1]!;
  const spatial = size / (batch * channels);
  return { batch, channels, spatial, count: batch * spatial, channelsLast: layout === "NHWC" || spatial === 1 };
}

function checkArray(fn: string, name: string, value: unknown, length: number, what: string): Float32Array {
  if (!(value instanceof Float32Array)) throw new TypeError(`simdopt: ${fn}: ${name} must be a Float32Array, got ${describe(value)}`);
  if (value.length !== length) throw new RangeError(`simdopt: ${fn}: ${name} has ${value.length} elements, expected ${length} (${what})`);
  return value;
}

function optionalArray(fn: string, name: string, value: unknown, length: number, what: string): Float32Array | null {
  return value === undefined || value === null ? null : checkArray(fn, name, value, length, what);
}

function checkNumber(fn: string, name: string, value: unknown, fallback: number, min: number): number {
  return checkBounded(`${fn}: `, name, value, { min }, fallback);
}

function checkBoolean(fn: string, name: string, value: unknown, fallback: boolean): boolean {
  return optionalBoolean(`${fn}: `, name, value, fallback);
}

const FORWARD_KEYS = ["training", "gamma", "beta", "runningMean", "runningVar", "momentum", "eps", "layout", "out", "meanOut", "invStdOut"] as const;
const BACKWARD_KEYS = ["mean", "invStd", "gamma", "training", "layout", "out", "dgammaOut", "dbetaOut", "accumulate"] as const;

/** An options object (or undefined) with only the given keys. */
function checkOptions(fn: string, options: unknown, keys: readonly string[]): void {
  checkObject(`${fn}: options`, options);
  if (options !== undefined) checkOptionKeys(options as object, keys, `${fn} options`);
}

/**
 * Stages the arrays of one call. `bind` classifies an array before any scratch is taken (a
 * library view keeps its offset even if taking scratch grows the memory); `commit` takes one
 * scratch block for every foreign array and internal buffer; afterwards `ptr` resolves them.
 */
class Staging {
  #floats = 0;
  // Slot records are reused across calls (no garbage per call); #count of them are live.
  #slots: { array: Float32Array | null; at: number; foreign: boolean; read: boolean }[] = [];
  #count = 0;
  #base = 0;

  /** Starts a new call (the object is reused: one per module, calls do not nest). */
  reset(): this {
    for (let i = 0; i < this.#count; i++) this.#slots[i]!.array = null; // drop references to caller arrays
    this.#floats = 0;
    this.#count = 0;
    this.#base = 0;
    return this;
  }

  #add(array: Float32Array | null, at: number, foreign: boolean, read: boolean): number {
    if (this.#count === this.#slots.length) this.#slots.push({ array: null, at: 0, foreign: false, read: false });
    const slot = this.#slots[this.#count]!;
    slot.array = array;
    slot.at = at;
    slot.foreign = foreign;
    slot.read = read;
    return this.#count++;
  }

  /** A caller array (or null → pointer 0). `read`: its contents are input and must be copied in. */
  bind(array: Float32Array | null, read: boolean): number {
    const offset = array === null ? -1 : wasmOffset(array);
    const foreign = array !== null && offset < 0;
    return this.#add(array, foreign ? this.#reserve(array.length) : offset, foreign, read);
  }

  /** Internal scratch of `floats` floats (16-byte aligned). */
  scratch(floats: number): number {
    return this.#add(null, this.#reserve(floats), true, false);
  }

  #reserve(floats: number): number {
    const at = this.#floats;
    this.#floats += Math.ceil(floats / 4) * 4;
    return at;
  }

  /** Takes the scratch and copies the foreign inputs in. */
  commit(): void {
    this.#base = scratch.floats(Math.max(this.#floats, 4));
    for (let i = 0; i < this.#count; i++) {
      const slot = this.#slots[i]!;
      if (slot.foreign && slot.read && slot.array !== null) copyIn(slot.array, this.#base + slot.at * 4);
    }
  }

  ptr(slot: number): number {
    const s = this.#slots[slot]!;
    if (s.foreign) return this.#base + s.at * 4;
    return s.array === null ? 0 : s.at;
  }

  /** Copies a written foreign array back to the caller's array. */
  writeBack(slot: number): void {
    const s = this.#slots[slot]!;
    if (s.foreign && s.array !== null) copyOut(this.#base + s.at * 4, s.array);
  }

  /** The written array: the caller's, or a new copy of the scratch. */
  result(slot: number, length: number): Float32Array {
    const s = this.#slots[slot]!;
    if (s.array !== null) {
      this.writeBack(slot);
      return s.array;
    }
    return copyToNew(this.#base + s.at * 4, length);
  }
}

const staging = new Staging();

/**
 * Batch normalisation of x with shape [N, C, ...spatial] (NCHW) or [N, ...spatial, C] (NHWC),
 * statistics per channel over all other axes (torch.nn.functional.batch_norm).
 */
export function batchNormForward(x: Float32Array, shape: readonly number[], options: BatchNormForwardOptions = {}): BatchNormForwardResult {
  const fn = "batchNormForward";
  const k = kernels();
  checkOptions(fn, options, FORWARD_KEYS);
  if (!(x instanceof Float32Array)) throw new TypeError(`simdopt: ${fn}: x must be a Float32Array, got ${describe(x)}`);
  const geo = batchNormGeometry(fn, shape, x.length, options.layout ?? "NCHW");
  const C = geo.channels;
  const training = checkBoolean(fn, "training", options.training, true);
  if (options.momentum === null) {
    throw new TypeError(`simdopt: ${fn}: momentum null (the cumulative average) needs a count of batches: use the BatchNorm layer, or pass 1/batchesSeen`);
  }
  const momentum = checkNumber(fn, "momentum", options.momentum, 0.1, -Infinity);
  const eps = checkNumber(fn, "eps", options.eps, 1e-5, 0);
  const gamma = optionalArray(fn, "gamma", options.gamma, C, "one per channel");
  const beta = optionalArray(fn, "beta", options.beta, C, "one per channel");
  const runningMean = optionalArray(fn, "runningMean", options.runningMean, C, "one per channel");
  const runningVar = optionalArray(fn, "runningVar", options.runningVar, C, "one per channel");
  const out = optionalArray(fn, "out", options.out, x.length, "the size of x");
  const meanOut = optionalArray(fn, "meanOut", options.meanOut, C, "one per channel");
  const invStdOut = optionalArray(fn, "invStdOut", options.invStdOut, C, "one per channel");
  if (!training && (runningMean === null || runningVar === null)) {
    throw new TypeError(`simdopt: ${fn}: runningMean and runningVar are required when training is false`);
  }
  if (training && geo.count === 1) {
    throw new RangeError(`simdopt: ${fn}: Expected more than 1 value per channel when training, got input size [${shape.join(", ")}]`);
  }

  const stage = staging.reset();
  const xSlot = stage.bind(x, true);
  const gammaSlot = stage.bind(gamma, true);
  const betaSlot = stage.bind(beta, true);
  const runningMeanSlot = stage.bind(runningMean, true);
  const runningVarSlot = stage.bind(runningVar, true);
  const meanSlot = meanOut !== null ? stage.bind(meanOut, false) : stage.scratch(C);
  const invStdSlot = invStdOut !== null ? stage.bind(invStdOut, false) : stage.scratch(C);
  const scaleSlot = stage.scratch(C);
  const offsetSlot = stage.scratch(C);
  const ySlot = out !== null ? stage.bind(out, false) : stage.scratch(x.length);
  const momentsSlot = training ? stage.scratch(4 * C) : -1;
  const workSlot = geo.channelsLast ? stage.scratch(k.batchNormWorkFloats(C)) : -1;
  stage.commit();

  const xPtr = stage.ptr(xSlot);
  const yPtr = stage.ptr(ySlot);
  const meanPtr = stage.ptr(meanSlot);
  const invStdPtr = stage.ptr(invStdSlot);
  const scalePtr = stage.ptr(scaleSlot);
  const offsetPtr = stage.ptr(offsetSlot);
  const workPtr = workSlot >= 0 ? stage.ptr(workSlot) : 0;
  const rows = geo.batch * geo.spatial;
  if (training) {
    const channelMean = stage.ptr(momentsSlot);
    const channelM2 = channelMean + C * 8;
    if (geo.channelsLast) k.batchNormStatsNhwc(xPtr, rows, C, channelMean, channelM2, workPtr);
    else k.batchNormStatsNchw(xPtr, geo.batch, C, geo.spatial, channelMean, channelM2);
    k.batchNormFinishTraining(channelMean, channelM2, C, geo.count, eps, stage.ptr(gammaSlot), stage.ptr(betaSlot),
      meanPtr, invStdPtr, scalePtr, offsetPtr, stage.ptr(runningMeanSlot), stage.ptr(runningVarSlot), momentum);
  } else {
    k.batchNormFinishEval(stage.ptr(runningMeanSlot), stage.ptr(runningVarSlot), C, eps, stage.ptr(gammaSlot), stage.ptr(betaSlot),
      meanPtr, invStdPtr, scalePtr, offsetPtr);
  }
  if (geo.channelsLast) k.batchNormNormalizeNhwc(xPtr, yPtr, rows, C, meanPtr, scalePtr, offsetPtr, workPtr);
  else k.batchNormNormalizeNchw(xPtr, yPtr, geo.batch, C, geo.spatial, meanPtr, scalePtr, offsetPtr);

  if (training) {
    stage.writeBack(runningMeanSlot);
    stage.writeBack(runningVarSlot);
  }
  const result = {
    y: stage.result(ySlot, x.length),
    mean: stage.result(meanSlot, C),
    invStd: stage.result(invStdSlot, C),
  };
  stage.reset();
  return result;
}

/** Internal form of the backward: `paramGrads: false` skips dgamma/dbeta (a layer without affine). */
export function batchNormBackwardImpl(
  dy: Float32Array, x: Float32Array, shape: readonly number[], options: BatchNormBackwardOptions, paramGrads: boolean,
): BatchNormBackwardResult {
  const fn = "batchNormBackward";
  const k = kernels();
  if (options === undefined) throw new TypeError(`simdopt: ${fn}: options { mean, invStd } are required`);
  checkOptions(fn, options, BACKWARD_KEYS);
  if (!(dy instanceof Float32Array)) throw new TypeError(`simdopt: ${fn}: dy must be a Float32Array, got ${describe(dy)}`);
  if (!(x instanceof Float32Array)) throw new TypeError(`simdopt: ${fn}: x must be a Float32Array, got ${describe(x)}`);
  const geo = batchNormGeometry(fn, shape, x.length, options.layout ?? "NCHW");
  if (dy.length !== x.length) throw new RangeError(`simdopt: ${fn}: dy has ${dy.length} elements, x has ${x.length}`);
  const C = geo.channels;
  const mean = checkArray(fn, "mean", options.mean, C, "one per channel");
  const invStd = checkArray(fn, "invStd", options.invStd, C, "one per channel");
  const gamma = optionalArray(fn, "gamma", options.gamma, C, "one per channel");
  const training = checkBoolean(fn, "training", options.training, true);
  const accumulate = checkBoolean(fn, "accumulate", options.accumulate, false);
  const out = optionalArray(fn, "out", options.out, x.length, "the size of x");
  const dgammaOut = optionalArray(fn, "dgammaOut", options.dgammaOut, C, "one per channel");
  const dbetaOut = optionalArray(fn, "dbetaOut", options.dbetaOut, C, "one per channel");

  const stage = staging.reset();
  const dySlot = stage.bind(dy, true);
  const xSlot = stage.bind(x, true);
  const meanSlot = stage.bind(mean, true);
  const invStdSlot = stage.bind(invStd, true);
  const gammaSlot = stage.bind(gamma, true);
  const dxSlot = out !== null ? stage.bind(out, false) : stage.scratch(x.length);
  // Accumulating into a foreign array needs its old contents.
  const dgammaSlot = !paramGrads ? -1 : dgammaOut !== null ? stage.bind(dgammaOut, accumulate) : stage.scratch(C);
  const dbetaSlot = !paramGrads ? -1 : dbetaOut !== null ? stage.bind(dbetaOut, accumulate) : stage.scratch(C);
  const sumsSlot = stage.scratch(4 * C);
  const coefSlot = stage.scratch(3 * C);
  const workSlot = geo.channelsLast ? stage.scratch(k.batchNormWorkFloats(C)) : -1;
  stage.commit();

  const dyPtr = stage.ptr(dySlot);
  const xPtr = stage.ptr(xSlot);
  const meanPtr = stage.ptr(meanSlot);
  const invStdPtr = stage.ptr(invStdSlot);
  const gammaPtr = stage.ptr(gammaSlot);
  const dxPtr = stage.ptr(dxSlot);
  const sumDy = stage.ptr(sumsSlot);
  const sumDyCentred = sumDy + C * 8;
  const coefDy = stage.ptr(coefSlot);
  const coefCentred = coefDy + C * 4;
  const coefConst = coefCentred + C * 4;
  const workPtr = workSlot >= 0 ? stage.ptr(workSlot) : 0;
  const rows = geo.batch * geo.spatial;
  // Eval mode writes dx during the reduction (dx does not depend on the sums).
  const fusedDx = training ? 0 : dxPtr;
  if (geo.channelsLast) k.batchNormBackwardReduceNhwc(dyPtr, xPtr, rows, C, meanPtr, sumDy, sumDyCentred, invStdPtr, gammaPtr, fusedDx, workPtr);
  else k.batchNormBackwardReduceNchw(dyPtr, xPtr, geo.batch, C, geo.spatial, meanPtr, sumDy, sumDyCentred, invStdPtr, gammaPtr, fusedDx);
  k.batchNormBackwardCoefficients(sumDy, sumDyCentred, C, geo.count, invStdPtr, gammaPtr, training,
    paramGrads ? stage.ptr(dgammaSlot) : 0, paramGrads ? stage.ptr(dbetaSlot) : 0, accumulate,
    training ? coefDy : 0, coefCentred, coefConst);
  if (training) {
    if (geo.channelsLast) k.batchNormBackwardDxNhwc(dyPtr, xPtr, dxPtr, rows, C, meanPtr, coefDy, coefCentred, coefConst, workPtr);
    else k.batchNormBackwardDxNchw(dyPtr, xPtr, dxPtr, geo.batch, C, geo.spatial, meanPtr, coefDy, coefCentred, coefConst);
  }
  const result = {
    dx: stage.result(dxSlot, x.length),
    dgamma: paramGrads ? stage.result(dgammaSlot, C) : new Float32Array(0),
    dbeta: paramGrads ? stage.result(dbetaSlot, C) : new Float32Array(0),
  };
  stage.reset();
  return result;
}

/**
 * Gradients of batchNormForward: dx, dL/dγ and dL/dβ from dy, the forward's x and its saved
 * `mean`/`invStd`. Training mode differentiates through the batch statistics:
 * dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)); eval mode treats them as constants.
 */
export function batchNormBackward(
  dy: Float32Array, x: Float32Array, shape: readonly number[], options: BatchNormBackwardOptions,
): BatchNormBackwardResult {
  return batchNormBackwardImpl(dy, x, shape, options, true);
}
