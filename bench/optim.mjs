// Optimizer steps at 10^6 parameters: simdopt's fused v128 kernels vs the same algorithm as a
// plain-JS Float32Array loop (and tfjs's Adam/SGD on its wasm and cpu backends), in one run.
// Each step streams param, grad and state through memory once, so the bandwidth column compares
// against the machine's streaming copy bandwidth measured at the start.
import { measure, printTable, ratio, isMain, loadTfjs } from "./harness.mjs";
import * as simdopt from "../dist/index.js";
import { run as runKernels } from "./optim-kernels.mjs";
import { plainFactored, stateBytesPerParam } from "./optim-factored.mjs";

const SIZE = 1_000_000;

/** Plain-JS reference loops over Float32Arrays: what a user would write without simdopt. */
export const plain = {
  sgdMomentum(p, g, buf, { lr, momentum }) {
    for (let i = 0; i < p.length; i++) {
      const b = (buf[i] = momentum * buf[i] + g[i]);
      p[i] -= lr * b;
    }
  },
  adam(p, g, m, v, { lr, beta1, beta2, eps, step }) {
    const stepSize = lr / (1 - beta1 ** step);
    const invBc2 = 1 / Math.sqrt(1 - beta2 ** step);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gi);
      const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
      p[i] -= (stepSize * mi) / (Math.sqrt(vi) * invBc2 + eps);
    }
  },
  // Adagrad, RMSprop, Adadelta, Adamax, NAdam, RAdam, Lion: PyTorch's defaults, no weight decay.
  adagrad(p, g, sum, { lr, lrDecay, eps, step }) {
    const clr = lr / (1 + (step - 1) * lrDecay);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const s = (sum[i] += gi * gi);
      p[i] -= (clr * gi) / (Math.sqrt(s) + eps);
    }
  },
  rmsprop(p, g, squareAvg, { lr, alpha, eps }) {
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const s = (squareAvg[i] = alpha * squareAvg[i] + (1 - alpha) * gi * gi);
      p[i] -= (lr * gi) / (Math.sqrt(s) + eps);
    }
  },
  rmspropCenteredMomentum(p, g, squareAvg, gradAvg, buf, { lr, alpha, eps, momentum }) {
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const s = (squareAvg[i] = alpha * squareAvg[i] + (1 - alpha) * gi * gi);
      const a = (gradAvg[i] = alpha * gradAvg[i] + (1 - alpha) * gi);
      const b = (buf[i] = momentum * buf[i] + gi / (Math.sqrt(s - a * a) + eps));
      p[i] -= lr * b;
    }
  },
  adadelta(p, g, squareAvg, accDelta, { lr, rho, eps }) {
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const s = (squareAvg[i] = rho * squareAvg[i] + (1 - rho) * gi * gi);
      const delta = (Math.sqrt(accDelta[i] + eps) / Math.sqrt(s + eps)) * gi;
      accDelta[i] = rho * accDelta[i] + (1 - rho) * delta * delta;
      p[i] -= lr * delta;
    }
  },
  adamax(p, g, m, u, { lr, beta1, beta2, eps, step }) {
    const clr = lr / (1 - beta1 ** step);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gi);
      const ui = (u[i] = Math.max(beta2 * u[i], Math.abs(gi) + eps));
      p[i] -= (clr * mi) / ui;
    }
  },
  nadam(p, g, m, v, muProduct, { lr, beta1, beta2, eps, momentumDecay, step }) {
    const mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentumDecay));
    const product = (muProduct[0] *= mu);
    const gradCoeff = (lr * (1 - mu)) / (1 - product);
    const momentCoeff = (lr * muNext) / (1 - product * muNext);
    const invBc2 = 1 / Math.sqrt(1 - beta2 ** step);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gi);
      const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
      p[i] -= (gradCoeff * gi + momentCoeff * mi) / (Math.sqrt(vi) * invBc2 + eps);
    }
  },
  radam(p, g, m, v, { lr, beta1, beta2, eps, step }) {
    const bc1 = 1 - beta1 ** step;
    const bc2 = 1 - beta2 ** step;
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * step * beta2 ** step) / bc2;
    const rectified = rhoT > 5;
    const stepSize = rectified
      ? (lr * Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) * Math.sqrt(bc2)) / bc1
      : lr / bc1;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gi);
      const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
      p[i] -= rectified ? (stepSize * mi) / (Math.sqrt(vi) + eps) : stepSize * mi;
    }
  },
  // Keras's FTRL with lrPower −0.5.
  ftrl(p, g, n, z, { lr, l1 }) {
    const invLr = 1 / lr;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const nNew = n[i] + gi * gi;
      const rootNew = Math.sqrt(nNew);
      z[i] += gi - (rootNew - Math.sqrt(n[i])) * invLr * p[i];
      n[i] = nNew;
      p[i] = (Math.min(Math.max(z[i], -l1), l1) - z[i]) / (rootNew * invLr);
    }
  },
  adopt(p, g, m, v, { lr, beta1, beta2, eps, step }) {
    const clip = (step - 1) ** 0.25;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const n = Math.min(Math.max(gi / Math.max(Math.sqrt(v[i]), eps), -clip), clip);
      const mi = (m[i] += (1 - beta1) * (n - m[i]));
      p[i] -= lr * mi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    }
  },
  scheduleFree(p, g, z, v, { lr, beta1, beta2, eps, step, ckp1 }) {
    const invBc2 = 1 / Math.sqrt(1 - beta2 ** step);
    const yStep = lr * (beta1 * (1 - ckp1) - 1);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
      const u = gi / (Math.sqrt(vi) * invBc2 + eps);
      const y = p[i];
      p[i] = y + ckp1 * (z[i] - y) + yStep * u;
      z[i] -= lr * u;
    }
  },
  lion(p, g, m, { lr, beta1, beta2 }) {
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      p[i] -= lr * Math.sign(beta1 * m[i] + (1 - beta1) * gi);
      m[i] = beta2 * m[i] + (1 - beta2) * gi;
    }
  },
};

