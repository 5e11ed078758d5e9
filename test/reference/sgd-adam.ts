// Float64 references of SGD, Adam and AdamW, written from the pseudo-code in the PyTorch
// documentation (torch.optim.SGD / Adam / AdamW), one element array at a time. No float32 here:
// the kernels are compared against exact-ish arithmetic.

export interface SGDReferenceOptions { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean; maximize: boolean }

export class SGDReference {
  momentumBuffer: Float64Array | null = null;
  constructor(readonly param: Float64Array, readonly options: SGDReferenceOptions) {}

  step(grad: ArrayLike<number>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = this.options;
    const p = this.param;
    const first = this.momentumBuffer === null;
    if (momentum !== 0 && first) this.momentumBuffer = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      let g = maximize ? -grad[i]! : grad[i]!;
      if (weightDecay !== 0) g += weightDecay * p[i]!;
      if (momentum !== 0) {
        const b = this.momentumBuffer!;
        b[i] = first ? g : momentum * b[i]! + (1 - dampening) * g;
        g = nesterov ? g + momentum * b[i]! : b[i]!;
      }
      p[i] = p[i]! - lr * g;
    }
  }
}

export interface AdamReferenceOptions { lr: number; betas: [number, number]; eps: number; weightDecay: number; amsgrad: boolean; maximize: boolean }

/** Adam (decoupled = false: L2 added to the gradient) and AdamW (decoupled = true). */
export class AdamReference {
  step_ = 0;
  readonly firstMoment: Float64Array;
  readonly secondMoment: Float64Array;
  readonly maxSecondMoment: Float64Array;
  constructor(readonly param: Float64Array, readonly options: AdamReferenceOptions, readonly decoupled: boolean) {
    this.firstMoment = new Float64Array(param.length);
    this.secondMoment = new Float64Array(param.length);
    this.maxSecondMoment = new Float64Array(param.length);
  }

  step(grad: ArrayLike<number>): void {
    const { lr, betas: [beta1, beta2], eps, weightDecay, amsgrad, maximize } = this.options;
    const t = ++this.step_;
    const p = this.param;
    for (let i = 0; i < p.length; i++) {
      let g = maximize ? -grad[i]! : grad[i]!;
      if (this.decoupled) p[i] = p[i]! * (1 - lr * weightDecay);
      else if (weightDecay !== 0) g += weightDecay * p[i]!;
      const m = (this.firstMoment[i] = beta1 * this.firstMoment[i]! + (1 - beta1) * g);
      const v = (this.secondMoment[i] = beta2 * this.secondMoment[i]! + (1 - beta2) * g * g);
      const mHat = m / (1 - beta1 ** t);
      let vHat = v / (1 - beta2 ** t);
      if (amsgrad) {
        this.maxSecondMoment[i] = Math.max(this.maxSecondMoment[i]!, v);
        vHat = this.maxSecondMoment[i]! / (1 - beta2 ** t);
      }
      p[i] = p[i]! - (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  }
}
