// The plain-JS loops of the multi-pass optimizers (Adafactor, LAMB) that bench/optim.mjs times
// simdopt against, and the state-size measure behind its bytes-per-parameter table.

/** What a user would write without simdopt, with the same passes as simdopt's kernels. */
export const plainFactored = {
  // Adafactor on one [rows, cols] matrix (torch's defaults): row/column means of g², the update's
  // RMS, then the step; the same three passes over g as simdopt's kernels.
  adafactorMatrix(p, g, rowVar, colVar, rows, cols, step) {
    const w = step ** -0.8;
    const eps1 = 2 ** -23;
    let squares = 0;
    for (let i = 0; i < p.length; i++) squares += p[i] * p[i];
    const alpha = Math.max(1e-3, Math.sqrt(squares / p.length)) * Math.min(1e-2, 1 / Math.sqrt(step));
    for (let j = 0; j < cols; j++) colVar[j] *= 1 - w;
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      for (let j = 0, at = i * cols; j < cols; j++, at++) {
        const sq = g[at] * g[at];
        sum += sq;
        colVar[j] += (w / rows) * sq;
      }
      rowVar[i] += w * (sum / cols - rowVar[i]);
    }
    let mean = 0;
    for (let i = 0; i < rows; i++) mean += rowVar[i] / rows;
    mean = Math.max(mean, eps1);
    let updateSquares = 0;
    for (let i = 0; i < rows; i++) {
      const scale = rowVar[i] / mean;
      for (let j = 0, at = i * cols; j < cols; j++, at++) updateSquares += (g[at] * g[at]) / Math.max(scale * colVar[j], eps1 * eps1);
    }
    const stepScale = alpha / Math.max(1, Math.sqrt(updateSquares / p.length));
    for (let i = 0; i < rows; i++) {
      const scale = rowVar[i] / mean;
      for (let j = 0, at = i * cols; j < cols; j++, at++) p[at] -= (stepScale * g[at]) / Math.sqrt(Math.max(scale * colVar[j], eps1 * eps1));
    }
  },
  adafactorVector(p, g, v, step) {
    const w = step ** -0.8;
    const floor = 2 ** -46;
    let squares = 0;
    let updateSquares = 0;
    for (let i = 0; i < p.length; i++) {
      squares += p[i] * p[i];
      const vi = (v[i] += w * (g[i] * g[i] - v[i]));
      updateSquares += (g[i] * g[i]) / Math.max(vi, floor);
    }
    const alpha = Math.max(1e-3, Math.sqrt(squares / p.length)) * Math.min(1e-2, 1 / Math.sqrt(step));
    const stepScale = alpha / Math.max(1, Math.sqrt(updateSquares / p.length));
    for (let i = 0; i < p.length; i++) p[i] -= (stepScale * g[i]) / Math.sqrt(Math.max(v[i], floor));
  },
  lamb(p, g, m, v, { lr, beta1, beta2, eps, step }) {
    const bc1 = 1 - beta1 ** step;
    const bc2 = 1 - beta2 ** step;
    let updateSquares = 0;
    let squares = 0;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gi);
      const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
      const u = mi / bc1 / (Math.sqrt(vi / bc2) + eps);
      updateSquares += u * u;
      squares += p[i] * p[i];
    }
    const ratio = squares > 0 && updateSquares > 0 ? Math.sqrt(squares / updateSquares) : 1;
    for (let i = 0; i < p.length; i++) p[i] -= (ratio * lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + eps);
  },
};

/** Bytes of optimizer state per parameter element, from a state dict after one step. */
export function stateBytesPerParam(simdopt, make, shape) {
  const p = simdopt.parameter(shape, { init: "ones" });
  p.grad.fill(1e-3);
  const optimizer = make(p);
  optimizer.step();
  const floats = Object.values(optimizer.stateDict().state[0].buffers).reduce((sum, b) => sum + b.length, 0);
  optimizer.dispose();
  p.dispose();
  return (4 * floats) / p.size;
}
