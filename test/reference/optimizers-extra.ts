// Float64 references of Adagrad, RMSprop, Adadelta, Adamax, NAdam, RAdam and Lion, written
// element by element from the pseudo-code in the PyTorch documentation (torch.optim.*; Lion from
// Chen et al. 2023 / lion-pytorch), with PyTorch's current order: maximize negates the gradient
// first, then L2 weight decay is added to it. No float32 arithmetic here.
//
// Each reference can also be built with a named `mistake`: a deliberately wrong variant (eps
// inside the square root, a missing bias correction, L2 instead of decoupled decay, the wrong
// Nesterov form, ...). The tests assert that the kernels DISAGREE with every such variant, which
// proves that the comparison would catch that mistake in the kernel.

import type {
  AdadeltaOptions, AdagradOptions, AdamaxOptions, LionOptions, NAdamOptions, RAdamOptions, RMSpropOptions,
} from "../../src/index.js";

export interface OptionsByAlgorithm {
  Adagrad: AdagradOptions;
  RMSprop: RMSpropOptions;
  Adadelta: AdadeltaOptions;
  Adamax: AdamaxOptions;
  NAdam: NAdamOptions;
  RAdam: RAdamOptions;
  Lion: LionOptions;
}
export type Algorithm = keyof OptionsByAlgorithm;
export const ALGORITHMS: readonly Algorithm[] = ["Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "Lion"];

/** The wrong variants each reference can be asked to make. */
export const MISTAKES = {
  Adagrad: ["epsInsideSqrt", "lrDecayCountsFromOne", "accumulatorStartsAtZero", "decoupledInsteadOfL2", "maximizeAfterWeightDecay"],
  RMSprop: ["epsInsideSqrt", "centeredWithoutMean", "momentumBeforeScaling", "alphaSwapped", "decoupledInsteadOfL2"],
  Adadelta: ["epsOutsideSqrt", "ignoresLr", "decoupledInsteadOfL2", "maximizeAfterWeightDecay"],
  Adamax: ["epsOutsideMax", "noBiasCorrection", "decoupledInsteadOfL2", "maximizeAfterWeightDecay"],
  NAdam: ["epsInsideSqrt", "noBiasCorrection2", "muInsteadOfMuNext", "constantMomentumSchedule", "noNesterovLookahead", "swappedWeightDecayForms"],
  RAdam: ["noRectification", "epsAfterBiasCorrection", "unadaptedStepWithoutBiasCorrection", "swappedWeightDecayForms", "maximizeAfterWeightDecay"],
  Lion: ["swappedBetas", "signOfUpdatedMomentum", "l2InsteadOfDecoupled"],
} as const satisfies Record<Algorithm, readonly string[]>;
export type Mistake<A extends Algorithm> = (typeof MISTAKES)[A][number];

/** What every reference exposes: the parameter, state buffers and scalars under the kernel's names. */
export interface Reference {
  readonly param: Float64Array;
  readonly buffers: Record<string, Float64Array>;
  readonly scalars: Record<string, number>;
  /**
   * Lion only: per element, how many steps had a sign argument so close to zero that float32
   * rounding may legitimately flip the sign (each flip moves the parameter by 2·lr).
   */
  readonly nearTies?: Uint16Array;
  step(grad: ArrayLike<number>): void;
}

/** ±g, then the L2 term (or, as a mistake, the L2 term first and then the sign). */
function gradient(raw: number, p: number, weightDecay: number, maximize: boolean, maximizeAfterWeightDecay: boolean): number {
  if (maximizeAfterWeightDecay) {
    const g = raw + weightDecay * p;
    return maximize ? -g : g;
  }
  const g = maximize ? -raw : raw;
  return weightDecay !== 0 ? g + weightDecay * p : g;
}

class AdagradReference implements Reference {
  readonly buffers: Record<string, Float64Array>;
  readonly scalars = {};
  #step = 0;
  constructor(readonly param: Float64Array, readonly options: AdagradOptions, readonly mistake?: Mistake<"Adagrad">) {
    const initial = mistake === "accumulatorStartsAtZero" ? 0 : options.initialAccumulatorValue;
    this.buffers = { stateSum: new Float64Array(param.length).fill(initial) };
  }

  step(grad: ArrayLike<number>): void {
    const { lr, lrDecay, weightDecay, eps, maximize } = this.options;
    const t = ++this.#step;
    const clr = lr / (1 + (this.mistake === "lrDecayCountsFromOne" ? t : t - 1) * lrDecay);
    const p = this.param;
    const sum = this.buffers.stateSum!;
    const decoupled = this.mistake === "decoupledInsteadOfL2";
    for (let i = 0; i < p.length; i++) {
      if (decoupled) p[i] = p[i]! * (1 - lr * weightDecay);
      const g = gradient(grad[i]!, p[i]!, decoupled ? 0 : weightDecay, maximize, this.mistake === "maximizeAfterWeightDecay");
      sum[i] = sum[i]! + g * g;
      const denom = this.mistake === "epsInsideSqrt" ? Math.sqrt(sum[i]! + eps) : Math.sqrt(sum[i]!) + eps;
      p[i] = p[i]! - (clr * g) / denom;
    }
  }
}

class RMSpropReference implements Reference {
  readonly buffers: Record<string, Float64Array> = {};
  readonly scalars = {};
  constructor(readonly param: Float64Array, readonly options: RMSpropOptions, readonly mistake?: Mistake<"RMSprop">) {}

  #buffer(name: string): Float64Array {
    return (this.buffers[name] ??= new Float64Array(this.param.length));
  }

  step(grad: ArrayLike<number>): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = this.options;
    const p = this.param;
    const squareAvg = this.#buffer("squareAvg");
    const gradAvg = centered ? this.#buffer("gradAvg") : null;
    const momentumBuffer = momentum > 0 ? this.#buffer("momentumBuffer") : null;
    const decoupled = this.mistake === "decoupledInsteadOfL2";
    const [keep, blend] = this.mistake === "alphaSwapped" ? [1 - alpha, alpha] : [alpha, 1 - alpha];
    for (let i = 0; i < p.length; i++) {
      if (decoupled) p[i] = p[i]! * (1 - lr * weightDecay);
      const g = gradient(grad[i]!, p[i]!, decoupled ? 0 : weightDecay, maximize, false);
      squareAvg[i] = keep * squareAvg[i]! + blend * g * g;
      let variance = squareAvg[i]!;
      if (gradAvg !== null) {
        gradAvg[i] = keep * gradAvg[i]! + blend * g;
        // Clamped at 0 as the kernel does (PyTorch takes the square root of a negative rounding: NaN).
        if (this.mistake !== "centeredWithoutMean") variance = Math.max(variance - gradAvg[i]! * gradAvg[i]!, 0);
      }
      const avg = this.mistake === "epsInsideSqrt" ? Math.sqrt(variance + eps) : Math.sqrt(variance) + eps;
      if (momentumBuffer !== null) {
        if (this.mistake === "momentumBeforeScaling") {
          momentumBuffer[i] = momentum * momentumBuffer[i]! + g;
          p[i] = p[i]! - (lr * momentumBuffer[i]!) / avg;
        } else {
          momentumBuffer[i] = momentum * momentumBuffer[i]! + g / avg;
          p[i] = p[i]! - lr * momentumBuffer[i]!;
        }
      } else {
        p[i] = p[i]! - (lr * g) / avg;
      }
    }
  }
}

