// BatchNorm: torch.nn.BatchNorm1d/2d/3d as one layer over any [N, C, ...] (or [N, ..., C]) tensor,
// with weight/bias as Parameters (so every optimizer of the package updates them) and running
// statistics in wasm memory (live views).

import { F32Block, liveF32View, wasmOffset } from "../bindings/memory.js";
import { isInitialized, notInitialized } from "../bindings/instance.js";
import { Parameter } from "../parameter.js";
import { checkBoolean, checkBounded, checkChoice, checkFinite, describe, readOptions, reject } from "../checks.js";
import { batchNormBackwardImpl, batchNormForward, batchNormGeometry, type BatchNormLayout } from "../ops/batchnorm.js";

/** Options of `new BatchNorm(numFeatures, options)` (PyTorch's, camelCased). */
export interface BatchNormOptions {
  /** Added to the variance before the square root. Default `1e-5`. */
  eps?: number;
  /** Running-stat factor; `null` = cumulative average over the batches seen (1/numBatchesTracked). Default `0.1`. */
  momentum?: number | null;
  /** Learnable per-channel weight (γ, init 1) and bias (β, init 0). Default `true`. */
  affine?: boolean;
  /** Keep running mean/variance (used in eval mode). Without them eval mode uses batch statistics. Default `true`. */
  trackRunningStats?: boolean;
  /** Where the channel axis is: `"NCHW"` ([N, C, ...]) or `"NHWC"` ([N, ..., C]). Default `"NCHW"`. */
  layout?: BatchNormLayout;
  /** Name prefix of the weight/bias parameters. Default `"batchNorm"`. */
  name?: string;
}

/** Options of `BatchNorm.forward` / `BatchNorm.backward`. */
export interface BatchNormCallOptions {
  /** Receives the result in place (length of x). Default: a new array. */
  out?: Float32Array;
}

const WHERE = "BatchNorm: ";
const LAYER_KEYS = ["eps", "momentum", "affine", "trackRunningStats", "layout", "name"] as const;
const CALL_KEYS = ["out"] as const;

