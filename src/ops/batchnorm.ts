// batchNormForward / batchNormBackward: argument checking, staging of foreign arrays, and the
// kernel calls of assembly/ops/batchnorm/. Semantics of torch.nn.functional.batch_norm.
//
// Arrays: a Float32Array that is a view into wasm memory (Parameter.data/.grad, BatchNorm's
// running stats, ...) is used in place; any other Float32Array is copied into reused scratch
// and, if it is written, copied back. Nothing is allocated per call except the result arrays
// the caller did not supply. Everything is validated before anything is written.

import { kernels } from "../bindings/instance.js";
import type { Kernels } from "../bindings/kernels.js";
import { Staging } from "./staging.js";
import { shapeSize } from "../parameter.js";
import { checkBounded, checkChoice, checkObject, checkOptionKeys, describe, optionalBoolean } from "../checks.js";
import { threadHooks, type NchwKernel } from "../threads/hooks.js";

/** An NCHW kernel over ranges of channels on the threads, or whole here (the stride argument 0: the whole image). */
function nchwSplit(k: Kernels, kernel: NchwKernel, args: number[], batch: number, channels: number, spatial: number): void {
  const threads = threadHooks();
  if (threads !== null) threads.nchwSplit(k, kernel, args, batch, channels, spatial);
  else (k[kernel] as (...a: number[]) => void)(...args);
}

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
  /**
   * Receives y (length = x.length) in place; may be `x` itself. Any other overlap with an input
   * is handled (staged through scratch); two outputs sharing memory throw RangeError. Default: a
   * new array.
   */
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
  /**
   * Receives dx in place; may be `dy` itself. Any other overlap with an input is handled (staged
   * through scratch); two outputs sharing memory throw RangeError. Default: a new array.
   */
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
  /** dL/dx, shaped like x (`out` when given). */
  dx: Float32Array;
  /** dL/dγ per channel (null without gamma). */
  dgamma: Float32Array;
  /** dL/dβ per channel (null without gamma). */
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