class AdadeltaReference implements Reference {
  readonly buffers: Record<string, Float64Array>;
  readonly scalars = {};
  constructor(readonly param: Float64Array, readonly options: AdadeltaOptions, readonly mistake?: Mistake<"Adadelta">) {
    this.buffers = { squareAvg: new Float64Array(param.length), accDelta: new Float64Array(param.length) };
  }

  step(grad: ArrayLike<number>): void {
    const { lr, rho, eps, weightDecay, maximize } = this.options;
    const p = this.param;
    const { squareAvg, accDelta } = this.buffers as { squareAvg: Float64Array; accDelta: Float64Array };
    const decoupled = this.mistake === "decoupledInsteadOfL2";
    const rate = this.mistake === "ignoresLr" ? 1 : lr;
    for (let i = 0; i < p.length; i++) {
      if (decoupled) p[i] = p[i]! * (1 - lr * weightDecay);
      const g = gradient(grad[i]!, p[i]!, decoupled ? 0 : weightDecay, maximize, this.mistake === "maximizeAfterWeightDecay");
      squareAvg[i] = rho * squareAvg[i]! + (1 - rho) * g * g;
      const delta = this.mistake === "epsOutsideSqrt"
        ? ((Math.sqrt(accDelta[i]!) + eps) / (Math.sqrt(squareAvg[i]!) + eps)) * g
        : (Math.sqrt(accDelta[i]! + eps) / Math.sqrt(squareAvg[i]! + eps)) * g;
      accDelta[i] = rho * accDelta[i]! + (1 - rho) * delta * delta;
      p[i] = p[i]! - rate * delta;
    }
  }
}

