// Float64 references of the proximal-L1 optimizers and FTRL, from the sources' algorithms:
// TensorFlow's ProximalGradientDescent / ProximalAdagrad kernels (prox_v = the plain step,
// var = sign(prox_v)·max(|prox_v| − lr_eff·l1, 0)) on PyTorch's SGD/Adagrad steps, and Keras 3's
// keras.optimizers.Ftrl update_step. `active(i)` says which elements of the parameter a step
// updates (masked-in elements, touched rows); `stateActive(i)` which elements of the state it
// updates (all for a mask, the rows for a rows step). `mistake` selects a deliberately wrong
// variant that the kernels must not match.

export type Active = (i: number) => boolean;
const ALL: Active = () => true;

function shrink(x: number, threshold: number): number {
  return Math.sign(x) * Math.max(Math.abs(x) - threshold, 0);
}

export interface ProximalSGDOptions { lr: number; momentum: number; weightDecay: number; l1: number }
/** The wrong variants each reference makes, by optimizer (the spec table lists the same). */
export const PROXIMAL_MISTAKES = {
  SGD: ["thresholdBeforeStep", "subgradient"],
  Adagrad: ["thresholdBeforeStep", "plainLr"],
  Ftrl: ["shrinkageInAccumulator", "noBeta", "sigmaFromNew", "l1Subtracted"],
} as const;
export type ProximalMistake = "none" | (typeof PROXIMAL_MISTAKES)["SGD" | "Adagrad"][number];

export class ProximalSGDReference {
  readonly buffer: Float64Array;
  #first = true;
  constructor(readonly param: Float64Array, readonly options: ProximalSGDOptions, readonly mistake: ProximalMistake = "none") {
    this.buffer = new Float64Array(param.length);
  }

  step(grad: ArrayLike<number>, active: Active = ALL, stateActive: Active = ALL): void {
    const { lr, momentum, weightDecay, l1 } = this.options;
    const p = this.param;
    for (let i = 0; i < p.length; i++) {
      if (!stateActive(i)) continue;
      let g = grad[i]! + weightDecay * p[i]!;
      if (this.mistake === "subgradient") g += l1 * Math.sign(p[i]!);
      if (momentum !== 0) {
        this.buffer[i] = this.#first ? g : momentum * this.buffer[i]! + g;
        g = this.buffer[i]!;
      }
      if (!active(i)) continue;
      if (this.mistake === "thresholdBeforeStep") p[i] = shrink(p[i]!, lr * l1) - lr * g;
      else if (this.mistake === "subgradient") p[i] = p[i]! - lr * g;
      else p[i] = shrink(p[i]! - lr * g, lr * l1);
    }
    this.#first = false;
  }
}

export interface ProximalAdagradOptions { lr: number; eps: number; initialAccumulatorValue: number; l1: number }

export class ProximalAdagradReference {
  readonly sum: Float64Array;
  constructor(readonly param: Float64Array, readonly options: ProximalAdagradOptions, readonly mistake: ProximalMistake = "none") {
    this.sum = new Float64Array(param.length).fill(options.initialAccumulatorValue);
  }

  step(grad: ArrayLike<number>, active: Active = ALL, stateActive: Active = ALL): void {
    const { lr, eps, l1 } = this.options;
    const p = this.param;
    for (let i = 0; i < p.length; i++) {
      if (!stateActive(i)) continue;
      const g = grad[i]!;
      this.sum[i] = this.sum[i]! + g * g;
      if (!active(i)) continue;
      const lrEff = lr / (Math.sqrt(this.sum[i]!) + eps);
      const threshold = this.mistake === "plainLr" ? lr * l1 : lrEff * l1;
      if (this.mistake === "thresholdBeforeStep") p[i] = shrink(p[i]!, threshold) - lrEff * g;
      else p[i] = shrink(p[i]! - lrEff * g, threshold);
    }
  }
}

export interface FtrlReferenceOptions {
  lr: number; lrPower: number; initialAccumulatorValue: number; l1: number; l2: number; l2Shrinkage: number; beta: number;
}
export type FtrlMistake = "none" | (typeof PROXIMAL_MISTAKES)["Ftrl"][number];

/** keras.optimizers.Ftrl.update_step, per element. */
export class FtrlReference {
  readonly accumulator: Float64Array;
  readonly linear: Float64Array;
  constructor(readonly param: Float64Array, readonly options: FtrlReferenceOptions, readonly mistake: FtrlMistake = "none") {
    this.accumulator = new Float64Array(param.length).fill(options.initialAccumulatorValue);
    this.linear = new Float64Array(param.length);
  }

  step(grad: ArrayLike<number>, active: Active = ALL, stateActive: Active = ALL): void {
    const { lr, lrPower, l1, l2Shrinkage, beta } = this.options;
    const l2 = this.options.l2 + (this.mistake === "noBeta" ? 0 : beta / (2 * lr));
    const p = this.param;
    for (let i = 0; i < p.length; i++) {
      if (!stateActive(i)) continue;
      const g = grad[i]!;
      const gradToUse = g + 2 * l2Shrinkage * p[i]!;
      const accum = this.accumulator[i]!;
      const newAccum = accum + (this.mistake === "shrinkageInAccumulator" ? gradToUse * gradToUse : g * g);
      const sigma = this.mistake === "sigmaFromNew"
        ? newAccum ** -lrPower / lr
        : (newAccum ** -lrPower - accum ** -lrPower) / lr;
      this.linear[i] = this.linear[i]! + gradToUse - sigma * p[i]!;
      const quadratic = newAccum ** -lrPower / lr + 2 * l2;
      const z = this.linear[i]!;
      const clipped = this.mistake === "l1Subtracted" ? Math.sign(z) * Math.max(Math.abs(z) - l1, 0) : Math.min(Math.max(z, -l1), l1);
      // Keras updates the variable wherever the step runs; a mask then keeps the old value.
      if (active(i)) p[i] = (clipped - z) / quadratic;
      this.accumulator[i] = newAccum;
    }
  }
}
