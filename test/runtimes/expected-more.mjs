// Float64 references of ADOPT (adopt.py), Schedule-Free AdamW (adamw_schedulefree.py; the
// result is x, after eval()) and Muon (torch/optim/_muon.py) for generate-expected.mjs, in the
// same form as its other optimizers: (options, length, shape) → step(p, grad, t).

const zeros = (n) => new Float64Array(n);

export const MORE_OPTIMIZERS = {
  ADOPT(o, n) {
    const [beta1, beta2] = o.betas;
    const m = zeros(n);
    const v = zeros(n);
    return (p, grad, t) => {
      const clip = (t - 1) ** 0.25;
      for (let i = 0; i < n; i++) {
        const g = o.decoupled ? grad[i] : grad[i] + o.weightDecay * p[i];
        if (t === 1) {
          v[i] += g * g;
          continue;
        }
        if (o.decoupled) p[i] -= o.lr * o.weightDecay * p[i];
        const normed = Math.min(Math.max(g / Math.max(Math.sqrt(v[i]), o.eps), -clip), clip);
        m[i] += (1 - beta1) * (normed - m[i]);
        p[i] -= o.lr * m[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      }
    };
  },
  ScheduleFreeAdamW(o, n) {
    const [beta1, beta2] = o.betas;
    let z = null;
    const v = zeros(n);
    let lrMax = -1;
    let weightSum = 0;
    const step = (y, grad, t) => {
      if (z === null) z = Float64Array.from(y);
      const lr = o.lr * (t <= o.warmupSteps ? t / o.warmupSteps : 1);
      lrMax = Math.max(lr, lrMax);
      const weight = t ** o.rPower * lrMax ** o.weightLrPower;
      weightSum += weight;
      const ckp1 = weightSum === 0 ? 0 : weight / weightSum;
      for (let i = 0; i < n; i++) {
        v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
        const u = grad[i] / (Math.sqrt(v[i] / (1 - beta2 ** t)) + o.eps) + o.weightDecay * y[i];
        y[i] += ckp1 * (z[i] - y[i]) + lr * (beta1 * (1 - ckp1) - 1) * u;
        z[i] -= lr * u;
      }
    };
    // eval(): y.lerp_(z, 1 − 1/β1)
    step.finish = (y) => {
      for (let i = 0; i < n; i++) y[i] += (1 - 1 / beta1) * (z[i] - y[i]);
    };
    return step;
  },
  Muon(o, n, [rows, cols]) {
    const buf = zeros(n);
    const [a, b, c] = o.nsCoefficients;
    const tall = rows > cols;
    const [r, k] = tall ? [cols, rows] : [rows, cols];
    return (p, grad) => {
      // x: the update, transposed when tall, as an r×k array of rows.
      const x = Array.from({ length: r }, () => zeros(k));
      let norm = 0;
      for (let i = 0; i < n; i++) {
        buf[i] += (1 - o.momentum) * (grad[i] - buf[i]);
        const u = o.nesterov ? grad[i] + o.momentum * (buf[i] - grad[i]) : buf[i];
        const [row, col] = [Math.floor(i / cols), i % cols];
        if (tall) x[col][row] = u;
        else x[row][col] = u;
        norm += u * u;
      }
      const scale = Math.max(Math.sqrt(norm), o.eps);
      for (const row of x) for (let j = 0; j < k; j++) row[j] /= scale;
      for (let s = 0; s < o.nsSteps; s++) {
        const gram = x.map((xi) => x.map((xj) => xi.reduce((sum, value, q) => sum + value * xj[q], 0)));
        const poly = gram.map((gi) => gi.map((value, j) => b * value + c * gi.reduce((sum, giq, q) => sum + giq * gram[q][j], 0)));
        const next = poly.map((pi, i) => x[i].map((value, j) => a * value + pi.reduce((sum, piq, q) => sum + piq * x[q][j], 0)));
        x.splice(0, r, ...next);
      }
      const adjusted = o.lr * (o.adjustLrFn === "match_rms_adamw" ? 0.2 * Math.sqrt(Math.max(rows, cols)) : Math.sqrt(Math.max(1, rows / cols)));
      for (let i = 0; i < n; i++) {
        const [row, col] = [Math.floor(i / cols), i % cols];
        p[i] = p[i] * (1 - o.lr * o.weightDecay) - adjusted * (tall ? x[col][row] : x[row][col]);
      }
    };
  },
};
