// Writes test/runtimes/expected.json: the float64 reference result of every case in
// conformance.mjs, computed here in plain JavaScript doubles from PyTorch's documented
// pseudo-code (torch.optim.*, torch.optim.lr_scheduler.*, torch.nn.utils.clip_grad_*,
// torch.nn.functional.batch_norm) — independently of the package. The runtimes compare their
// float32 results with these at ~1e-5 relative error.
//
//   node test/runtimes/generate-expected.mjs          (re-run after changing a case)
//   node test/runtimes/generate-expected.mjs --check  (exit 1 if expected.json is stale)
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DEFAULTS } from "../optim/spec.mjs";
import { CASES } from "./conformance.mjs";
import { adafactor, lamb } from "./expected-factored.mjs";
import { MORE_OPTIMIZERS } from "./expected-more.mjs";
import { LOWP_OPTIMIZERS } from "./expected-lowp.mjs";

const OUTPUT = fileURLToPath(new URL("./expected.json", import.meta.url));

// --- optimizers ------------------------------------------------------------------------------
// Each factory returns step(p, g, t) over one parameter (Float64Arrays, t = 1-based step count),
// keeping its own state. `maximize` negates g first; L2 weight decay is then added to g.

// The defaults come from the optimizer spec table, as every test does.

const zeros = (n) => new Float64Array(n);