/** Checks shape against x and the layout; returns the geometry. */
export function batchNormGeometry(fn: string, shape: unknown, length: number, layout: unknown, xName = "x"): BatchNormGeometry {
  checkChoice(`${fn}: `, "layout", layout, LAYOUTS);
  const size = shapeSize(shape, `${fn}: shape`);
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
  const momentum = checkBounded(`${fn}: `, "momentum", options.momentum, {}, 0.1);
  const eps = checkBounded(`${fn}: `, "eps", options.eps, { min: 0 }, 1e-5);
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
  const xSlot = stage.bind(x, "x", true, false);
  const gammaSlot = stage.bind(gamma, "gamma", true, false);
  const betaSlot = stage.bind(beta, "beta", true, false);
  // Eval mode only reads the running statistics.
  const runningMeanSlot = stage.bind(runningMean, "runningMean", true, training);
  const runningVarSlot = stage.bind(runningVar, "runningVar", true, training);
  const meanSlot = meanOut !== null ? stage.bind(meanOut, "meanOut", false, true) : stage.scratch(C);
  const invStdSlot = invStdOut !== null ? stage.bind(invStdOut, "invStdOut", false, true) : stage.scratch(C);
  const scaleSlot = stage.scratch(C);
  const offsetSlot = stage.scratch(C);
  const ySlot = out !== null ? stage.bind(out, "out", false, true) : stage.scratch(x.length);
  const momentsSlot = training ? stage.scratch(4 * C) : -1;
  const workSlot = geo.channelsLast ? stage.scratch(k.batchNormWorkFloats(C)) : -1;
  try {
    stage.separate(fn, ySlot, xSlot);
    stage.commit();
  } catch (error) {
    stage.reset();
    throw error;
  }

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
    else nchwSplit(k, "batchNormStatsNchw", [xPtr, geo.batch, C, geo.spatial, channelMean, channelM2, 0], geo.batch, C, geo.spatial);
    k.batchNormFinishTraining(channelMean, channelM2, C, geo.count, eps, stage.ptr(gammaSlot), stage.ptr(betaSlot),
      meanPtr, invStdPtr, scalePtr, offsetPtr, stage.ptr(runningMeanSlot), stage.ptr(runningVarSlot), momentum);
  } else {
    k.batchNormFinishEval(stage.ptr(runningMeanSlot), stage.ptr(runningVarSlot), C, eps, stage.ptr(gammaSlot), stage.ptr(betaSlot),
      meanPtr, invStdPtr, scalePtr, offsetPtr);
  }
  if (geo.channelsLast) k.batchNormNormalizeNhwc(xPtr, yPtr, rows, C, meanPtr, scalePtr, offsetPtr, workPtr);
  else nchwSplit(k, "batchNormNormalizeNchw", [xPtr, yPtr, geo.batch, C, geo.spatial, meanPtr, scalePtr, offsetPtr, 0], geo.batch, C, geo.spatial);

  if (training) {
    stage.writeBack(runningMeanSlot);
    stage.writeBack(runningVarSlot);
  }
  const result = {
    y: stage.result(ySlot, geo.count * C), // not x.length: growing a plain memory detaches a view x (length 0)
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
  const dySlot = stage.bind(dy, "dy", true, false);
  const xSlot = stage.bind(x, "x", true, false);
  const meanSlot = stage.bind(mean, "mean", true, false);
  const invStdSlot = stage.bind(invStd, "invStd", true, false);
  const gammaSlot = stage.bind(gamma, "gamma", true, false);
  const dxSlot = out !== null ? stage.bind(out, "out", false, true) : stage.scratch(x.length);
  // Accumulating into a staged array needs its old contents.
  const dgammaSlot = !paramGrads ? -1 : dgammaOut !== null ? stage.bind(dgammaOut, "dgammaOut", accumulate, true) : stage.scratch(C);
  const dbetaSlot = !paramGrads ? -1 : dbetaOut !== null ? stage.bind(dbetaOut, "dbetaOut", accumulate, true) : stage.scratch(C);
  const sumsSlot = stage.scratch(4 * C);
  const coefSlot = stage.scratch(4 * C);
  const workSlot = geo.channelsLast ? stage.scratch(k.batchNormWorkFloats(C)) : -1;
  try {
    stage.separate(fn, dxSlot, dySlot);
    stage.commit();
  } catch (error) {
    stage.reset();
    throw error;
  }

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
  const coefScale = coefConst + C * 4;
  const workPtr = workSlot >= 0 ? stage.ptr(workSlot) : 0;
  const rows = geo.batch * geo.spatial;
  // Eval mode writes dx during the reduction (dx does not depend on the sums).
  const fusedDx = training ? 0 : dxPtr;
  if (geo.channelsLast) k.batchNormBackwardReduceNhwc(dyPtr, xPtr, rows, C, meanPtr, sumDy, sumDyCentred, invStdPtr, gammaPtr, fusedDx, workPtr);
  else nchwSplit(k, "batchNormBackwardReduceNchw", [dyPtr, xPtr, geo.batch, C, geo.spatial, meanPtr, sumDy, sumDyCentred, invStdPtr, gammaPtr, fusedDx, 0], geo.batch, C, geo.spatial);
  k.batchNormBackwardCoefficients(sumDy, sumDyCentred, C, geo.count, invStdPtr, gammaPtr, training,
    paramGrads ? stage.ptr(dgammaSlot) : 0, paramGrads ? stage.ptr(dbetaSlot) : 0, accumulate,
    training ? coefDy : 0, coefCentred, coefConst, coefScale);
  if (training) {
    if (geo.channelsLast) k.batchNormBackwardDxNhwc(dyPtr, xPtr, dxPtr, rows, C, meanPtr, coefDy, coefCentred, coefConst, coefScale, workPtr);
    else nchwSplit(k, "batchNormBackwardDxNchw", [dyPtr, xPtr, dxPtr, geo.batch, C, geo.spatial, meanPtr, coefDy, coefCentred, coefConst, coefScale, 0], geo.batch, C, geo.spatial);
  }
  const result = {
    dx: stage.result(dxSlot, geo.count * C), // as in the forward
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
