// simdopt demo — the main job: train a small MLP classifier on a synthetic three-arm spiral with
// the whole package: parameters in wasm memory (zero-copy views), matmul for the layers and their
// gradients, BatchNorm layers, AdamW, gradient clipping and a warm-up + cosine schedule. Prints the
// loss and accuracy falling, then where the time went.
import {
  init, features, parameter, matmul, BatchNorm, AdamW, SequentialLR, LinearLR, CosineAnnealingLR, clipGradNorm,
} from "../dist/index.js";

await init();
const { relaxedSimd, threads, version } = features();
console.log(`simdopt ${version} — ${relaxedSimd ? "relaxed-SIMD" : "SIMD"} build, ${threads ? "shared" : "plain"} wasm memory\n`);

// ---- data: three interleaved spirals in 2-D, mixed into 16 features by a fixed random projection ----
let seed = 7;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const CLASSES = 3, RAW = 2, FEATURES = 16, SAMPLES = 6000;
const projection = Float32Array.from({ length: RAW * FEATURES }, () => random() * 2 - 1);
const inputs = new Float32Array(SAMPLES * FEATURES);
const labels = new Int32Array(SAMPLES);
for (let s = 0; s < SAMPLES; s++) {
  const label = s % CLASSES;
  const radius = random();
  const angle = label * (2 * Math.PI / CLASSES) + radius * 9 + (random() - 0.5) * 0.6;
  const x = radius * Math.cos(angle), y = radius * Math.sin(angle);
  for (let f = 0; f < FEATURES; f++) {
    inputs[s * FEATURES + f] = x * projection[f] + y * projection[FEATURES + f];
  }
  labels[s] = label;
}
const TRAIN = 5000; // the rest is held out

// ---- model: 16 → 128 → BN → ReLU → 128 → BN → ReLU → 3 ----
const HIDDEN = 128;
const layers = [
  { weight: parameter([HIDDEN, FEATURES], { init: "heNormal", seed: 1, name: "w1" }), bias: parameter([HIDDEN], { name: "b1" }), norm: new BatchNorm(HIDDEN, { layout: "NHWC" }) },
  { weight: parameter([HIDDEN, HIDDEN], { init: "heNormal", seed: 2, name: "w2" }), bias: parameter([HIDDEN], { name: "b2" }), norm: new BatchNorm(HIDDEN, { layout: "NHWC" }) },
  { weight: parameter([CLASSES, HIDDEN], { init: "xavierUniform", seed: 3, name: "w3" }), bias: parameter([CLASSES], { name: "b3" }), norm: null },
];
const params = layers.flatMap((l) => [l.weight, l.bias, ...(l.norm ? [l.norm.weight, l.norm.bias] : [])]);
const parameterCount = params.reduce((sum, p) => sum + p.size, 0);

const BATCH = 250, EPOCHS = 30;
const stepsPerEpoch = TRAIN / BATCH, totalSteps = EPOCHS * stepsPerEpoch, warmup = 2 * stepsPerEpoch;
const optimizer = new AdamW(params, { lr: 1e-2, weightDecay: 1e-4 });
const scheduler = new SequentialLR(optimizer, {
  schedulers: [
    new LinearLR(optimizer, { startFactor: 0.01, totalIters: warmup }),
    new CosineAnnealingLR(optimizer, { tMax: totalSteps - warmup, etaMin: 1e-4 }),
  ],
  milestones: [warmup],
});
console.log(`MLP ${FEATURES}→${HIDDEN}→${HIDDEN}→${CLASSES} with batch norm: ${parameterCount.toLocaleString("en")} parameters, AdamW, warm-up + cosine lr, clipGradNorm(1)`);

const timing = { matmul: 0, batchNorm: 0, optimizer: 0, other: 0 };
const time = (bucket, fn) => { const start = performance.now(); const result = fn(); timing[bucket] += performance.now() - start; return result; };

