// simdopt inside TensorFlow.js, all in one process, cases interleaved round by round (so a slow
// spell on a shared machine hits every case alike; each figure is the median over the rounds):
// 1. applyGradients on ~1.01M parameters (a 1000×1000 kernel, a 1000×10 kernel and two biases):
//    the simdopt/tfjs adapter (Adam) vs tf.train.adam, on tfjs-backend-wasm (one thread) and
//    tfjs-backend-cpu. Both run synchronously on these backends, so no readback is needed.
// 2. model.fit, one epoch of the examples/tfjs-mnist.mjs model on 1024 synthetic digits, both
//    optimizers, both backends, and the time spent inside applyGradients during that epoch.
// 3. Bring your own arrays at 10^6: a plain-JS Adam loop over Float32Arrays vs simdopt's Adam on
//    arrays moved into simdopt once (zero-copy) and on mirrored arrays (copied in and out).
import { measure, printTable, ratio, isMain, loadTfjs } from "./harness.mjs";
import * as simdopt from "../dist/index.js";
import { tfOptimizer } from "../dist/interop/tfjs.js";
import { plain } from "./optim.mjs";
import { buildModel } from "../examples/tfjs-mnist.mjs";

const ROUNDS = 5;

/** Runs every case once per round, `rounds` times, and returns the median seconds per call of each. */
function interleaved(cases, { rounds = ROUNDS, maxTime = 0.4, minSamples = 5 } = {}) {
  const samples = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    cases.forEach(([name, fn], i) => samples[i].push(measure(name, fn, { maxTime, minSamples }).seconds));
  }
  return samples.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]);
}

const ms = (seconds) => (seconds * 1e3).toFixed(2);

/** Variables of the 1.01M-parameter set and fixed random gradients for them. */
function parameterSet(tf, tag) {
  const shapes = [[1000, 1000], [1000], [1000, 10], [10]];
  const variables = shapes.map((shape, i) => tf.variable(tf.randomUniform(shape, -0.05, 0.05, "float32", i + 1), true, `${tag}_${i}`));
  const grads = Object.fromEntries(variables.map((v, i) => [v.name, tf.randomUniform(v.shape, -1e-3, 1e-3, "float32", 10 + i)]));
  return { variables, grads, count: variables.reduce((n, v) => n + v.size, 0) };
}

async function applyGradientsCase(backend) {
  const tf = await loadTfjs(backend);
  // One variable set per optimizer: two optimizers stepping the same variables would each see
  // the other's writes as values changed from outside and copy them in every step.
  const ours = parameterSet(tf, `simdopt_${backend}`);
  const oursW = parameterSet(tf, `simdoptW_${backend}`);
  const theirs = parameterSet(tf, `tfjs_${backend}`);
  const publicRoute = parameterSet(tf, `public_${backend}`);
  const adapter = tfOptimizer(tf, simdopt.Adam, { lr: 1e-3 });
  const adamW = tfOptimizer(tf, simdopt.AdamW, { lr: 1e-3 }, { noDecay: /_1$|_3$/, clipGradNorm: 1 });
  // The route WebGL/WebGPU take: dataSync() to read, assign() of a new tensor to write.
  const viaPublicApi = tfOptimizer({ ...tf, backend: () => ({}) }, simdopt.Adam, { lr: 1e-3 });
  const adam = tf.train.adam(1e-3);
  const steps = [
    ["adapter", () => adapter.applyGradients(ours.grads)],
    ["tf.train.adam", () => adam.applyGradients(theirs.grads)],
    ["adapter AdamW+clip", () => adamW.applyGradients(oursW.grads)],
    ["adapter, public API", () => viaPublicApi.applyGradients(publicRoute.grads)],
  ];
  for (const [, step] of steps) step();
  const tensors = tf.memory().numTensors;
  const dataIds = [...ours.variables, ...oursW.variables].map((v) => v.dataId);
  const [simd, tfjs, simdW, pub] = interleaved(steps);
  if (tf.memory().numTensors !== tensors) throw new Error(`tensor count changed over the run (${tensors} → ${tf.memory().numTensors})`);
  const inPlace = [...ours.variables, ...oursW.variables].every((v, i) => v.dataId === dataIds[i]);
  console.log(`  ${backend}: ${ours.count.toLocaleString("en")} parameters; the adapter wrote ${inPlace ? "in place (variables kept their data)" : "new tensors"}`);
  for (const o of [adapter, adamW, viaPublicApi, adam]) o.dispose();
  for (const set of [ours, oursW, theirs, publicRoute]) tf.dispose([...set.variables, ...Object.values(set.grads)]);
  return [`tfjs-backend-${backend}`, ms(simd), ms(simdW), ms(pub), ms(tfjs), ratio(tfjs / simd), ratio(tfjs / pub)];
}

