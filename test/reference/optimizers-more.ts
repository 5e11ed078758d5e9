// Float64 references of ADOPT (adopt.py of the paper's repository), Schedule-Free AdamW
// (schedulefree/adamw_schedulefree.py) and Muon (torch/optim/_muon.py), written from those
// sources' code, element by element (Muon: plain triple-loop matrix products). No float32 here.
//
// Each can be built with a named `mistake`, a deliberately wrong variant the kernels must
// disagree with (see optimizers-extra.ts).

import type { ADOPTOptions, MuonOptions, ScheduleFreeAdamWOptions } from "../../src/index.js";

export const MISTAKES_MORE = {
  ADOPT: ["clipByIncrementedStep", "currentSecondMoment", "firstStepUpdates", "epsAdded", "swappedWeightDecayForms"],
  ScheduleFreeAdamW: ["noBiasCorrection2", "warmupCountsFromZero", "decayAtZ", "yStepWithoutBeta1", "uniformAverage"],
  Muon: ["noNesterov", "adjustByColsOverRows", "decayWithAdjustedLr", "oneFewerIteration"],
} as const;
export type MoreAlgorithm = keyof typeof MISTAKES_MORE;
export type MoreMistake<A extends MoreAlgorithm> = (typeof MISTAKES_MORE)[A][number];

export interface MoreReference {
  readonly param: Float64Array;
  readonly buffers: Record<string, Float64Array>;
  readonly scalars: Record<string, number>;
  step(grad: ArrayLike<number>): void;
}

export class ADOPTReference implements MoreReference {
  readonly buffers: Record<string, Float64Array>;
  readonly scalars = {};
  #step = 0; // the source's state step: 0 before the first step
  constructor(readonly param: Float64Array, readonly options: ADOPTOptions, readonly mistake?: MoreMistake<"ADOPT">) {
    this.buffers = { firstMoment: new Float64Array(param.length), secondMoment: new Float64Array(param.length) };
  }

  step(grad: ArrayLike<number>): void {
    const { lr, betas: [beta1, beta2], eps, weightDecay } = this.options;
    const decoupled = this.options.decoupled !== (this.mistake === "swappedWeightDecayForms");
    const p = this.param;
    const m = this.buffers.firstMoment!;
    const v = this.buffers.secondMoment!;
    const step = this.#step++;
    // firstStepUpdates: a first step that also moves p, with the clip of a count from 1.
    const clip = (this.mistake === "clipByIncrementedStep" ? step + 1 : this.mistake === "firstStepUpdates" ? Math.max(step, 1) : step) ** 0.25;
    for (let i = 0; i < p.length; i++) {
      const g = decoupled ? grad[i]! : grad[i]! + weightDecay * p[i]!;
      if (step === 0) {
        v[i] = v[i]! + g * g;
        if (this.mistake !== "firstStepUpdates") continue;
      }
      if (decoupled) p[i] = p[i]! - lr * weightDecay * p[i]!;
      if (this.mistake === "currentSecondMoment" && step > 0) v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
      const denom = this.mistake === "epsAdded" ? Math.sqrt(v[i]!) + eps : Math.max(Math.sqrt(v[i]!), eps);
      const normed = Math.min(Math.max(g / denom, -clip), clip);
      m[i] = m[i]! + (1 - beta1) * (normed - m[i]!);
      p[i] = p[i]! - lr * m[i]!;
      if (this.mistake !== "currentSecondMoment" && step > 0) v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
    }
  }
}

export class ScheduleFreeReference implements MoreReference {
  readonly buffers: Record<string, Float64Array>;
  readonly scalars = { weightSum: 0, lrMax: -1 };
  #k = 0;
  /** `param` holds y (train mode); `x()` gives the average. */
  constructor(readonly param: Float64Array, readonly options: ScheduleFreeAdamWOptions, readonly mistake?: MoreMistake<"ScheduleFreeAdamW">) {
    this.buffers = { z: Float64Array.from(param), secondMoment: new Float64Array(param.length) };
  }

