// Float64 references of Adafactor and LAMB, written from their sources' code, element by element:
// Adafactor from torch/optim/_adafactor.py (_single_tensor_adafactor), LAMB from Keras 3
// keras/src/optimizers/lamb.py (update_step) with the base optimizer's weight decay
// (variable ← variable − variable·weightDecay·lr, applied before update_step). No float32 here.
//
// As in optimizers-extra.ts, each reference can be built with a named `mistake`, a deliberately
// wrong variant that the kernels must disagree with.

import type { AdafactorOptions, LAMBOptions } from "../../src/index.js";
import type { Reference } from "./optimizers-extra.js";

export const FACTORED_MISTAKES = {
  Adafactor: ["rmsAfterDecay", "noUpdateClipping", "swappedLerpWeight", "relativeStepIgnoresLr", "sumsInsteadOfMeans", "epsNotSquared"],
  LAMB: ["epsInsideSqrt", "noBiasCorrection", "normBeforeDecay", "decayInUpdate", "noTrustRatio"],
} as const;
export type FactoredAlgorithm = keyof typeof FACTORED_MISTAKES;
export type FactoredMistake<A extends FactoredAlgorithm> = (typeof FACTORED_MISTAKES)[A][number];
export interface FactoredOptions { Adafactor: AdafactorOptions; LAMB: LAMBOptions }

const sumOfSquares = (values: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return sum;
};

class AdafactorReference implements Reference {
  readonly buffers: Record<string, Float64Array>;
  readonly scalars = {};
  readonly #factored: boolean;
  readonly #rows: number;
  readonly #cols: number;
  #step = 0;

  constructor(readonly param: Float64Array, readonly shape: readonly number[], readonly options: AdafactorOptions, readonly mistake?: FactoredMistake<"Adafactor">) {
    this.#factored = shape.length >= 2;
    this.#cols = shape[shape.length - 1] ?? 1;
    this.#rows = shape[shape.length - 2] ?? 1;
    const matrices = param.length / (this.#rows * this.#cols);
    this.buffers = this.#factored
      ? { rowVar: new Float64Array(matrices * this.#rows), colVar: new Float64Array(matrices * this.#cols) }
      : { variance: new Float64Array(param.length) };
  }

  step(rawGrad: ArrayLike<number>): void {
    const { lr, beta2Decay, d, weightDecay, maximize } = this.options;
    const mistake = this.mistake;
    const eps1 = this.options.eps[0] ?? 2 ** -23;
    const eps2 = this.options.eps[1];
    const p = this.param;
    const n = p.length;
    const grad = Float64Array.from(rawGrad, (g) => (maximize ? -g : g));
    const t = ++this.#step;
    let w = t ** beta2Decay;
    if (mistake === "swappedLerpWeight") w = 1 - w;
    const rho = mistake === "relativeStepIgnoresLr" ? 1 / Math.sqrt(t) : Math.min(lr, 1 / Math.sqrt(t));
    const rms = () => Math.sqrt(sumOfSquares(p) / n);
    let alpha = Math.max(eps2, rms()) * rho;
    if (weightDecay !== 0) for (let i = 0; i < n; i++) p[i] = p[i]! * (1 - lr * weightDecay);
    if (mistake === "rmsAfterDecay") alpha = Math.max(eps2, rms()) * rho;
    const variance = new Float64Array(n);
    if (this.#factored) {
      const rows = this.#rows;
      const cols = this.#cols;
      const rowVar = this.buffers.rowVar!;
      const colVar = this.buffers.colVar!;
      for (let b = 0; b < n / (rows * cols); b++) {
        const at = (i: number, j: number) => (b * rows + i) * cols + j;
        for (let i = 0; i < rows; i++) {
          let mean = 0;
          for (let j = 0; j < cols; j++) mean += grad[at(i, j)]! ** 2 / (mistake === "sumsInsteadOfMeans" ? 1 : cols);
          const r = b * rows + i;
          rowVar[r] = rowVar[r]! + w * (mean - rowVar[r]!);
        }
        for (let j = 0; j < cols; j++) {
          let mean = 0;
          for (let i = 0; i < rows; i++) mean += grad[at(i, j)]! ** 2 / (mistake === "sumsInsteadOfMeans" ? 1 : rows);
          const c = b * cols + j;
          colVar[c] = colVar[c]! + w * (mean - colVar[c]!);
        }
        let denominator = 0;
        for (let i = 0; i < rows; i++) denominator += rowVar[b * rows + i]! / rows;
        denominator = Math.max(denominator, eps1);
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) variance[at(i, j)] = (rowVar[b * rows + i]! * colVar[b * cols + j]!) / denominator;
        }
      }
    } else {
      const v = this.buffers.variance!;
      for (let i = 0; i < n; i++) {
        v[i] = v[i]! + w * (grad[i]! ** 2 - v[i]!);
        variance[i] = v[i]!;
      }
    }
    const floor = mistake === "epsNotSquared" ? eps1 : eps1 * eps1;
    const update = variance.map((v, i) => grad[i]! / Math.sqrt(Math.max(v, floor)));
    const denom = mistake === "noUpdateClipping" ? 1 : Math.max(1, Math.sqrt(sumOfSquares(update) / n) / d);
    for (let i = 0; i < n; i++) p[i] = p[i]! - (alpha / denom) * update[i]!;
  }
}

class LAMBReference implements Reference {
  readonly buffers: Record<string, Float64Array>;
  readonly scalars = {};
  #step = 0;

