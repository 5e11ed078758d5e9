// The float64 references of Adafactor and LAMB for test/runtimes/expected.json (imported by
// generate-expected.mjs), written from torch/optim/_adafactor.py and Keras 3 lamb.py
// independently of the package: step(p, g, t) over one parameter of `shape`, keeping its state.

const zeros = (n) => new Float64Array(n);

// Adafactor as torch/optim/_adafactor.py: factored over the last two axes for ≥ 2-D parameters.
export function adafactor(o, n, shape) {
  const eps1 = o.eps[0] ?? 2 ** -23;
  const factored = shape.length >= 2;
  const cols = shape[shape.length - 1];
  const rows = shape[shape.length - 2];
  const rowVar = factored ? zeros(n / cols) : null;
  const colVar = factored ? zeros(n / rows) : null;
  const variance = zeros(n);
  const sumSquares = (x) => x.reduce((s, v) => s + v * v, 0);
  return (p, grad, t) => {
    const g = Array.from(grad, (v) => (o.maximize ? -v : v));
    const w = t ** o.beta2Decay;
    const alpha = Math.max(o.eps[1], Math.sqrt(sumSquares(p) / n)) * Math.min(o.lr, 1 / Math.sqrt(t));
    for (let i = 0; i < n; i++) p[i] *= 1 - o.lr * o.weightDecay;
    const estimate = zeros(n);
    if (factored) {
      for (let b = 0; b < n / (rows * cols); b++) {
        const at = (i, j) => (b * rows + i) * cols + j;
        for (let i = 0; i < rows; i++) {
          let mean = 0;
          for (let j = 0; j < cols; j++) mean += g[at(i, j)] ** 2 / cols;
          rowVar[b * rows + i] += w * (mean - rowVar[b * rows + i]);
        }
        for (let j = 0; j < cols; j++) {
          let mean = 0;
          for (let i = 0; i < rows; i++) mean += g[at(i, j)] ** 2 / rows;
          colVar[b * cols + j] += w * (mean - colVar[b * cols + j]);
        }
        let rowMean = 0;
        for (let i = 0; i < rows; i++) rowMean += rowVar[b * rows + i] / rows;
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) estimate[at(i, j)] = (rowVar[b * rows + i] * colVar[b * cols + j]) / Math.max(rowMean, eps1);
        }
      }
    } else {
      for (let i = 0; i < n; i++) estimate[i] = variance[i] += w * (g[i] ** 2 - variance[i]);
    }
    const update = estimate.map((v, i) => g[i] / Math.sqrt(Math.max(v, eps1 * eps1)));
    const denom = Math.max(1, Math.sqrt(sumSquares(update) / n) / o.d);
    for (let i = 0; i < n; i++) p[i] -= (alpha / denom) * update[i];
  };
}

// LAMB as Keras 3 lamb.py, with the base optimizer's weight decay p −= p·wd·lr before it.
export function lamb(o, n) {
  const [beta1, beta2] = o.betas;
  const m = zeros(n);
  const v = zeros(n);
  return (p, grad, t) => {
    for (let i = 0; i < n; i++) p[i] -= p[i] * o.weightDecay * o.lr;
    const update = zeros(n);
    for (let i = 0; i < n; i++) {
      m[i] += (grad[i] - m[i]) * (1 - beta1);
      v[i] += (grad[i] ** 2 - v[i]) * (1 - beta2);
      update[i] = m[i] / (1 - beta1 ** t) / (Math.sqrt(v[i] / (1 - beta2 ** t)) + o.eps);
    }
    const wNorm = Math.hypot(...p);
    const uNorm = Math.hypot(...update);
    const ratio = wNorm > 0 && uNorm > 0 ? wNorm / uNorm : 1;
    for (let i = 0; i < n; i++) p[i] -= ratio * o.lr * update[i];
  };
}