const OPTIMIZERS = {
  SGD(o, n) {
    let buf = null;
    return (p, grad) => {
      const first = buf === null;
      if (o.momentum !== 0 && first) buf = zeros(n);
      for (let i = 0; i < n; i++) {
        let g = o.maximize ? -grad[i] : grad[i];
        g += o.weightDecay * p[i];
        if (o.momentum !== 0) {
          buf[i] = first ? g : o.momentum * buf[i] + (1 - o.dampening) * g;
          g = o.nesterov ? g + o.momentum * buf[i] : buf[i];
        }
        p[i] -= o.lr * g;
      }
    };
  },
  Adam: (o, n) => adam(o, n, false),
  Adafactor: adafactor,
  LAMB: lamb,
  AdamW: (o, n) => adam(o, n, true),
  Adagrad(o, n) {
    const sum = zeros(n).fill(o.initialAccumulatorValue);
    return (p, grad, t) => {
      const clr = o.lr / (1 + (t - 1) * o.lrDecay);
      for (let i = 0; i < n; i++) {
        let g = o.maximize ? -grad[i] : grad[i];
        g += o.weightDecay * p[i];
        sum[i] += g * g;
        const lrEff = clr / (Math.sqrt(sum[i]) + o.eps);
        const stepped = p[i] - lrEff * g;
        // TensorFlow's ProximalAdagrad: sign(p)·max(|p| − lr_eff·l1, 0) after the step.
        p[i] = Math.sign(stepped) * Math.max(Math.abs(stepped) - lrEff * o.l1, 0);
      }
    };
  },
  RMSprop(o, n) {
    const square = zeros(n);
    const gradAvg = zeros(n);
    const buf = zeros(n);
    return (p, grad) => {
      for (let i = 0; i < n; i++) {
        let g = o.maximize ? -grad[i] : grad[i];
        g += o.weightDecay * p[i];
        square[i] = o.alpha * square[i] + (1 - o.alpha) * g * g;
        let avg;
        if (o.centered) {
          gradAvg[i] = o.alpha * gradAvg[i] + (1 - o.alpha) * g;
          avg = Math.sqrt(Math.max(square[i] - gradAvg[i] * gradAvg[i], 0)) + o.eps;
        } else {
          avg = Math.sqrt(square[i]) + o.eps;
        }
        if (o.momentum > 0) {
          buf[i] = o.momentum * buf[i] + g / avg;
          p[i] -= o.lr * buf[i];
        } else {
          p[i] -= (o.lr * g) / avg;
        }
      }
    };
  },
  Adadelta(o, n) {
    const square = zeros(n);
    const accDelta = zeros(n);
    return (p, grad) => {
      for (let i = 0; i < n; i++) {
        let g = o.maximize ? -grad[i] : grad[i];
        g += o.weightDecay * p[i];
        square[i] = o.rho * square[i] + (1 - o.rho) * g * g;
        const delta = (Math.sqrt(accDelta[i] + o.eps) / Math.sqrt(square[i] + o.eps)) * g;
        accDelta[i] = o.rho * accDelta[i] + (1 - o.rho) * delta * delta;
        p[i] -= o.lr * delta;
      }
    };
  },
  Adamax(o, n) {
    const [beta1, beta2] = o.betas;
    const m = zeros(n);
    const u = zeros(n);
    return (p, grad, t) => {
      const clr = o.lr / (1 - beta1 ** t);
      for (let i = 0; i < n; i++) {
        let g = o.maximize ? -grad[i] : grad[i];
        g += o.weightDecay * p[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        u[i] = Math.max(beta2 * u[i], Math.abs(g) + o.eps);
        p[i] -= (clr * m[i]) / u[i];
      }
    };
  },
  NAdam(o, n) {
    const [beta1, beta2] = o.betas;
    const m = zeros(n);
    const v = zeros(n);
    let muProduct = 1;
    return (p, grad, t) => {
      const mu = beta1 * (1 - 0.5 * 0.96 ** (t * o.momentumDecay));
      const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * o.momentumDecay));
      muProduct *= mu;
      const biasCorrection2 = 1 - beta2 ** t;
      for (let i = 0; i < n; i++) {
        let g = o.maximize ? -grad[i] : grad[i];
        if (o.decoupledWeightDecay) p[i] *= 1 - o.lr * o.weightDecay;
        else g += o.weightDecay * p[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        const denom = Math.sqrt(v[i] / biasCorrection2) + o.eps;
        p[i] -= ((o.lr * (1 - mu)) / (1 - muProduct)) * (g / denom);
        p[i] -= ((o.lr * muNext) / (1 - muProduct * muNext)) * (m[i] / denom);
      }
    };
  },
  RAdam(o, n) {
    const [beta1, beta2] = o.betas;
    const m = zeros(n);
    const v = zeros(n);
    const rhoInf = 2 / (1 - beta2) - 1;
    return (p, grad, t) => {
      const biasCorrection1 = 1 - beta1 ** t;
      const biasCorrection2 = 1 - beta2 ** t;
      const rho = rhoInf - (2 * t * beta2 ** t) / biasCorrection2;
      const rect = rho > 5 ? Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho)) : 0;
      for (let i = 0; i < n; i++) {
        let g = o.maximize ? -grad[i] : grad[i];
        if (o.decoupledWeightDecay) p[i] *= 1 - o.lr * o.weightDecay;
        else g += o.weightDecay * p[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        const mHat = m[i] / biasCorrection1;
        if (rho > 5) p[i] -= o.lr * mHat * rect * (Math.sqrt(biasCorrection2) / (Math.sqrt(v[i]) + o.eps));
        else p[i] -= o.lr * mHat;
      }
    };
  },
  // keras.optimizers.Ftrl's update_step.
  Ftrl(o, n) {
    const accum = zeros(n).fill(o.initialAccumulatorValue);
    const linear = zeros(n);
    return (p, grad) => {
      const l2 = o.l2 + o.beta / (2 * o.lr);
      for (let i = 0; i < n; i++) {
        const g = grad[i];
        const newAccum = accum[i] + g * g;
        linear[i] += g + 2 * o.l2Shrinkage * p[i] - ((newAccum ** -o.lrPower - accum[i] ** -o.lrPower) / o.lr) * p[i];
        const quadratic = newAccum ** -o.lrPower / o.lr + 2 * l2;
        p[i] = (Math.min(Math.max(linear[i], -o.l1), o.l1) - linear[i]) / quadratic;
        accum[i] = newAccum;
      }
    };
  },
  Lion(o, n) {
    const [beta1, beta2] = o.betas;
    const m = zeros(n);
    return (p, grad) => {
      for (let i = 0; i < n; i++) {
        const g = o.maximize ? -grad[i] : grad[i];
        p[i] *= 1 - o.lr * o.weightDecay;
        const c = beta1 * m[i] + (1 - beta1) * g;
        p[i] -= o.lr * Math.sign(c);
        m[i] = beta2 * m[i] + (1 - beta2) * g;
      }
    };
  },
};