  constructor(readonly param: Float64Array, readonly options: LAMBOptions, readonly mistake?: FactoredMistake<"LAMB">) {
    this.buffers = { firstMoment: new Float64Array(param.length), secondMoment: new Float64Array(param.length) };
  }

  step(grad: ArrayLike<number>): void {
    const { lr, betas: [beta1, beta2], eps, weightDecay } = this.options;
    const mistake = this.mistake;
    const t = ++this.#step;
    const p = this.param;
    const m = this.buffers.firstMoment!;
    const v = this.buffers.secondMoment!;
    const n = p.length;
    const normBefore = Math.sqrt(sumOfSquares(p));
    const decayed = Float64Array.from(p);
    if (mistake !== "decayInUpdate") for (let i = 0; i < n; i++) p[i] = p[i]! - p[i]! * weightDecay * lr;
    const biasCorrection1 = mistake === "noBiasCorrection" ? 1 : 1 - beta1 ** t;
    const biasCorrection2 = mistake === "noBiasCorrection" ? 1 : 1 - beta2 ** t;
    const update = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const g = grad[i]!;
      m[i] = m[i]! + (g - m[i]!) * (1 - beta1);
      v[i] = v[i]! + (g * g - v[i]!) * (1 - beta2);
      const mHat = m[i]! / biasCorrection1;
      const vSqrt = mistake === "epsInsideSqrt" ? Math.sqrt(v[i]! / biasCorrection2 + eps) : Math.sqrt(v[i]! / biasCorrection2) + eps;
      // optax's form instead: the decay enters the update (and so the trust ratio's ‖u‖).
      update[i] = mHat / vSqrt + (mistake === "decayInUpdate" ? weightDecay * decayed[i]! : 0);
    }
    const wNorm = mistake === "normBeforeDecay" ? normBefore : Math.sqrt(sumOfSquares(p));
    const gNorm = Math.sqrt(sumOfSquares(update));
    const ratio = mistake === "noTrustRatio" ? 1 : wNorm > 0 ? (gNorm > 0 ? wNorm / gNorm : 1) : 1;
    for (let i = 0; i < n; i++) p[i] = p[i]! - ratio * lr * update[i]!;
  }
}

/** The reference of `algorithm` over a parameter of `shape` starting at `param` (copied). */
export function makeFactoredReference<A extends FactoredAlgorithm>(
  algorithm: A, shape: readonly number[], param: Float64Array, options: FactoredOptions[A], mistake?: FactoredMistake<A>,
): Reference {
  return algorithm === "Adafactor"
    ? new AdafactorReference(param, shape, options as AdafactorOptions, mistake as FactoredMistake<"Adafactor">)
    : new LAMBReference(param, options as LAMBOptions, mistake as FactoredMistake<"LAMB">);
}