/** A batch-norm layer (`torch.nn.BatchNorm1d/2d/3d`): `weight` (γ) and `bias` (β) are Parameters an optimizer updates, the running statistics live in wasm memory, `forward`/`backward` run the fused kernels in training or eval mode (`training`), NCHW or NHWC. */
export class BatchNorm {
  /** The channel count C. */
  readonly numFeatures: number;
  /** Added to the variance before the square root. Default 1e-5. */
  readonly eps: number;
  /** Live: may be changed between calls (a number, or null for the cumulative average). */
  momentum: number | null;
  /** Whether the layer has the learnable `weight` and `bias`. Default true. */
  readonly affine: boolean;
  /** Whether the layer keeps running statistics (used in eval mode). Default true. */
  readonly trackRunningStats: boolean;
  /** `"NCHW"` (channels second) or `"NHWC"` (channels last). Default "NCHW". */
  readonly layout: BatchNormLayout;
  /** Training mode (batch statistics, running-stat updates) or eval mode. Default true. */
  training = true;
  /** γ (ones), or null without affine. `backward` accumulates into `weight.grad`. */
  readonly weight: Parameter | null;
  /** β (zeros), or null without affine. `backward` accumulates into `bias.grad`. */
  readonly bias: Parameter | null;
  /** Training-mode forwards seen (PyTorch's num_batches_tracked; drives momentum null). */
  numBatchesTracked = 0;
  #runningMean: F32Block | null;
  #runningVar: F32Block | null;
  #savedMean: F32Block;
  #savedInvStd: F32Block;
  #lastX: Float32Array | null = null;
  // A library view's place in wasm memory, read at forward time: if a later allocation grows a
  // plain (non-shared) memory, the view detaches and backward re-views these bytes.
  #lastXOffset = -1;
  #lastXLength = 0;
  #lastShape: number[] = [];
  #lastUsedBatchStats = true;
  #disposed = false;

  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    if (!isInitialized()) throw notInitialized();
    readOptions("BatchNorm", options, LAYER_KEYS);
    checkBounded(WHERE, "numFeatures", numFeatures, { integer: true, min: 1 });
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true, layout = "NCHW", name = "batchNorm" } = options;
    checkBounded(WHERE, "eps", eps, { min: 0 });
    if (momentum !== null) checkFinite(WHERE, "momentum", momentum);
    checkBoolean(WHERE, "affine", affine);
    checkBoolean(WHERE, "trackRunningStats", trackRunningStats);
    checkChoice(WHERE, "layout", layout, ["NCHW", "NHWC"] as const);
    if (typeof name !== "string") reject(WHERE, "name", name, "a string", true);
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    this.layout = layout;
    // All or nothing: if an allocation fails, what was made before it is freed.
    const made: { dispose(): void }[] = [];
    const block = (): F32Block => {
      const b = new F32Block(numFeatures);
      made.push({ dispose: () => b.free() });
      return b;
    };
    try {
      this.weight = affine ? new Parameter([numFeatures], { init: "ones", name: `${name}.weight` }) : null;
      if (this.weight !== null) made.push(this.weight);
      this.bias = affine ? new Parameter([numFeatures], { init: "zeros", name: `${name}.bias` }) : null;
      if (this.bias !== null) made.push(this.bias);
      this.#runningMean = trackRunningStats ? block() : null;
      this.#runningVar = trackRunningStats ? block() : null;
      this.#savedMean = block();
      this.#savedInvStd = block();
    } catch (error) {
      for (const thing of made) thing.dispose();
      throw error;
    }
    this.#runningVar?.view.fill(1);
  }

  /** Running mean: a live view into wasm memory (null without trackRunningStats). */
  get runningMean(): Float32Array | null {
    this.#checkLive();
    return this.#runningMean?.view ?? null;
  }

  /** Running (unbiased) variance: a live view into wasm memory (null without trackRunningStats). */
  get runningVar(): Float32Array | null {
    this.#checkLive();
    return this.#runningVar?.view ?? null;
  }

  /**
   * Normalises x (shape [N, C, ...] or [N, ..., C] per layout, C = numFeatures) and remembers
   * x, its shape and the statistics for `backward`. x must not change before `backward`.
   */
  forward(x: Float32Array, shape: readonly number[], options: BatchNormCallOptions = {}): Float32Array {
    this.#checkLive();
    readOptions("BatchNorm.forward", options, CALL_KEYS);
    if (!(x instanceof Float32Array)) throw new TypeError(`simdopt: BatchNorm.forward: x must be a Float32Array, got ${describe(x)}`);
    const geo = batchNormGeometry("BatchNorm.forward", shape, x.length, this.layout);
    if (geo.channels !== this.numFeatures) {
      throw new RangeError(`simdopt: BatchNorm.forward: shape [${shape.join(", ")}] has ${geo.channels} channels, the layer has ${this.numFeatures}`);
    }
    const updateRunning = this.training && this.trackRunningStats;
    const useBatchStats = this.training || !this.trackRunningStats;
    const momentum = updateRunning && this.momentum === null ? 1 / (this.numBatchesTracked + 1) : this.momentum ?? 0;
    const { y } = batchNormForward(x, shape, {
      training: useBatchStats,
      gamma: this.weight?.data ?? null,
      beta: this.bias?.data ?? null,
      runningMean: updateRunning || !useBatchStats ? this.#runningMean!.view : null,
      runningVar: updateRunning || !useBatchStats ? this.#runningVar!.view : null,
      momentum,
      eps: this.eps,
      layout: this.layout,
      out: options.out,
      meanOut: this.#savedMean.view,
      invStdOut: this.#savedInvStd.view,
    });
    if (updateRunning) this.numBatchesTracked++;
    this.#lastX = x;
    this.#lastXOffset = wasmOffset(x);
    this.#lastXLength = x.length;
    this.#lastShape = [...shape];
    this.#lastUsedBatchStats = useBatchStats;
    return y;
  }

  /**
   * dL/dx for the last forward, given dL/dy; adds dL/dγ and dL/dβ into weight.grad and
   * bias.grad (accumulating, as autograd does: call the optimizer's zeroGrad between steps).
   */
  backward(dy: Float32Array, options: BatchNormCallOptions = {}): Float32Array {
    this.#checkLive();
    readOptions("BatchNorm.backward", options, CALL_KEYS);
    if (this.#lastX === null) throw new Error("simdopt: BatchNorm.backward: call forward first");
    const x = this.#lastXOffset >= 0 ? liveF32View(this.#lastX, this.#lastXOffset, this.#lastXLength) : this.#lastX;
    const { dx } = batchNormBackwardImpl(dy, x, this.#lastShape, {
      mean: this.#savedMean.view,
      invStd: this.#savedInvStd.view,
      gamma: this.weight?.data ?? null,
      training: this.#lastUsedBatchStats,
      layout: this.layout,
      out: options.out,
      dgammaOut: this.weight?.grad,
      dbetaOut: this.bias?.grad,
      accumulate: true,
    }, this.affine);
    return dx;
  }

  /** Running mean 0, running variance 1, numBatchesTracked 0 (PyTorch's reset_running_stats). */
  resetRunningStats(): void {
    this.#checkLive();
    this.#runningMean?.view.fill(0);
    this.#runningVar?.view.fill(1);
    this.numBatchesTracked = 0;
  }

  /**
   * Frees the parameters, running statistics and saved statistics at once; later use throws.
   * A layer dropped without `dispose()` is reclaimed by the garbage collector (see
   * `Parameter.dispose` for the rule on views still held).
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.weight?.dispose();
    this.bias?.dispose();
    this.#runningMean?.free();
    this.#runningVar?.free();
    this.#savedMean.free();
    this.#savedInvStd.free();
    this.#lastX = null;
  }

  #checkLive(): void {
    if (this.#disposed) throw new TypeError("simdopt: BatchNorm has been disposed");
  }
}