const SIDE = Math.sqrt(SIZE);

/**
 * One row per algorithm: how to build the simdopt optimizer, the plain-JS step, the bytes each
 * parameter moves per step (reads + writes), and optionally the tfjs optimizer.
 */
export const algorithms = [
  {
    name: "SGD momentum 0.9",
    make: (p) => new simdopt.SGD([p], { lr: 1e-3, momentum: 0.9 }),
    bytesPerParam: 4 * 5, // read p, g, buf; write p, buf
    buffers: 1,
    plainStep: (p, g, [buf]) => plain.sgdMomentum(p, g, buf, { lr: 1e-3, momentum: 0.9 }),
    tfjs: (tf) => tf.train.momentum(1e-3, 0.9),
  },
  {
    name: "Adam",
    make: (p) => new simdopt.Adam([p], { lr: 1e-3 }),
    bytesPerParam: 4 * 7, // read p, g, m, v; write p, m, v
    buffers: 2,
    plainStep: (p, g, [m, v], step) => plain.adam(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step }),
    tfjs: (tf) => tf.train.adam(1e-3, 0.9, 0.999, 1e-8),
  },
  {
    name: "AdamW",
    make: (p) => new simdopt.AdamW([p], { lr: 1e-3 }),
    bytesPerParam: 4 * 7,
    buffers: 2,
    plainStep: (p, g, [m, v], step) => {
      for (let i = 0; i < p.length; i++) p[i] *= 1 - 1e-3 * 1e-2;
      plain.adam(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step });
    },
  },
  // Adagrad, RMSprop, Adadelta, Adamax, NAdam, RAdam, Lion: tfjs rows where tfjs has the
  // algorithm (its defaults differ, e.g. Adagrad's initial accumulator 0.1; the work per step is the same).
  {
    name: "Adagrad",
    make: (p) => new simdopt.Adagrad([p], { lr: 1e-2 }),
    bytesPerParam: 4 * 5, // read p, g, sum; write p, sum
    buffers: 1,
    plainStep: (p, g, [sum], step) => plain.adagrad(p, g, sum, { lr: 1e-2, lrDecay: 0, eps: 1e-10, step }),
    tfjs: (tf) => tf.train.adagrad(1e-2, 0),
  },
  {
    name: "RMSprop",
    make: (p) => new simdopt.RMSprop([p], { lr: 1e-2 }),
    bytesPerParam: 4 * 5, // read p, g, squareAvg; write p, squareAvg
    buffers: 1,
    plainStep: (p, g, [squareAvg]) => plain.rmsprop(p, g, squareAvg, { lr: 1e-2, alpha: 0.99, eps: 1e-8 }),
    tfjs: (tf) => tf.train.rmsprop(1e-2, 0.99, 0, 1e-8, false),
  },
  {
    name: "RMSprop centered, momentum 0.9",
    make: (p) => new simdopt.RMSprop([p], { lr: 1e-2, centered: true, momentum: 0.9 }),
    bytesPerParam: 4 * 9, // read p, g, squareAvg, gradAvg, buf; write p, squareAvg, gradAvg, buf
    buffers: 3,
    plainStep: (p, g, [squareAvg, gradAvg, buf]) =>
      plain.rmspropCenteredMomentum(p, g, squareAvg, gradAvg, buf, { lr: 1e-2, alpha: 0.99, eps: 1e-8, momentum: 0.9 }),
    tfjs: (tf) => tf.train.rmsprop(1e-2, 0.99, 0.9, 1e-8, true),
  },
  {
    name: "Adadelta",
    make: (p) => new simdopt.Adadelta([p]),
    bytesPerParam: 4 * 7, // read p, g, squareAvg, accDelta; write p, squareAvg, accDelta
    buffers: 2,
    plainStep: (p, g, [squareAvg, accDelta]) => plain.adadelta(p, g, squareAvg, accDelta, { lr: 1, rho: 0.9, eps: 1e-6 }),
    tfjs: (tf) => tf.train.adadelta(1, 0.9, 1e-6),
  },
  {
    name: "Adamax",
    make: (p) => new simdopt.Adamax([p]),
    bytesPerParam: 4 * 7, // read p, g, m, u; write p, m, u
    buffers: 2,
    plainStep: (p, g, [m, u], step) => plain.adamax(p, g, m, u, { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step }),
    tfjs: (tf) => tf.train.adamax(2e-3, 0.9, 0.999, 1e-8, 0),
  },
  {
    name: "NAdam",
    make: (p) => new simdopt.NAdam([p]),
    bytesPerParam: 4 * 7, // read p, g, m, v; write p, m, v
    buffers: 2,
    plainStep: (() => {
      const muProduct = new Float64Array([1]);
      return (p, g, [m, v], step) => plain.nadam(p, g, m, v, muProduct, { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, momentumDecay: 4e-3, step });
    })(),
  },
  {
    name: "RAdam",
    make: (p) => new simdopt.RAdam([p]),
    bytesPerParam: 4 * 7, // read p, g, m, v; write p, m, v
    buffers: 2,
    plainStep: (p, g, [m, v], step) => plain.radam(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step }),
  },
  {
    name: "Lion",
    make: (p) => new simdopt.Lion([p]),
    bytesPerParam: 4 * 5, // read p, g, m; write p, m
    buffers: 1,
    plainStep: (p, g, [m]) => plain.lion(p, g, m, { lr: 1e-4, beta1: 0.9, beta2: 0.99 }),
  },
  {
    name: "Ftrl l1 0.01",
    make: (p) => new simdopt.Ftrl([p], { lr: 0.05, l1: 0.01, initialAccumulatorValue: 0.1 }),
    bytesPerParam: 4 * 7, // read p, g, n, z; write p, n, z
    buffers: 2,
    plainStep: (() => {
      let started = false;
      return (p, g, [n, z]) => {
        if (!started) { n.fill(0.1); started = true; }
        plain.ftrl(p, g, n, z, { lr: 0.05, l1: 0.01 });
      };
    })(),
  },
  // Multi-pass optimizers (a per-tensor norm before the update): no single-pass bandwidth figure.
  {
    name: "Adafactor 1000×1000",
    shape: [SIDE, SIDE],
    make: (p) => new simdopt.Adafactor([p]),
    bytesPerParam: 4 * 6, // read p (RMS), g three times, p; write p (row and column statistics stay in cache)
    buffers: 0,
    plainStep: (() => {
      const rowVar = new Float32Array(SIDE);
      const colVar = new Float32Array(SIDE);
      return (p, g, _, step) => plainFactored.adafactorMatrix(p, g, rowVar, colVar, SIDE, SIDE, step);
    })(),
  },
  {
    name: "Adafactor vector",
    make: (p) => new simdopt.Adafactor([p]),
    bytesPerParam: 4 * 8, // read p (RMS), g, v; write v; read p, g, v; write p
    buffers: 1,
    plainStep: (p, g, [v], step) => plainFactored.adafactorVector(p, g, v, step),
  },
  {
    name: "LAMB",
    make: (p) => new simdopt.LAMB([p]),
    bytesPerParam: 4 * 10, // read g, m, v; write m, v; read p (norm); read p, m, v; write p
    buffers: 2,
    plainStep: (p, g, [m, v], step) => plainFactored.lamb(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-6, step }),
  },
  {
    name: "ADOPT",
    make: (p) => new simdopt.ADOPT([p]),
    bytesPerParam: 4 * 7, // read p, g, m, v; write p, m, v
    buffers: 2,
    plainStep: (p, g, [m, v], step) => plain.adopt(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.9999, eps: 1e-6, step: step + 1 }),
  },
  {
    name: "ScheduleFreeAdamW",
    make: (p) => {
      const optimizer = new simdopt.ScheduleFreeAdamW([p]);
      optimizer.train();
      return optimizer;
    },
    bytesPerParam: 4 * 7, // read y, g, z, v; write y, z, v
    buffers: 2,
    plainStep: (p, g, [z, v], step) => plain.scheduleFree(p, g, z, v, { lr: 2.5e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step, ckp1: 1 / step }),
  },
];


