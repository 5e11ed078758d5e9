// The runtime conformance suite: one table of small cases, run unchanged in Node, Deno, Bun,
// Chromium (main thread and worker) and workerd against the packed package, and compared with
// expected.json — float64 reference results written by generate-expected.mjs in Node.
//
// Plain ESM with no imports, so every runtime can load it as it is. The caller imports simdopt
// itself (by its package name, an import-mapped URL, or a workerd module name) and passes the
// namespace in: `runConformance(simdopt, expected, { initialize, mode })`.
//
// Adding a family: add an entry to CASES (name, the exports it needs, `inputs()` and
// `run(lib, inputs)`), add its float64 reference to generate-expected.mjs, and run
// `node test/runtimes/generate-expected.mjs`. A case whose exports the package does not have is
// reported as "skip" (the vitest file checks every runtime runs exactly the cases the package
// supports).

/** mulberry32: tiny seeded generator, so every runtime sees the same inputs. */
function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` float32-representable values uniform in [-scale, scale) (plain numbers). */
function values(random, length, scale = 1) {
  const out = new Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.fround((2 * random() - 1) * scale);
  return out;
}

/** Positive values in [low, high). */
function positive(random, length, low, high) {
  const out = new Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.fround(low + (high - low) * random());
  return out;
}

const product = (shape) => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------
// Optimizers: two parameters whose sizes exercise the SIMD body and the tail (37 = 9·4 + 1, and a
// 3×5 matrix), a few steps with fresh gradients each step. Output: both parameters, flattened.

const OPTIMIZER_SHAPES = [[37], [3, 5]];

function optimizerInputs(seed, steps, shapes) {
  const random = seeded(seed);
  const initial = shapes.map((shape) => values(random, product(shape)));
  const grads = [];
  for (let s = 0; s < steps; s++) grads.push(shapes.map((shape) => values(random, product(shape), 0.5)));
  return { shapes, initial, grads };
}

function runOptimizer(lib, ctor, options, inputs, train) {
  const params = inputs.shapes.map((shape, i) => lib.parameter(shape, { init: inputs.initial[i], name: `p${i}` }));
  try {
    const optimizer = new lib[ctor](params, options);
    const k = options.accumulate ?? 1;
    // ScheduleFreeAdamW: train() before stepping, eval() after, so the output is the average x.
    if (train) optimizer.train();
    inputs.grads.forEach((stepGrads, s) => {
      params.forEach((param, i) => param.grad.set(stepGrads[i]));
      const stepped = optimizer.step();
      // With accumulate: k, only every k-th step updates.
      if (stepped !== ((s + 1) % k === 0)) throw new Error(`step() ${s + 1} returned ${String(stepped)}`);
    });
    if (train) optimizer.eval();
    return params.flatMap((param) => Array.from(param.data));
  } finally {
    for (const param of params) param.dispose();
  }
}

const optimizer = (name, ctor, options, { seed, steps = 7, rtol = 1e-5, floor = 0.1, shapes = OPTIMIZER_SHAPES, train = false } = {}) => ({
  name,
  family: "optimizer",
  requires: ["parameter", ctor],
  rtol,
  floor,
  spec: { ctor, options, seed, steps, shapes, train },
  inputs: () => optimizerInputs(seed, steps, shapes),
  run: (lib, inputs) => runOptimizer(lib, ctor, options, inputs, train),
});

// EMA of weights: the parameters take `steps` sets of values, update() after each; the output is
// the averages (copyTo into fresh parameters).
const ema = (name, decay, seed, steps = 5) => ({
  name,
  family: "ema",
  requires: ["parameter", "EMA"],
  rtol: 1e-5,
  floor: 0.1,
  spec: { decay, seed, steps },
  inputs: () => optimizerInputs(seed, steps, OPTIMIZER_SHAPES),
  run: (lib, inputs) => {
    const params = inputs.shapes.map((shape, i) => lib.parameter(shape, { init: inputs.initial[i], name: `p${i}` }));
    const copies = inputs.shapes.map((shape) => lib.parameter(shape));
    const average = new lib.EMA(params, { decay });
    try {
      for (const stepValues of inputs.grads) {
        params.forEach((param, i) => param.data.set(stepValues[i]));
        average.update();
      }
      average.copyTo(copies);
      return copies.flatMap((param) => Array.from(param.data));
    } finally {
      average.dispose();
      for (const param of [...params, ...copies]) param.dispose();
    }
  },
});

// ---------------------------------------------------------------------------------------------
// Schedulers: SGD with two param groups (lr 0.1 and 0.05); the output is getLastLr() and the
// groups' lr after construction and after each step. Plain doubles, so the tolerance is tight.

const SCHEDULER_BASE_LRS = [0.1, 0.05];

function runScheduler(lib, ctor, options, steps) {
  const params = SCHEDULER_BASE_LRS.map((_, i) => lib.parameter([1], { name: `s${i}` }));
  try {
    const opt = new lib.SGD(params.map((param, i) => ({ params: [param], lr: SCHEDULER_BASE_LRS[i] })), { lr: 0.1 });
    const scheduler = new lib[ctor](opt, options);
    const out = [];
    const record = () => {
      out.push(...scheduler.getLastLr());
      out.push(...opt.paramGroups.map((group) => group.lr));
    };
    record();
    for (let s = 0; s < steps; s++) {
      opt.step();
      scheduler.step();
      record();
    }
    if (scheduler.lastEpoch !== steps) throw new Error(`lastEpoch is ${scheduler.lastEpoch} after ${steps} steps`);
    return out;
  } finally {
    for (const param of params) param.dispose();
  }
}

const scheduler = (name, ctor, options, steps) => ({
  name,
  family: "scheduler",
  requires: ["parameter", "SGD", ctor],
  rtol: 1e-9,
  floor: 1e-9,
  spec: { ctor, options, steps, baseLrs: SCHEDULER_BASE_LRS },
  inputs: () => ({}),
  run: (lib) => runScheduler(lib, ctor, options, steps),
});

// ---------------------------------------------------------------------------------------------
// Gradient clipping: the returned total norm, then every clipped gradient.

function clipInputs(seed) {
  const random = seeded(seed);
  return { shapes: OPTIMIZER_SHAPES, grads: OPTIMIZER_SHAPES.map((shape) => values(random, product(shape), 2)) };
}

function runClip(lib, fn, args, inputs) {
  const params = inputs.shapes.map((shape, i) => lib.parameter(shape, { name: `c${i}` }));
  try {
    params.forEach((param, i) => param.grad.set(inputs.grads[i]));
    const result = lib[fn](params, ...args);
    const head = fn === "clipGradNorm" ? [result] : [];
    return [...head, ...params.flatMap((param) => Array.from(param.grad))];
  } finally {
    for (const param of params) param.dispose();
  }
}

const clip = (name, fn, args, seed) => ({
  name,
  family: "clip",
  requires: ["parameter", fn],
  rtol: 1e-5,
  floor: 0.01,
  spec: { fn, args: args.map((a) => (a === Infinity ? "Infinity" : a)) },
  inputs: () => clipInputs(seed),
  run: (lib, inputs) => runClip(lib, fn, args, inputs),
});

// ---------------------------------------------------------------------------------------------
// matmul: C = alpha·op(A)·op(B) + beta·C on foreign Float32Arrays (copied in and out).

function matmulInputs(seed, { m, k, n }) {
  const random = seeded(seed);
  return { a: values(random, m * k), b: values(random, k * n), c: values(random, m * n) };
}

function runMatmul(lib, options, inputs) {
  const a = Float32Array.from(inputs.a);
  const b = Float32Array.from(inputs.b);
  if (options.useOut) {
    const out = Float32Array.from(inputs.c);
    const { useOut, ...rest } = options;
    lib.matmul(a, b, { ...rest, out });
    return Array.from(out);
  }
  return Array.from(lib.matmul(a, b, options));
}

const matmul = (name, options, seed) => ({
  name,
  family: "matmul",
  requires: ["matmul"],
  rtol: 1e-5,
  floor: 1,
  spec: options,
  inputs: () => matmulInputs(seed, options),
  run: (lib, inputs) => runMatmul(lib, options, inputs),
});

// ---------------------------------------------------------------------------------------------
// Batch norm: functional forward (training and eval), backward, and the BatchNorm layer.

function channelsOf(shape, layout) {
  return layout === "NHWC" ? shape[shape.length - 1] : shape[1];
}

function batchNormInputs(seed, shape, layout) {
  const random = seeded(seed);
  const size = product(shape);
  const channels = channelsOf(shape, layout);
  return {
    shape,
    layout,
    x: values(random, size, 2).map((v, i) => Math.fround(v + (i % 3))), // a non-zero mean
    dy: values(random, size),
    gamma: positive(random, channels, 0.5, 1.5),
    beta: values(random, channels),
    runningMean: values(random, channels, 0.2),
    runningVar: positive(random, channels, 0.5, 2),
  };
}

function runBatchNormForward(lib, inputs, training) {
  const runningMean = Float32Array.from(inputs.runningMean);
  const runningVar = Float32Array.from(inputs.runningVar);
  const { y, mean, invStd } = lib.batchNormForward(Float32Array.from(inputs.x), inputs.shape, {
    training,
    gamma: Float32Array.from(inputs.gamma),
    beta: Float32Array.from(inputs.beta),
    runningMean,
    runningVar,
    momentum: 0.1,
    eps: 1e-5,
    layout: inputs.layout,
  });
  return [...y, ...mean, ...invStd, ...runningMean, ...runningVar];
}

function runBatchNormBackward(lib, inputs) {
  const x = Float32Array.from(inputs.x);
  const gamma = Float32Array.from(inputs.gamma);
  const { mean, invStd } = lib.batchNormForward(x, inputs.shape, {
    training: true, gamma, beta: Float32Array.from(inputs.beta), eps: 1e-5, layout: inputs.layout,
  });
  const { dx, dgamma, dbeta } = lib.batchNormBackward(Float32Array.from(inputs.dy), x, inputs.shape, {
    mean: Float32Array.from(mean), invStd: Float32Array.from(invStd), gamma, layout: inputs.layout,
  });
  return [...dx, ...dgamma, ...dbeta];
}

function runBatchNormLayer(lib, inputs) {
  const bn = new lib.BatchNorm(channelsOf(inputs.shape, inputs.layout), { layout: inputs.layout });
  try {
    bn.weight.data.set(inputs.gamma);
    bn.bias.data.set(inputs.beta);
    bn.runningMean.set(inputs.runningMean);
    bn.runningVar.set(inputs.runningVar);
    bn.training = true;
    const y = Array.from(bn.forward(Float32Array.from(inputs.x), inputs.shape));
    const dx = Array.from(bn.backward(Float32Array.from(inputs.dy)));
    return [...y, ...dx, ...bn.weight.grad, ...bn.bias.grad, ...bn.runningMean, ...bn.runningVar];
  } finally {
    if (typeof bn.dispose === "function") bn.dispose();
  }
}

const batchNorm = (name, kind, shape, layout, seed) => ({
  name,
  family: "batchnorm",
  requires: kind === "layer" ? ["BatchNorm"] : kind === "backward" ? ["batchNormForward", "batchNormBackward"] : ["batchNormForward"],
  rtol: 1e-5,
  floor: 0.1,
  spec: { kind, shape, layout },
  inputs: () => batchNormInputs(seed, shape, layout),
  run: (lib, inputs) =>
    kind === "layer" ? runBatchNormLayer(lib, inputs)
      : kind === "backward" ? runBatchNormBackward(lib, inputs)
        : runBatchNormForward(lib, inputs, kind === "train"),
});

// ---------------------------------------------------------------------------------------------

const LOWP_SHAPES = [[1037], [3, 5]];

/** The table. Names are unique; expected.json is keyed by them. */
export const CASES = [
  optimizer("SGD", "SGD", { lr: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true }, { seed: 1 }),
  optimizer("SGD-dampening-maximize", "SGD", { lr: 0.05, momentum: 0.8, dampening: 0.3, maximize: true }, { seed: 2 }),
  optimizer("Adam", "Adam", { lr: 0.01, betas: [0.9, 0.99], weightDecay: 0.01, amsgrad: true }, { seed: 3 }),
  optimizer("AdamW", "AdamW", { lr: 0.01, weightDecay: 0.1 }, { seed: 4 }),
  optimizer("Adagrad", "Adagrad", { lr: 0.05, lrDecay: 0.01, weightDecay: 0.01, initialAccumulatorValue: 0.1 }, { seed: 5 }),
  optimizer("RMSprop", "RMSprop", { lr: 0.01, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.01 }, { seed: 6 }),
  optimizer("Adadelta", "Adadelta", { lr: 1.0, rho: 0.9, weightDecay: 0.01 }, { seed: 7 }),
  optimizer("Adamax", "Adamax", { lr: 0.01, weightDecay: 0.01 }, { seed: 8 }),
  optimizer("NAdam", "NAdam", { lr: 0.01, weightDecay: 0.01 }, { seed: 9 }),
  optimizer("NAdam-decoupled", "NAdam", { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true }, { seed: 10 }),
  // Eight steps: the rectified branch (rho_t > 5) starts at step 6 with beta2 = 0.999.
  optimizer("RAdam", "RAdam", { lr: 0.01, weightDecay: 0.01 }, { seed: 11, steps: 8 }),
  optimizer("Lion", "Lion", { lr: 0.001, betas: [0.9, 0.99], weightDecay: 0.1 }, { seed: 12 }),
  optimizer("Adagrad-l1", "Adagrad", { lr: 0.1, l1: 0.5, initialAccumulatorValue: 0.1 }, { seed: 23 }),
  optimizer("Ftrl", "Ftrl", { lr: 0.1, l1: 0.2, l2: 0.05, l2Shrinkage: 0.1, beta: 0.5 }, { seed: 24 }),
  optimizer("Adafactor", "Adafactor", { lr: 0.05, weightDecay: 0.1, d: 1.5 }, { seed: 25 }),
  optimizer("Adafactor-maximize", "Adafactor", { eps: [1e-3, 1e-2], beta2Decay: -0.5, maximize: true }, { seed: 26 }),
  optimizer("LAMB", "LAMB", { lr: 0.01, betas: [0.8, 0.99], weightDecay: 0.1 }, { seed: 27 }),
  optimizer("Adam-accumulate", "Adam", { lr: 0.01, weightDecay: 0.01, accumulate: 3 }, { seed: 28, steps: 9 }),
  ema("EMA", 0.9, 29),
  optimizer("ADOPT", "ADOPT", { lr: 0.01, weightDecay: 0.01 }, { seed: 30 }),
  optimizer("ADOPT-decoupled", "ADOPT", { lr: 0.01, weightDecay: 0.1, decoupled: true }, { seed: 31 }),
  optimizer("ScheduleFreeAdamW", "ScheduleFreeAdamW", { lr: 0.01, weightDecay: 0.01, warmupSteps: 3 }, { seed: 32, train: true }),
  // 2-D only: a wide and a tall matrix (the iteration then runs on the other Gram side).
  optimizer("Muon", "Muon", { lr: 0.02 }, { seed: 33, shapes: [[3, 5], [6, 4]] }),
  // Reduced-precision state: 1037 = four int8 blocks and 13, and 129·8 + 5 for the bfloat16 loop.
  // The references compute in float32 as the kernels do (see expected-lowp.mjs), so the state
  // agrees code for code and the tolerance is tight.
  optimizer("Adam-bfloat16", "Adam", { lr: 0.01, weightDecay: 0.01, stateDtype: "bfloat16" }, { seed: 34, steps: 4, rtol: 1e-6, shapes: LOWP_SHAPES }),
  optimizer("AdamW-int8", "AdamW", { lr: 0.01, weightDecay: 0.1, stateDtype: "int8" }, { seed: 35, steps: 4, rtol: 1e-6, shapes: LOWP_SHAPES }),
  optimizer("Lion-int8", "Lion", { lr: 0.01, weightDecay: 0.1, maximize: true, stateDtype: "int8" }, { seed: 36, steps: 4, rtol: 1e-6, shapes: LOWP_SHAPES }),
  scheduler("CosineAnnealingLR", "CosineAnnealingLR", { tMax: 6, etaMin: 0.001 }, 15),
  scheduler("StepLR", "StepLR", { stepSize: 3, gamma: 0.5 }, 10),
  clip("clipGradNorm-2", "clipGradNorm", [1.0], 13),
  clip("clipGradNorm-inf", "clipGradNorm", [0.5, Infinity], 14),
  clip("clipGradValue", "clipGradValue", [0.3], 15),
  matmul("matmul", { m: 5, k: 7, n: 3 }, 16),
  matmul("matmul-transposed-beta", { m: 33, k: 65, n: 17, transA: true, transB: true, alpha: 0.5, beta: 2, useOut: true }, 17),
  batchNorm("batchNormForward-NCHW", "train", [4, 3, 5], "NCHW", 18),
  batchNorm("batchNormForward-NHWC", "train", [2, 3, 7], "NHWC", 19),
  batchNorm("batchNormForward-eval", "eval", [3, 6, 2, 2], "NCHW", 20),
  batchNorm("batchNormBackward", "backward", [4, 3, 5], "NCHW", 21),
  batchNorm("BatchNorm", "layer", [5, 3, 2, 3], "NCHW", 22),
];

// ---------------------------------------------------------------------------------------------
// Runtime description and independent feature probes (different instructions from the ones
// simdopt itself probes with, so features() is checked against a second opinion).

const ZERO16 = new Array(16).fill(0);
/** () -> v128 { i32x4.add(v128.const 0, v128.const 0) } */
const SIMD_PROBE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 10, 43, 1, 41, 0,
  0xfd, 0x0c, ...ZERO16, 0xfd, 0x0c, ...ZERO16, 0xfd, 0xae, 0x01, 0x0b];
/** () -> v128 { f32x4.relaxed_madd(v128.const 0, v128.const 0, v128.const 0) } */
const RELAXED_PROBE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  0xfd, 0x0c, ...ZERO16, 0xfd, 0x0c, ...ZERO16, 0xfd, 0x0c, ...ZERO16, 0xfd, 0x85, 0x02, 0x0b];

export function probeRuntime() {
  const validate = (bytes) => {
    try {
      return WebAssembly.validate(new Uint8Array(bytes));
    } catch {
      return false;
    }
  };
  let sharedMemory = false;
  try {
    sharedMemory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    sharedMemory = false;
  }
  return {
    simd: validate(SIMD_PROBE),
    relaxedSimd: validate(RELAXED_PROBE),
    sharedMemory,
    crossOriginIsolated: typeof globalThis.crossOriginIsolated === "boolean" ? globalThis.crossOriginIsolated : null,
  };
}

export function describeRuntime() {
  const g = globalThis;
  if (g.Deno !== undefined) return { name: "deno", version: g.Deno.version.deno, engine: `V8 ${g.Deno.version.v8}` };
  if (g.Bun !== undefined) return { name: "bun", version: g.Bun.version, engine: "JavaScriptCore" };
  if (g.navigator?.userAgent === "Cloudflare-Workers") return { name: "workerd", version: null, engine: "V8" };
  if (g.process?.versions?.node !== undefined) return { name: "node", version: g.process.versions.node, engine: `V8 ${g.process.versions.v8}` };
  const inWorker = typeof g.WorkerGlobalScope === "function" && g instanceof g.WorkerGlobalScope;
  const chrome = /(?:Headless)?Chrome\/([\d.]+)/.exec(g.navigator?.userAgent ?? "");
  return {
    name: inWorker ? "browser-worker" : "browser-main",
    version: chrome ? chrome[1] : null,
    engine: g.navigator?.userAgent ?? "unknown",
  };
}

// ---------------------------------------------------------------------------------------------

function compare(actual, expected, rtol, floor) {
  if (!Array.isArray(actual) && !ArrayBuffer.isView(actual)) return { ok: false, message: `result is not an array (${typeof actual})` };
  if (actual.length !== expected.length) return { ok: false, message: `length ${actual.length}, expected ${expected.length}` };
  let maxError = 0;
  let worst = -1;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]) / (Math.abs(expected[i]) + floor);
    if (!(error <= maxError)) {
      maxError = error;
      worst = i;
    }
  }
  const ok = maxError <= rtol;
  return {
    ok,
    maxError,
    message: ok ? undefined : `element ${worst}: got ${actual[worst]}, expected ${expected[worst]} (relative error ${maxError}, tolerance ${rtol})`,
  };
}

/**
 * Growth probe: hold a parameter's views, allocate far past the initial memory (64 MiB beyond the
 * default 16 MiB reservation), and check the parameter still reads and writes correctly. With a
 * shared memory the views held from before must stay valid; with a plain memory they detach and
 * only the getters re-view (the documented fallback).
 */
function growthProbe(lib) {
  const size = 1037;
  const initial = values(seeded(99), size);
  const param = lib.parameter([size], { init: initial });
  const heldData = param.data;
  const heldGrad = param.grad;
  heldGrad.fill(0.25);
  const big = lib.parameter([8 * 1024 * 1024]); // 32 MiB of data + 32 MiB of gradient
  try {
    big.data[big.size - 1] = 7;
    const data = param.data;
    const gettersOk = data.length === size && data.every((v, i) => v === initial[i]) && param.grad.every((v) => v === 0.25) &&
      big.data[big.size - 1] === 7;
    const heldValid = heldData.length === size && heldData[size - 1] === initial[size - 1] && heldGrad.length === size;
    let writesThrough = false;
    if (heldValid) {
      heldData[3] = 42;
      writesThrough = param.data[3] === 42;
    }
    const threads = lib.features().threads;
    const ok = gettersOk && (threads ? heldValid && writesThrough : true);
    return { ok, threads, gettersOk, heldValid, writesThrough, grownBytes: 2 * big.size * 4 };
  } finally {
    big.dispose();
    param.dispose();
  }
}

/**
 * Runs everything. `initialize` loads the module (e.g. `() => lib.init()`); `mode` names it in the
 * report. Returns a plain, JSON-able report; never throws.
 */
export async function runConformance(lib, expected, { initialize, mode, runtime = describeRuntime() } = {}) {
  const started = Date.now();
  const report = { runtime, mode, probe: probeRuntime(), featuresBefore: null, featuresAfter: null, cases: [], growth: null, ok: false };
  try {
    report.featuresBefore = lib.features();
    // Using the library before init must say to call init().
    let beforeInit = "no error";
    try {
      lib.parameter([1]);
    } catch (error) {
      beforeInit = String(error?.message ?? error);
    }
    report.cases.push({ name: "before-init", status: /init\(\)/.test(beforeInit) ? "pass" : "fail", message: beforeInit });

    await (initialize ?? (() => lib.init()))();
    report.featuresAfter = lib.features();

    for (const entry of CASES) {
      const missing = entry.requires.filter((name) => lib[name] === undefined);
      if (missing.length > 0) {
        report.cases.push({ name: entry.name, family: entry.family, status: "skip", message: `not exported: ${missing.join(", ")}` });
        continue;
      }
      const want = expected.cases[entry.name];
      if (want === undefined) {
        report.cases.push({ name: entry.name, family: entry.family, status: "fail", message: "no expected values (run generate-expected.mjs)" });
        continue;
      }
      try {
        const actual = entry.run(lib, entry.inputs());
        const { ok, maxError, message } = compare(actual, want.values, entry.rtol, entry.floor);
        report.cases.push({ name: entry.name, family: entry.family, status: ok ? "pass" : "fail", maxError, message });
      } catch (error) {
        report.cases.push({ name: entry.name, family: entry.family, status: "fail", message: `threw ${error?.name}: ${error?.message ?? error}` });
      }
    }

    try {
      report.growth = growthProbe(lib);
    } catch (error) {
      report.growth = { ok: false, message: `threw ${error?.name}: ${error?.message ?? error}` };
    }
    report.cases.push({ name: "growth", status: report.growth.ok ? "pass" : "fail", message: report.growth.message });
    report.ok = report.cases.every((c) => c.status !== "fail");
  } catch (error) {
    report.error = `${error?.name}: ${error?.message ?? error}`;
    report.ok = false;
  }
  report.durationMs = Date.now() - started;
  return report;
}