class AdamaxReference implements Reference {
  readonly buffers: Record<string, Float64Array>;
  readonly scalars = {};
  #step = 0;
  constructor(readonly param: Float64Array, readonly options: AdamaxOptions, readonly mistake?: Mistake<"Adamax">) {
    this.buffers = { firstMoment: new Float64Array(param.length), infinityNorm: new Float64Array(param.length) };
  }

  step(grad: ArrayLike<number>): void {
    const { lr, betas: [beta1, beta2], eps, weightDecay, maximize } = this.options;
    const t = ++this.#step;
    const p = this.param;
    const { firstMoment: m, infinityNorm: u } = this.buffers as { firstMoment: Float64Array; infinityNorm: Float64Array };
    const decoupled = this.mistake === "decoupledInsteadOfL2";
    const clr = this.mistake === "noBiasCorrection" ? lr : lr / (1 - beta1 ** t);
    for (let i = 0; i < p.length; i++) {
      if (decoupled) p[i] = p[i]! * (1 - lr * weightDecay);
      const g = gradient(grad[i]!, p[i]!, decoupled ? 0 : weightDecay, maximize, this.mistake === "maximizeAfterWeightDecay");
      m[i] = beta1 * m[i]! + (1 - beta1) * g;
      if (this.mistake === "epsOutsideMax") {
        u[i] = Math.max(beta2 * u[i]!, Math.abs(g));
        p[i] = p[i]! - (clr * m[i]!) / (u[i]! + eps);
      } else {
        u[i] = Math.max(beta2 * u[i]!, Math.abs(g) + eps);
        p[i] = p[i]! - (clr * m[i]!) / u[i]!;
      }
    }
  }
}

class NAdamReference implements Reference {
  readonly buffers: Record<string, Float64Array>;
  readonly scalars = { muProduct: 1 };
  #step = 0;
  constructor(readonly param: Float64Array, readonly options: NAdamOptions, readonly mistake?: Mistake<"NAdam">) {
    this.buffers = { firstMoment: new Float64Array(param.length), secondMoment: new Float64Array(param.length) };
  }

  step(grad: ArrayLike<number>): void {
    const { lr, betas: [beta1, beta2], eps, weightDecay, momentumDecay, decoupledWeightDecay, maximize } = this.options;
    const t = ++this.#step;
    const p = this.param;
    const { firstMoment: m, secondMoment: v } = this.buffers as { firstMoment: Float64Array; secondMoment: Float64Array };
    const decoupled = decoupledWeightDecay !== (this.mistake === "swappedWeightDecayForms");
    // μ_t and μ_{t+1}: the momentum schedule; Π μ_i runs over the steps taken so far.
    let mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentumDecay));
    let muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentumDecay));
    if (this.mistake === "constantMomentumSchedule") mu = muNext = beta1;
    const muProduct = (this.scalars.muProduct *= mu);
    const muProductNext = muProduct * muNext;
    const biasCorrection2 = this.mistake === "noBiasCorrection2" ? 1 : 1 - beta2 ** t;
    for (let i = 0; i < p.length; i++) {
      if (decoupled) p[i] = p[i]! * (1 - lr * weightDecay);
      const g = gradient(grad[i]!, p[i]!, decoupled ? 0 : weightDecay, maximize, false);
      m[i] = beta1 * m[i]! + (1 - beta1) * g;
      v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
      let mHat: number;
      if (this.mistake === "muInsteadOfMuNext") mHat = (mu * m[i]!) / (1 - muProduct) + ((1 - mu) * g) / (1 - muProduct);
      else if (this.mistake === "noNesterovLookahead") mHat = m[i]! / (1 - beta1 ** t);
      else mHat = (muNext * m[i]!) / (1 - muProductNext) + ((1 - mu) * g) / (1 - muProduct);
      const vHat = v[i]! / biasCorrection2;
      const denom = this.mistake === "epsInsideSqrt" ? Math.sqrt(vHat + eps) : Math.sqrt(vHat) + eps;
      p[i] = p[i]! - (lr * mHat) / denom;
    }
  }
}

class RAdamReference implements Reference {
  readonly buffers: Record<string, Float64Array>;
  readonly scalars = {};
  #step = 0;
  constructor(readonly param: Float64Array, readonly options: RAdamOptions, readonly mistake?: Mistake<"RAdam">) {
    this.buffers = { firstMoment: new Float64Array(param.length), secondMoment: new Float64Array(param.length) };
  }