function adam(o, n, decoupled) {
  const [beta1, beta2] = o.betas;
  const m = zeros(n);
  const v = zeros(n);
  const vMax = zeros(n);
  return (p, grad, t) => {
    for (let i = 0; i < n; i++) {
      let g = o.maximize ? -grad[i] : grad[i];
      if (decoupled) p[i] *= 1 - o.lr * o.weightDecay;
      else g += o.weightDecay * p[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      const mHat = m[i] / (1 - beta1 ** t);
      let vHat = v[i] / (1 - beta2 ** t);
      if (o.amsgrad) {
        vMax[i] = Math.max(vMax[i], v[i]);
        vHat = vMax[i] / (1 - beta2 ** t);
      }
      p[i] -= (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
    }
  };
}

function optimizerReference(entry, inputs) {
  const { ctor, options } = entry.spec;
  const o = { ...DEFAULTS[ctor], ...options };
  const params = inputs.initial.map((values) => Float64Array.from(values));
  const factory = (o.stateDtype ?? "float32") !== "float32" ? LOWP_OPTIMIZERS[ctor] : OPTIMIZERS[ctor] ?? MORE_OPTIMIZERS[ctor];
  const steps = params.map((p, i) => factory(o, p.length, inputs.shapes[i]));
  // accumulate: k (optax MultiSteps): every k-th call steps with the mean of the k gradients.
  const k = options.accumulate ?? 1;
  const sums = params.map((p) => new Float64Array(p.length));
  inputs.grads.forEach((stepGrads, s) => params.forEach((p, i) => {
    stepGrads[i].forEach((g, j) => { sums[i][j] += g; });
    if ((s + 1) % k !== 0) return;
    steps[i](p, Array.from(sums[i], (sum) => sum / k), (s + 1) / k);
    sums[i].fill(0);
  }));
  steps.forEach((step, i) => step.finish?.(params[i]));
  return params.flatMap((p) => Array.from(p));
}

// AveragedModel with get_ema_multi_avg_fn: the first update copies, later ones lerp by 1 − decay.
function emaReference(entry, inputs) {
  const { decay } = entry.spec;
  const averages = inputs.grads[0].map((values) => Float64Array.from(values));
  for (const stepValues of inputs.grads.slice(1)) {
    averages.forEach((average, i) => stepValues[i].forEach((x, j) => { average[j] += (1 - decay) * (x - average[j]); }));
  }
  return averages.flatMap((average) => Array.from(average));
}

// --- schedulers ------------------------------------------------------------------------------
// get_lr(epoch, lastLr, baseLr): PyTorch's chainable forms.

const SCHEDULERS = {
  CosineAnnealingLR({ tMax, etaMin = 0 }) {
    return (epoch, lr, base) => {
      if (epoch === 0) return base;
      const period = 2 * tMax;
      if ((((epoch - 1 - tMax) % period) + period) % period === 0) return lr + ((base - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2;
      return ((1 + Math.cos((Math.PI * epoch) / tMax)) / (1 + Math.cos((Math.PI * (epoch - 1)) / tMax))) * (lr - etaMin) + etaMin;
    };
  },
  StepLR({ stepSize, gamma = 0.1 }) {
    return (epoch, lr) => (epoch === 0 || epoch % stepSize !== 0 ? lr : lr * gamma);
  },
};

function schedulerReference(entry) {
  const { ctor, options, steps, baseLrs } = entry.spec;
  const getLr = SCHEDULERS[ctor](options);
  let lrs = [...baseLrs];
  const out = [];
  for (let epoch = 0; epoch <= steps; epoch++) {
    lrs = lrs.map((lr, i) => getLr(epoch, lr, baseLrs[i]));
    out.push(...lrs, ...lrs);
  }
  return out;
}

// --- clipping --------------------------------------------------------------------------------

function clipReference(entry, inputs) {
  const grads = inputs.grads.map((g) => Float64Array.from(g));
  if (entry.spec.fn === "clipGradValue") {
    const [clipValue] = entry.spec.args;
    return grads.flatMap((g) => Array.from(g, (v) => Math.min(clipValue, Math.max(-clipValue, v))));
  }
  const [maxNorm, normTypeRaw = 2] = entry.spec.args;
  const normType = normTypeRaw === "Infinity" ? Infinity : normTypeRaw;
  const all = grads.flatMap((g) => Array.from(g));
  const total = normType === Infinity
    ? Math.max(...all.map(Math.abs))
    : all.reduce((s, v) => s + Math.abs(v) ** normType, 0) ** (1 / normType);
  const coefficient = Math.min(1, maxNorm / (total + 1e-6));
  return [total, ...all.map((v) => v * coefficient)];
}

// --- matmul ----------------------------------------------------------------------------------

function matmulReference(entry, inputs) {
  const { m, k, n, transA = false, transB = false, alpha = 1, beta = 0, useOut = false } = entry.spec;
  const c = new Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let l = 0; l < k; l++) {
        const a = transA ? inputs.a[l * m + i] : inputs.a[i * k + l];
        const b = transB ? inputs.b[j * k + l] : inputs.b[l * n + j];
        sum += a * b;
      }
      c[i * n + j] = alpha * sum + (useOut && beta !== 0 ? beta * inputs.c[i * n + j] : 0);
    }
  }
  return c;
}

// --- batch norm ------------------------------------------------------------------------------

/** Channel index of every element, and the channel count. */
function channelIndex(shape, layout) {
  const size = shape.reduce((a, b) => a * b, 1);
  const channels = layout === "NHWC" ? shape[shape.length - 1] : shape[1];
  const inner = layout === "NHWC" ? 1 : shape.slice(2).reduce((a, b) => a * b, 1);
  return { channels, size, of: (i) => Math.floor(i / inner) % channels };
}

function batchStatistics(x, shape, layout, eps) {
  const { channels, size, of } = channelIndex(shape, layout);
  const count = size / channels;
  const mean = new Array(channels).fill(0);
  const variance = new Array(channels).fill(0);
  for (let i = 0; i < size; i++) mean[of(i)] += x[i] / count;
  for (let i = 0; i < size; i++) variance[of(i)] += (x[i] - mean[of(i)]) ** 2 / count;
  const invStd = variance.map((v) => 1 / Math.sqrt(v + eps));
  return { mean, variance, invStd, count, of, size };
}

function batchNormReference(entry, inputs) {
  const { kind, shape, layout } = entry.spec;
  const eps = 1e-5;
  const momentum = 0.1;
  const { x, gamma, beta } = inputs;
  if (kind === "eval") {
    const { size, of } = channelIndex(shape, layout);
    const invStd = inputs.runningVar.map((v) => 1 / Math.sqrt(v + eps));
    const y = Array.from({ length: size }, (_, i) => (x[i] - inputs.runningMean[of(i)]) * invStd[of(i)] * gamma[of(i)] + beta[of(i)]);
    return [...y, ...inputs.runningMean, ...invStd, ...inputs.runningMean, ...inputs.runningVar];
  }
  const { mean, variance, invStd, count, of, size } = batchStatistics(x, shape, layout, eps);
  const y = Array.from({ length: size }, (_, i) => (x[i] - mean[of(i)]) * invStd[of(i)] * gamma[of(i)] + beta[of(i)]);
  const runningMean = inputs.runningMean.map((r, c) => (1 - momentum) * r + momentum * mean[c]);
  const runningVar = inputs.runningVar.map((r, c) => (1 - momentum) * r + momentum * variance[c] * (count / (count - 1)));
  // Backward: dx = γ·invStd/N · (N·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy.
  const dy = inputs.dy;
  const xHat = Array.from({ length: size }, (_, i) => (x[i] - mean[of(i)]) * invStd[of(i)]);
  const dbeta = new Array(mean.length).fill(0);
  const dgamma = new Array(mean.length).fill(0);
  for (let i = 0; i < size; i++) {
    dbeta[of(i)] += dy[i];
    dgamma[of(i)] += dy[i] * xHat[i];
  }
  const dx = Array.from({ length: size }, (_, i) => {
    const c = of(i);
    return ((gamma[c] * invStd[c]) / count) * (count * dy[i] - dbeta[c] - xHat[i] * dgamma[c]);
  });
  if (kind === "train") return [...y, ...mean, ...invStd, ...runningMean, ...runningVar];
  if (kind === "backward") return [...dx, ...dgamma, ...dbeta];
  return [...y, ...dx, ...dgamma, ...dbeta, ...runningMean, ...runningVar]; // the BatchNorm layer
}

// ---------------------------------------------------------------------------------------------

const REFERENCES = {
  optimizer: optimizerReference,
  ema: emaReference,
  scheduler: schedulerReference,
  clip: clipReference,
  matmul: matmulReference,
  batchnorm: batchNormReference,
};

export function generate() {
  const cases = {};
  for (const entry of CASES) {
    const values = REFERENCES[entry.family](entry, entry.inputs());
    if (!values.every(Number.isFinite)) throw new Error(`${entry.name}: the reference produced a non-finite value`);
    cases[entry.name] = { family: entry.family, rtol: entry.rtol, floor: entry.floor, values };
  }
  return {
    note: "Generated by test/runtimes/generate-expected.mjs (float64 references of PyTorch's pseudo-code); do not edit.",
    cases,
  };
}

/** One case per line: readable diffs without a line per number. */
export function format(expected) {
  const lines = Object.entries(expected.cases).map(([name, value]) => `  ${JSON.stringify(name)}: ${JSON.stringify(value)}`);
  return `{\n "note": ${JSON.stringify(expected.note)},\n "cases": {\n${lines.join(",\n")}\n }\n}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = format(generate());
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(OUTPUT, "utf8");
    } catch {}
    if (current !== text) {
      console.error("test/runtimes/expected.json is stale: run `node test/runtimes/generate-expected.mjs`");
      process.exit(1);
    }
  } else {
    writeFileSync(OUTPUT, text);
    console.log(`wrote ${OUTPUT} (${Object.keys(generate().cases).length} cases)`);
  }
}