async function fitCase(backend, tfLayers) {
  const tf = await loadTfjs(backend);
  const samples = 1024;
  const x = tf.randomUniform([samples, 784], 0, 1, "float32", 3);
  const y = tf.oneHot(tf.randomUniform([samples], 0, 10, "int32", 4), 10).toFloat();
  const fitter = (makeOptimizer) => {
    const model = buildModel(tfLayers);
    const optimizer = makeOptimizer();
    // Time spent inside the optimizer, to show its share of the epoch.
    const apply = optimizer.applyGradients.bind(optimizer);
    const run = { model, optimizer, inOptimizer: 0 };
    optimizer.applyGradients = (grads) => {
      const start = performance.now();
      apply(grads);
      run.inOptimizer += performance.now() - start;
    };
    model.compile({ optimizer, loss: "categoricalCrossentropy" });
    run.epoch = () => model.fit(x, y, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 });
    return run;
  };
  const ours = fitter(() => tfOptimizer(tfLayers, simdopt.AdamW, { lr: 1e-3 }, { noDecay: /bias/, clipGradNorm: 1 }));
  const theirs = fitter(() => tfLayers.train.adam(1e-3));
  await ours.epoch();
  await theirs.epoch();
  // Epochs are seconds long: time them directly, interleaved; medians over the rounds.
  const rounds = 5;
  const times = [[], []];
  const optimizerTimes = [[], []];
  for (let r = 0; r < rounds; r++) {
    for (const [i, run] of [ours, theirs].entries()) {
      run.inOptimizer = 0;
      const start = performance.now();
      await run.epoch();
      times[i].push(performance.now() - start);
      optimizerTimes[i].push(run.inOptimizer);
    }
  }
  const median = (list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const [simd, tfjs] = times.map(median);
  const [simdOpt, tfjsOpt] = optimizerTimes.map(median);
  for (const run of [ours, theirs]) { run.model.dispose(); run.optimizer.dispose(); }
  tf.dispose([x, y]);
  return [`tfjs-backend-${backend}`, simd.toFixed(0), tfjs.toFixed(0), ratio(tfjs / simd), simdOpt.toFixed(1), tfjsOpt.toFixed(1), ratio(tfjsOpt / simdOpt)];
}

function ownArraysCase() {
  const size = 1_000_000;
  const options = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8 };
  // Plain JS: the user's arrays and loop.
  const data = new Float32Array(size).fill(0.5);
  const grad = new Float32Array(size).fill(1e-3);
  const m = new Float32Array(size);
  const v = new Float32Array(size);
  let step = 0;
  // (a) moved in once: the model now reads and writes p.data / p.grad.
  const moved = simdopt.parameter([size], { init: data });
  moved.grad.set(grad);
  const movedOpt = new simdopt.Adam([moved], options);
  // (b) kept: mirrored, copied in and out each step.
  const keptData = data.slice();
  const keptGrad = grad.slice();
  const mirrored = simdopt.mirror([{ data: keptData, grad: keptGrad }]);
  const mirroredOpt = new simdopt.Adam(mirrored.params, options);
  const [js, a, b] = interleaved([
    ["plain JS Adam", () => plain.adam(data, grad, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: ++step })],
    ["(a) moved in", () => movedOpt.step()],
    ["(b) mirrored", () => mirrored.step(mirroredOpt)],
  ]);
  movedOpt.dispose();
  moved.dispose();
  mirroredOpt.dispose();
  mirrored.dispose();
  return [
    ["plain-JS Adam loop over Float32Arrays", ms(js), "1.00×"],
    ["(a) moved into simdopt once, zero-copy", ms(a), ratio(js / a)],
    ["(b) kept, mirror() copies in and out", ms(b), ratio(js / b)],
  ];
}

export async function run() {
  await simdopt.init();
  // tfjs-layers and gradients come with the full package; it shares tfjs-core (one engine) with
  // the backends loadTfjs registers.
  const tfLayers = await import("@tensorflow/tfjs");
  const warn = console.warn;
  console.warn = () => {};   // tfjs-backend-cpu's "use tfjs-node" banner
  try {
    console.log("\nsimdopt/tfjs adapter vs tf.train.adam (interleaved rounds, medians)");
    const gradientRows = [];
    for (const backend of ["wasm", "cpu"]) gradientRows.push(await applyGradientsCase(backend));
    printTable("applyGradients, 1,011,010 parameters (ms per step; lower is better)",
      ["backend", "adapter Adam", "adapter AdamW+clip", "adapter, public-API route", "tf.train.adam", "adapter vs tfjs", "public route vs tfjs"], gradientRows);
    const fitRows = [];
    for (const backend of ["wasm", "cpu"]) fitRows.push(await fitCase(backend, tfLayers));
    printTable("model.fit, one epoch of the tfjs-mnist example model (1024 samples, batch 64; ms)",
      ["backend", "simdopt AdamW + clip", "tf.train.adam", "epoch speed-up", "of which optimizer: simdopt", "tf.train.adam", "optimizer speed-up"], fitRows);
  } finally {
    console.warn = warn;
  }
  printTable("Bring your own arrays: Adam step at 10^6 parameters (ms per step)",
    ["path", "ms / step", "vs plain JS"], ownArraysCase());
}

if (isMain(import.meta.url)) await run();