  step(grad: ArrayLike<number>): void {
    const { lr, betas: [beta1, beta2], eps, weightDecay, decoupledWeightDecay, maximize } = this.options;
    const t = ++this.#step;
    const p = this.param;
    const { firstMoment: m, secondMoment: v } = this.buffers as { firstMoment: Float64Array; secondMoment: Float64Array };
    const decoupled = decoupledWeightDecay !== (this.mistake === "swappedWeightDecayForms");
    const biasCorrection1 = 1 - beta1 ** t;
    const biasCorrection2 = 1 - beta2 ** t;
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * t * beta2 ** t) / biasCorrection2;
    const rectified = rhoT > 5 || this.mistake === "noRectification";
    const rectification = this.mistake === "noRectification"
      ? 1
      : Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
    for (let i = 0; i < p.length; i++) {
      if (decoupled) p[i] = p[i]! * (1 - lr * weightDecay);
      const g = gradient(grad[i]!, p[i]!, decoupled ? 0 : weightDecay, maximize, this.mistake === "maximizeAfterWeightDecay");
      m[i] = beta1 * m[i]! + (1 - beta1) * g;
      v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
      const mHat = m[i]! / biasCorrection1;
      if (rectified) {
        const adaptive = this.mistake === "epsAfterBiasCorrection"
          ? 1 / (Math.sqrt(v[i]! / biasCorrection2) + eps)
          : Math.sqrt(biasCorrection2) / (Math.sqrt(v[i]!) + eps);
        p[i] = p[i]! - lr * mHat * adaptive * rectification;
      } else {
        p[i] = p[i]! - lr * (this.mistake === "unadaptedStepWithoutBiasCorrection" ? m[i]! : mHat);
      }
    }
  }
}

/** How close to zero (relative to its terms) a Lion sign argument must be to count as a near-tie. */
export const LION_TIE_THRESHOLD = 3e-5;
/** Below this a float32 sign argument has lost relative precision to underflow (2^-126 · 2^-24 · …). */
export const LION_UNDERFLOW = 2 ** -100;

class LionReference implements Reference {
  readonly buffers: Record<string, Float64Array>;
  readonly scalars = {};
  readonly nearTies: Uint16Array;
  constructor(readonly param: Float64Array, readonly options: LionOptions, readonly mistake?: Mistake<"Lion">) {
    this.buffers = { firstMoment: new Float64Array(param.length) };
    this.nearTies = new Uint16Array(param.length);
  }

  step(grad: ArrayLike<number>): void {
    const { lr, betas, weightDecay, maximize } = this.options;
    const [beta1, beta2] = this.mistake === "swappedBetas" ? [betas[1], betas[0]] : betas;
    const p = this.param;
    const m = this.buffers.firstMoment!;
    const l2 = this.mistake === "l2InsteadOfDecoupled";
    for (let i = 0; i < p.length; i++) {
      const g = gradient(grad[i]!, p[i]!, l2 ? weightDecay : 0, maximize, false);
      if (!l2) p[i] = p[i]! * (1 - lr * weightDecay);
      let direction: number;
      if (this.mistake === "signOfUpdatedMomentum") {
        m[i] = beta2 * m[i]! + (1 - beta2) * g;
        direction = m[i]!;
      } else {
        direction = beta1 * m[i]! + (1 - beta1) * g;
        const magnitude = Math.abs(beta1 * m[i]!) + Math.abs((1 - beta1) * g);
        // A direction that small in float32 may also have underflowed to ±0 (sign 0).
        if (Math.abs(direction) <= LION_TIE_THRESHOLD * magnitude || Math.abs(direction) < LION_UNDERFLOW) this.nearTies[i]!++;
        m[i] = beta2 * m[i]! + (1 - beta2) * g;
      }
      p[i] = p[i]! - lr * Math.sign(direction);
    }
  }
}

/** A float64 reference of `algorithm` over `param` (modified in place), optionally with a mistake. */
export function makeReference<A extends Algorithm>(algorithm: A, param: Float64Array, options: OptionsByAlgorithm[A], mistake?: Mistake<A>): Reference {
  switch (algorithm) {
    case "Adagrad": return new AdagradReference(param, options as AdagradOptions, mistake as Mistake<"Adagrad">);
    case "RMSprop": return new RMSpropReference(param, options as RMSpropOptions, mistake as Mistake<"RMSprop">);
    case "Adadelta": return new AdadeltaReference(param, options as AdadeltaOptions, mistake as Mistake<"Adadelta">);
    case "Adamax": return new AdamaxReference(param, options as AdamaxOptions, mistake as Mistake<"Adamax">);
    case "NAdam": return new NAdamReference(param, options as NAdamOptions, mistake as Mistake<"NAdam">);
    case "RAdam": return new RAdamReference(param, options as RAdamOptions, mistake as Mistake<"RAdam">);
    case "Lion": return new LionReference(param, options as LionOptions, mistake as Mistake<"Lion">);
    default: throw new Error(`no reference for ${String(algorithm)}`);
  }
}