  step(grad: ArrayLike<number>): void {
    const { lr: baseLr, betas: [beta1, beta2], eps, weightDecay, warmupSteps, rPower, weightLrPower } = this.options;
    const k = this.#k++;
    const sched = k < warmupSteps ? (this.mistake === "warmupCountsFromZero" ? k : k + 1) / warmupSteps : 1;
    const biasCorrection2 = this.mistake === "noBiasCorrection2" ? 1 : 1 - beta2 ** (k + 1);
    const lr = baseLr * sched;
    const lrMax = (this.scalars.lrMax = Math.max(lr, this.scalars.lrMax));
    const weight = this.mistake === "uniformAverage" ? 1 : (k + 1) ** rPower * lrMax ** weightLrPower;
    const weightSum = (this.scalars.weightSum += weight);
    const ckp1 = weightSum === 0 ? 0 : weight / weightSum;
    const y = this.param;
    const z = this.buffers.z!;
    const v = this.buffers.secondMoment!;
    const yStep = this.mistake === "yStepWithoutBeta1" ? -lr : lr * (beta1 * (1 - ckp1) - 1);
    for (let i = 0; i < y.length; i++) {
      const g = grad[i]!;
      v[i] = v[i]! * beta2 + (1 - beta2) * g * g;
      const denom = Math.sqrt(v[i]! / biasCorrection2) + eps;
      const u = g / denom + weightDecay * (this.mistake === "decayAtZ" ? z[i]! : y[i]!);
      y[i] = y[i]! + ckp1 * (z[i]! - y[i]!);
      y[i] = y[i]! + yStep * u;
      z[i] = z[i]! - lr * u;
    }
  }

  /** The source's eval(): p.lerp_(z, 1 − 1/β1), without changing `param`. */
  x(): Float64Array {
    const w = 1 - 1 / this.options.betas[0];
    return this.param.map((y, i) => y + w * (this.buffers.z![i]! - y));
  }
}

/** C = A·B for row-major A (m×k) and B (k×n). */
function product(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      for (let j = 0; j < n; j++) c[i * n + j] += aip * b[p * n + j]!;
    }
  }
  return c;
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

/** _zeropower_via_newtonschulz in float64: normalise, then iterate on the smaller Gram side. */
export function newtonSchulz(update: Float64Array, rows: number, cols: number, coefficients: readonly number[], steps: number, eps: number): Float64Array {
  const [a, b, c] = coefficients as [number, number, number];
  const tall = rows > cols;
  let x = tall ? transpose(update, rows, cols) : Float64Array.from(update);
  const [r, k] = tall ? [cols, rows] : [rows, cols];
  let norm = 0;
  for (const value of x) norm += value * value;
  const scale = Math.max(Math.sqrt(norm), eps);
  x = x.map((value) => value / scale);
  for (let s = 0; s < steps; s++) {
    const gram = product(x, transpose(x, r, k), r, k, r);
    const gram2 = product(gram, gram, r, r, r);
    const poly = gram.map((value, i) => b * value + c * gram2[i]!);
    const px = product(poly, x, r, r, k);
    x = x.map((value, i) => a * value + px[i]!);
  }
  return tall ? transpose(x, cols, rows) : x;
}

export class MuonReference implements MoreReference {
  readonly buffers: Record<string, Float64Array>;
  readonly scalars = {};
  constructor(readonly param: Float64Array, readonly rows: number, readonly cols: number, readonly options: MuonOptions, readonly mistake?: MoreMistake<"Muon">) {
    this.buffers = { momentumBuffer: new Float64Array(param.length) };
  }

  step(grad: ArrayLike<number>): void {
    const { lr, weightDecay, momentum, nsCoefficients, eps, nsSteps, adjustLrFn } = this.options;
    const nesterov = this.options.nesterov && this.mistake !== "noNesterov";
    const { rows, cols } = this;
    const buf = this.buffers.momentumBuffer!;
    const update = new Float64Array(buf.length);
    for (let i = 0; i < buf.length; i++) {
      buf[i] = buf[i]! + (1 - momentum) * (grad[i]! - buf[i]!);
      update[i] = nesterov ? grad[i]! + momentum * (buf[i]! - grad[i]!) : buf[i]!;
    }
    const ortho = newtonSchulz(update, rows, cols, nsCoefficients, this.mistake === "oneFewerIteration" ? nsSteps - 1 : nsSteps, eps);
    const [A, B] = this.mistake === "adjustByColsOverRows" ? [cols, rows] : [rows, cols];
    const adjusted = lr * (adjustLrFn === "match_rms_adamw" ? 0.2 * Math.sqrt(Math.max(A, B)) : Math.sqrt(Math.max(1, A / B)));
    const decay = 1 - (this.mistake === "decayWithAdjustedLr" ? adjusted : lr) * weightDecay;
    const p = this.param;
    for (let i = 0; i < p.length; i++) p[i] = p[i]! * decay - adjusted * ortho[i]!;
  }
}
