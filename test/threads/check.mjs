// Runs the threaded calls against one thread in whichever runtime executes it (Node, Deno, Bun)
// and prints one JSON line: { threads, mismatches: { case: count }, after }. Each case runs
// once on one thread, then with threads on, over fresh copies of the same inputs; every output
// element must be the same bits. Usage: <runtime> check.mjs [path of dist/index.js]
const entry = (globalThis.Deno?.args ?? globalThis.process?.argv.slice(2) ?? [])[0] ?? "../../dist/index.js";
const entryUrl = new URL(entry, import.meta.url);
const s = await import(entryUrl.href);
await s.init();

function random(length, seed) {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

const OPTIMIZERS = {
  SGD: (p) => new s.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
  Adam: (p) => new s.Adam(p, { lr: 0.01, weightDecay: 0.1 }),
  AdamAmsgrad: (p) => new s.Adam(p, { lr: 0.01, amsgrad: true, maximize: true }),
  AdamW: (p) => new s.AdamW(p, { lr: 0.01 }),
  Adagrad: (p) => new s.Adagrad(p, { lr: 0.05, lrDecay: 0.01, initialAccumulatorValue: 0.1 }),
  RMSprop: (p) => new s.RMSprop(p, { lr: 0.01, momentum: 0.9, centered: true }),
  RMSpropMomentum: (p) => new s.RMSprop(p, { lr: 0.01, momentum: 0.9 }),
  Adadelta: (p) => new s.Adadelta(p, { weightDecay: 0.01 }),
  Adamax: (p) => new s.Adamax(p, { lr: 0.01 }),
  NAdam: (p) => new s.NAdam(p, { lr: 0.01, weightDecay: 0.01 }),
  RAdam: (p) => new s.RAdam(p, { lr: 0.01 }),
  Lion: (p) => new s.Lion(p, { lr: 1e-3, weightDecay: 0.1 }),
  Ftrl: (p) => new s.Ftrl(p, { lr: 0.05, l1: 1e-3, l2: 1e-3, l2Shrinkage: 1e-3, beta: 0.1 }),
  FtrlPower: (p) => new s.Ftrl(p, { lr: 0.05, lrPower: -1, l1: 1e-3 }),
  SGDL1: (p) => new s.SGD(p, { lr: 0.05, momentum: 0.9, l1: 1e-3 }),
  AdagradL1: (p) => new s.Adagrad(p, { lr: 0.05, l1: 1e-3 }),
};

/** Each case returns the arrays it produced. */
const CASES = {};
// Step variants: dense; masked (a mask on two parameters); by rows (2-D parameters, some rows
// touched late so first-use rules apply per row); guarded (finite, then a NaN that skips).
const VARIANTS = {
  dense: () => undefined,
  mask: (params, step) => ({ mask: new Map([[params[0], random(params[0].size, 7 + step).map((v) => (v > 0 ? 1 : 0))], [params[2], new Uint8Array(params[2].size).map((_, i) => (i * 7 + step) % 3 === 0 ? 1 : 0)]]) }),
  rows: (params, step) => ({ rows: new Map([[params[0], Int32Array.from({ length: 40 + 100 * step }, (_, i) => (i * 7 + step) % 300).filter((v, i, a) => a.indexOf(v) === i)], [params[4], new Int32Array([step, 800 - step])]]) }),
  guard: () => ({ skipIfNonfinite: true }),
};
for (const [name, make] of Object.entries(OPTIMIZERS)) {
  for (const [variant, options] of Object.entries(VARIANTS)) {
    CASES[`step ${name} ${variant}`] = () => {
      // Odd sizes: chunks end mid-tensor and tensors end in scalar tails; many small tensors.
      const shapes = [[300, 77], [5], [40001], [1, 3], [801, 65], ...Array.from({ length: 40 }, (_, i) => [i + 60])];
      const params = shapes.map((shape, i) => s.parameter(shape, { init: random(shape[0] * (shape[1] ?? 1), 10 + i) }));
      const optimizer = make(params);
      const results = [];
      for (let step = 0; step < 4; step++) {
        params.forEach((p, i) => p.grad.set(random(p.size, 100 * step + i)));
        if (variant === "guard" && step === 2) params[2].grad[40000] = NaN;
        results.push(optimizer.step(options(params, step)) ? 1 : 0);
      }
      const out = [new Float64Array(results), ...params.map((p) => p.data.slice())];
      optimizer.dispose();
      params.forEach((p) => p.dispose());
      return out;
    };
  }
}
// Gradient accumulation (dense and guarded steps only) and EMA of the weights after each step.
for (const [name, make] of Object.entries({
  AdamAccumulate: (p) => new s.Adam(p, { lr: 0.01, accumulate: 3 }),
  NAdamAccumulate: (p) => new s.NAdam(p, { lr: 0.01, accumulate: 2 }),
  SGDAccumulateEMA: (p) => new s.SGD(p, { lr: 0.05, momentum: 0.9, accumulate: 2 }),
  RAdamEMA: (p) => new s.RAdam(p, { lr: 0.01 }),
})) {
  for (const guard of [false, true]) {
    CASES[`step ${name} ${guard ? "guard" : "dense"}`] = () => {
      const shapes = [[300, 77], [5], [40001], ...Array.from({ length: 20 }, (_, i) => [i + 60])];
      const params = shapes.map((shape, i) => s.parameter(shape, { init: random(shape[0] * (shape[1] ?? 1), 30 + i) }));
      const optimizer = make(params);
      const ema = name.endsWith("EMA") ? new s.EMA(params, { decay: 0.9 }) : null;
      const results = [];
      for (let step = 0; step < 7; step++) {
        params.forEach((p, i) => p.grad.set(random(p.size, 300 * step + i)));
        if (guard && step === 3) params[2].grad[40000] = NaN;
        results.push(optimizer.step(guard ? { skipIfNonfinite: true } : undefined) ? 1 : 0);
        ema?.update();
      }
      const out = [new Float64Array(results), ...params.map((p) => p.data.slice())];
      if (ema !== null) {
        ema.swap();
        out.push(...params.map((p) => p.data.slice()));
        ema.dispose();
      }
      optimizer.dispose();
      params.forEach((p) => p.dispose());
      return out;
    };
  }
}
// Muon: its Newton–Schulz GEMMs split across the threads (tall, wide and square weights).
CASES["step Muon"] = () => {
  const params = [[300, 200], [200, 301], [129, 129]].map(([r, c], i) => s.parameter([r, c], { init: random(r * c, 50 + i) }));
  const optimizer = new s.Muon(params, { lr: 0.02, weightDecay: 0.1 });
  for (let step = 0; step < 3; step++) {
    params.forEach((p, i) => p.grad.set(random(p.size, 400 * step + i)));
    optimizer.step();
  }
  const out = params.map((p) => p.data.slice());
  optimizer.dispose();
  params.forEach((p) => p.dispose());
  return out;
};
for (const [m, k, n] of [[257, 129, 131], [96, 300, 500], [513, 65, 17], [7, 1000, 1000], [128, 128, 128]]) {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      CASES[`matmul ${m}x${k}x${n} ${transA ? "T" : "N"}${transB ? "T" : "N"}`] = () => {
        const a = random(m * k, 1), b = random(k * n, 2);
        const c = s.matmul(a, b, { m, k, n, transA, transB, alpha: 0.75, beta: 0.5, out: random(m * n, 3) });
        const direct = s.parameter([m, n], { init: random(m * n, 4) });
        s.matmul(a, b, { m, k, n, transA, transB, out: direct.data });
        const out = [c, direct.data.slice()];
        direct.dispose();
        return out;
      };
    }
  }
}
for (const layout of ["NCHW", "NHWC"]) {
  for (const shape of [[4, 13, 9, 7], [8, 64, 16, 16], [3, 37, 301]]) {
    for (const training of [true, false]) {
      CASES[`batchNorm ${layout} ${shape.join("x")} ${training ? "train" : "eval"}`] = () => {
        const C = layout === "NCHW" ? shape[1] : shape[shape.length - 1];
        const size = shape.reduce((x, y) => x * y);
        const x = random(size, 5), gamma = random(C, 6), beta = random(C, 7);
        const runningMean = random(C, 8), runningVar = random(C, 9).map(Math.abs);
        const f = s.batchNormForward(x, shape, { training, gamma, beta, runningMean, runningVar, layout });
        const b = s.batchNormBackward(random(size, 11), x, shape, { mean: f.mean, invStd: f.invStd, gamma, training, layout });
        return [f.y, f.mean, f.invStd, runningMean, runningVar, b.dx, b.dgamma, b.dbeta];
      };
    }
  }
}
for (const normType of [2, 1, Infinity]) {
  CASES[`clipGradNorm p=${normType}`] = () => {
    const params = [60000, 3, 20001, 9000].map((size, i) => s.parameter([size]));
    params.forEach((p, i) => p.grad.set(random(p.size, 20 + i)));
    const total = s.clipGradNorm(params, 0.5, normType);
    const out = [new Float64Array([total]), ...params.map((p) => p.grad.slice())];
    params.forEach((p) => p.dispose());
    return out;
  };
}

function runAll() {
  const out = {};
  for (const [name, run] of Object.entries(CASES)) out[name] = run();
  return out;
}

function mismatches(a, b) {
  const counts = {};
  for (const name of Object.keys(a)) {
    let count = 0;
    a[name].forEach((array, j) => {
      const other = b[name][j];
      if (other.length !== array.length) count += Math.max(array.length, 1);
      for (let i = 0; i < array.length; i++) if (!Object.is(array[i], other[i])) count++;
    });
    counts[name] = count;
  }
  return counts;
}

const single = runAll();
const threads = await s.initThreads(2);
const workers = s.features().workers;
const threaded = runAll();
const workerTasks = s.threadsInternal().workerTaskCount();
s.terminateThreads();
const after = runAll();
console.log(JSON.stringify({
  threads, workers, workerTasks, cases: Object.keys(CASES).length,
  mismatches: mismatches(single, threaded), mismatchesAfter: mismatches(single, after), workersAfter: s.features().workers,
}));