/** Forward pass over `rows` samples; keeps what backward needs. */
function forward(x, rows) {
  const saved = [];
  let activation = x;
  for (const layer of layers) {
    const out = layer.weight.shape[0], width = layer.weight.shape[1];
    // z = a·Wᵀ + b (row-major; W is [out, in] as in PyTorch)
    const z = time("matmul", () => matmul(activation, layer.weight.data, { m: rows, k: width, n: out, transB: true }));
    time("other", () => { const b = layer.bias.data; for (let i = 0; i < z.length; i++) z[i] += b[i % out]; });
    const entry = { input: activation, z, normed: null };
    if (layer.norm) {
      const normed = time("batchNorm", () => layer.norm.forward(z, [rows, out]));
      time("other", () => { for (let i = 0; i < normed.length; i++) if (normed[i] < 0) normed[i] = 0; });
      entry.normed = normed;
      activation = normed;
    } else {
      activation = z;
    }
    saved.push(entry);
  }
  return { logits: activation, saved };
}

/** Softmax cross-entropy: mean loss, correct count, and d(loss)/d(logits) into `grad`. */
function crossEntropy(logits, first, rows, grad) {
  let loss = 0, correct = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * CLASSES, label = labels[first + r];
    let max = -Infinity, best = 0;
    for (let c = 0; c < CLASSES; c++) if (logits[o + c] > max) { max = logits[o + c]; best = c; }
    let sum = 0;
    for (let c = 0; c < CLASSES; c++) sum += Math.exp(logits[o + c] - max);
    loss += Math.log(sum) + max - logits[o + label];
    if (best === label) correct++;
    if (grad) for (let c = 0; c < CLASSES; c++) grad[o + c] = (Math.exp(logits[o + c] - max) / sum - (c === label ? 1 : 0)) / rows;
  }
  return { loss: loss / rows, correct };
}

function backward(saved, gradLogits, rows) {
  let grad = gradLogits;
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l], entry = saved[l];
    const out = layer.weight.shape[0], width = layer.weight.shape[1];
    if (layer.norm) {
      time("other", () => { for (let i = 0; i < grad.length; i++) if (entry.normed[i] <= 0) grad[i] = 0; }); // ReLU
      grad = time("batchNorm", () => layer.norm.backward(grad));
    }
    // dW = dzᵀ·a, written straight into the parameter's zero-copy .grad; db = column sums of dz
    time("matmul", () => matmul(grad, entry.input, { m: out, k: rows, n: width, transA: true, out: layer.weight.grad }));
    time("other", () => { const db = layer.bias.grad; db.fill(0); for (let i = 0; i < grad.length; i++) db[i % out] += grad[i]; });
    if (l > 0) grad = time("matmul", () => matmul(grad, layer.weight.data, { m: rows, k: out, n: width }));
  }
}

const gradLogits = new Float32Array(BATCH * CLASSES);
const started = performance.now();
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  for (const l of layers) if (l.norm) l.norm.training = true;
  let loss = 0, correct = 0;
  for (let first = 0; first < TRAIN; first += BATCH) {
    const x = inputs.subarray(first * FEATURES, (first + BATCH) * FEATURES);
    const { logits, saved } = forward(x, BATCH);
    const result = crossEntropy(logits, first, BATCH, gradLogits);
    loss += result.loss * BATCH;
    correct += result.correct;
    optimizer.zeroGrad(); // BatchNorm accumulates into its .grad, as autograd does
    backward(saved, gradLogits, BATCH);
    time("optimizer", () => { clipGradNorm(params, 1.0); optimizer.step(); scheduler.step(); });
  }
  if (epoch === 1 || epoch % 5 === 0) {
    for (const l of layers) if (l.norm) l.norm.training = false;
    const held = forward(inputs.subarray(TRAIN * FEATURES), SAMPLES - TRAIN);
    const test = crossEntropy(held.logits, TRAIN, SAMPLES - TRAIN, null);
    console.log(`epoch ${String(epoch).padStart(2)}  lr ${optimizer.paramGroups[0].lr.toExponential(2)}  train loss ${(loss / TRAIN).toFixed(4)}  train acc ${(100 * correct / TRAIN).toFixed(1)}%  held-out acc ${(100 * test.correct / (SAMPLES - TRAIN)).toFixed(1)}%`);
  }
}
const total = performance.now() - started;
console.log(`\n${EPOCHS} epochs, ${totalSteps} steps in ${(total / 1000).toFixed(2)} s — matmul ${timing.matmul.toFixed(0)} ms, batch norm ${timing.batchNorm.toFixed(0)} ms, clip+AdamW+schedule ${timing.optimizer.toFixed(0)} ms, plain-JS glue (bias, ReLU, loss) ${(total - timing.matmul - timing.batchNorm - timing.optimizer).toFixed(0)} ms`);
