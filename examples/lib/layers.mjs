// The small layer helpers the demo trains with, on simdopt's kernels: Linear (matmul), ReLU,
// softmax cross-entropy. They live beside the example, not in the package: the package gives
// the kernels, optimizers and schedulers; a model is the user's.
import { matmul, parameter } from "../../dist/index.js";

/** y = x·Wᵀ + b with W of shape [out, in] (PyTorch's layout); weights He-initialised. */
export class Linear {
  constructor(inFeatures, outFeatures, { seed, name, init = "heNormal" }) {
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = parameter([outFeatures, inFeatures], { init, seed, name: `${name}.weight` });
    this.bias = parameter([outFeatures], { name: `${name}.bias` });
    this.input = null;
    this.rows = 0;
  }

  /** Keeps `x` ([rows, in]) for backward; returns a new [rows, out] array. */
  forward(x, rows) {
    this.input = x;
    this.rows = rows;
    const y = matmul(x, this.weight.data, { m: rows, k: this.inFeatures, n: this.outFeatures, transB: true });
    addRowVector(y, this.bias.data, rows, this.outFeatures);
    return y;
  }

  /**
   * Accumulates dW = dyᵀ·x and db = column sums of dy into the parameters' zero-copy `.grad`
   * (beta 1: gradients add up, as autograd does; zeroGrad clears them). Returns dx unless
   * `needInputGrad` is false (the first layer's input is data).
   */
  backward(dy, needInputGrad = true) {
    const { rows, inFeatures, outFeatures } = this;
    matmul(dy, this.input, { m: outFeatures, k: rows, n: inFeatures, transA: true, beta: 1, out: this.weight.grad });
    const db = this.bias.grad;
    for (let r = 0; r < rows; r++) {
      const o = r * outFeatures;
      for (let c = 0; c < outFeatures; c++) db[c] += dy[o + c];
    }
    return needInputGrad ? matmul(dy, this.weight.data, { m: rows, k: outFeatures, n: inFeatures }) : null;
  }

  get parameters() {
    return [this.weight, this.bias];
  }
}

function addRowVector(y, b, rows, columns) {
  for (let r = 0; r < rows; r++) {
    const o = r * columns;
    for (let c = 0; c < columns; c++) y[o + c] += b[c];
  }
}

/** max(x, 0) in place; `backward` zeroes dy where the input was ≤ 0. */
export class ReLU {
  forward(x) {
    for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] = 0;
    this.output = x;
    return x;
  }

  backward(dy) {
    const y = this.output;
    for (let i = 0; i < dy.length; i++) if (y[i] <= 0) dy[i] = 0;
    return dy;
  }
}

/**
 * Mean softmax cross-entropy of `logits` ([rows, classes]) against integer `labels` starting at
 * `first`; writes d(loss)/d(logits) into `grad` when given. Returns `{ loss, correct }`.
 */
export function softmaxCrossEntropy(logits, labels, first, rows, classes, grad) {
  let loss = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    const label = labels[first + r];
    let max = -Infinity;
    let best = 0;
    for (let c = 0; c < classes; c++) if (logits[o + c] > max) { max = logits[o + c]; best = c; }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[o + c] - max);
    loss += Math.log(sum) + max - logits[o + label];
    if (best === label) correct++;
    if (grad) {
      for (let c = 0; c < classes; c++) grad[o + c] = (Math.exp(logits[o + c] - max) / sum - (c === label ? 1 : 0)) / rows;
    }
  }
  return { loss: loss / rows, correct };
}