function copyBandwidth() {
  const source = new Float64Array(SIZE * 4);
  const target = new Float64Array(SIZE * 4);
  source.fill(1);
  const { seconds } = measure("copy", () => target.set(source), { maxTime: 0.5 });
  return (2 * source.byteLength) / seconds / 1e9;
}

async function tfjsStep(backend, algorithm) {
  if (algorithm.tfjs === undefined) return null;
  const tf = await loadTfjs(backend);
  const variable = tf.variable(tf.randomUniform([SIZE], -1, 1));
  const gradient = tf.randomUniform([SIZE], -1e-3, 1e-3);
  const optimizer = algorithm.tfjs(tf);
  const step = () => {
    optimizer.applyGradients({ [variable.name]: gradient });
    // Force completion: read one value back (the step itself is what dominates).
    tf.engine().backend.readSync?.(variable.dataId);
  };
  step();
  const { seconds } = measure(`${algorithm.name} tfjs-${backend}`, step, { maxTime: 1 });
  optimizer.dispose();
  variable.dispose();
  gradient.dispose();
  return seconds;
}

/** `only`: run just the rows whose names start with one of these (and skip the kernel probes). */
export async function run(only = []) {
  await simdopt.init();
  const bandwidth = copyBandwidth();
  console.log(`\nOptimizer step, ${SIZE.toLocaleString("en")} float32 parameters; streaming copy bandwidth here ≈ ${bandwidth.toFixed(1)} GB/s; simdopt build: ${simdopt.features().relaxedSimd ? "relaxed-simd" : "simd"}`);
  const rows = [];
  for (const algorithm of algorithms) {
    if (only.length > 0 && !only.some((prefix) => algorithm.name.startsWith(prefix))) continue;
    const p = simdopt.parameter(algorithm.shape ?? [SIZE], { init: "ones" });
    p.grad.fill(1e-3);
    const optimizer = algorithm.make(p);
    optimizer.step();
    const ours = measure(`${algorithm.name} simdopt`, () => optimizer.step());
    optimizer.dispose?.();
    p.dispose();

    const data = new Float32Array(SIZE).fill(1);
    const grad = new Float32Array(SIZE).fill(1e-3);
    const buffers = Array.from({ length: algorithm.buffers }, () => new Float32Array(SIZE));
    let step = 0;
    const js = measure(`${algorithm.name} plain JS`, () => algorithm.plainStep(data, grad, buffers, ++step));

    const tfWasm = await tfjsStep("wasm", algorithm);
    const tfCpu = await tfjsStep("cpu", algorithm);
    const mps = (seconds) => (seconds === null ? "—" : (SIZE / seconds / 1e6).toFixed(0));
    rows.push([
      algorithm.name,
      mps(ours.seconds),
      `${((SIZE * algorithm.bytesPerParam) / ours.seconds / 1e9).toFixed(1)}`,
      mps(js.seconds),
      mps(tfWasm),
      mps(tfCpu),
      ratio(js.seconds / ours.seconds),
      tfWasm === null ? "—" : ratio(tfWasm / ours.seconds),
    ]);
  }
  printTable("Optimizer step throughput (Mparams/s; higher is better)",
    ["algorithm", "simdopt", "simdopt GB/s", "plain JS", "tfjs-wasm", "tfjs-cpu", "vs plain JS", "vs tfjs-wasm"], rows);
  // The kernels alone, against their pre-driver copies, same-math probes and the memory/divider bounds.
  if (only.length === 0) await runKernels();
  // Last, so that the tables above keep their indices in bench/results.json (docs mark them by index).
  const memory = [
    ["Adam", (p) => new simdopt.Adam([p]), [SIDE, SIDE]],
    ["Adafactor", (p) => new simdopt.Adafactor([p]), [SIDE, SIDE]],
    ["Adafactor", (p) => new simdopt.Adafactor([p]), [SIZE]],
    ["LAMB", (p) => new simdopt.LAMB([p]), [SIDE, SIDE]],
  ].map(([name, make, shape]) => [name, `[${shape.join(", ")}]`, stateBytesPerParam(simdopt, make, shape).toFixed(4)]);
  printTable("Optimizer state (bytes per parameter element)", ["optimizer", "parameter shape", "state bytes / param"], memory);
}

// `node bench/optim.mjs [name prefix ...]`: all rows, or only the named ones.
if (isMain(import.meta.url)) await run(process.argv.slice(2));
