// Muon steps on square weight matrices: one step is a momentum pass, 5 Newton–Schulz iterations
// of 3 GEMMs each, and an update pass. The goal is the GEMM bound: a 1024×1024 step within
// 1/0.8 of the time of 15 simdopt matmuls of that size (measured side by side here). At 256×256
// the step is also timed against the same algorithm in plain JS (i-k-j loops over Float32Arrays).
// With two threads the GEMMs split across them: the 1024×1024 step is timed on one thread and on
// two (interleaved), and against 15 two-thread GEMMs.
import { measure, printTable, ratio, isMain } from "./harness.mjs";
import * as simdopt from "../dist/index.js";

/** The rows this file prints (test/optim/spec.test.ts checks them against the spec). */
export const algorithms = [{ name: "Muon 1024×1024" }, { name: "Muon 256×256" }];

const NS = [3.4445, -4.775, 2.0315];

/** C = alpha·A·B + beta·C for square n×n row-major arrays (i-k-j loop). */
function gemm(a, b, c, n, alpha, beta) {
  for (let i = 0; i < n * n; i++) c[i] *= beta;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const aip = alpha * a[i * n + p];
      for (let j = 0; j < n; j++) c[i * n + j] += aip * b[p * n + j];
    }
  }
}

/** Muon's step as a user would write it without simdopt (square weights: no transposes). */
function plainMuon(p, g, buf, n, scratch, { lr, momentum, weightDecay }) {
  const [x, xt, gram, poly, next] = scratch;
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    buf[i] += (1 - momentum) * (g[i] - buf[i]);
    x[i] = g[i] + momentum * (buf[i] - g[i]);
    sum += x[i] * x[i];
  }
  const scale = 1 / Math.max(Math.sqrt(sum), 1e-7);
  for (let i = 0; i < p.length; i++) x[i] *= scale;
  for (let s = 0; s < 5; s++) {
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) xt[j * n + i] = x[i * n + j];
    gemm(x, xt, gram, n, 1, 0);
    poly.set(gram);
    gemm(gram, gram, poly, n, NS[2], NS[1]);
    next.set(x);
    gemm(poly, x, next, n, 1, NS[0]);
    x.set(next);
  }
  for (let i = 0; i < p.length; i++) p[i] = p[i] * (1 - lr * weightDecay) - lr * x[i];
}

/** Median seconds of each function, timed in interleaved rounds of ~0.3 s each. */
function interleaved(fns, rounds = 7) {
  const times = fns.map(() => []);
  for (let round = 0; round < rounds; round++) {
    fns.forEach(([before, fn], i) => {
      before();
      fn();
      let calls = 0;
      const start = performance.now();
      while (performance.now() - start < 300) { fn(); calls++; }
      times[i].push((performance.now() - start) / 1e3 / calls);
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
}

/** The 1024×1024 step and 15 GEMMs of that size on one thread and on two, interleaved. */
async function withThreads(n) {
  if ((await simdopt.initThreads(2)) !== 2) return null;
  const pool = simdopt.threadsInternal();
  const w = simdopt.parameter([n, n], { init: "xavierUniform", seed: 1 });
  for (let i = 0; i < w.size; i++) w.grad[i] = Math.sin(i) * 1e-2;
  const optimizer = new simdopt.Muon([w]);
  const a = simdopt.parameter([n, n], { init: "xavierUniform", seed: 2 });
  const c = simdopt.parameter([n, n], { init: "zeros" });
  const one = () => pool.pauseThreads(true), two = () => pool.pauseThreads(false);
  const step = () => optimizer.step();
  const gemm = () => simdopt.matmul(a.data, a.data, { m: n, k: n, n, out: c.data });
  const [stepOne, stepTwo, gemmTwo] = interleaved([[one, step], [two, step], [two, gemm]]);
  pool.pauseThreads(false);
  optimizer.dispose();
  for (const p of [w, a, c]) p.dispose();
  simdopt.terminateThreads();
  return { stepOne, stepTwo, gemmTwo };
}

function simdoptStep(n) {
  const w = simdopt.parameter([n, n], { init: "xavierUniform", seed: 1 });
  for (let i = 0; i < w.size; i++) w.grad[i] = Math.sin(i) * 1e-2;
  const optimizer = new simdopt.Muon([w]);
  optimizer.step();
  const result = measure(`Muon ${n}² simdopt`, () => optimizer.step(), { maxTime: 3, minSamples: 5 });
  optimizer.dispose();
  w.dispose();
  return result.seconds;
}

export async function run() {
  await simdopt.init();
  const n = 1024;
  const a = simdopt.parameter([n, n], { init: "xavierUniform", seed: 2 });
  const c = simdopt.parameter([n, n], { init: "zeros" });
  const gemmSeconds = measure("matmul 1024³", () => simdopt.matmul(a.data, a.data, { m: n, k: n, n, out: c.data }), { maxTime: 3, minSamples: 5 }).seconds;
  a.dispose();
  c.dispose();
  const big = simdoptStep(n);

  const small = 256;
  const size = small * small;
  const p = new Float32Array(size).fill(0.01);
  const g = new Float32Array(size).map((_, i) => Math.sin(i) * 1e-2);
  const buf = new Float32Array(size);
  const scratch = Array.from({ length: 5 }, () => new Float32Array(size));
  const js = measure("Muon 256² plain JS", () => plainMuon(p, g, buf, small, scratch, { lr: 1e-3, momentum: 0.95, weightDecay: 0.1 }), { maxTime: 3, minSamples: 3 }).seconds;
  const ours = simdoptStep(small);
  const threaded = await withThreads(n);
  const mps = (elements, seconds) => (elements / seconds / 1e6).toFixed(1);
  printTable(`Muon step (Mparams/s; simdopt build: ${simdopt.features().relaxedSimd ? "relaxed-simd" : "simd"})`,
    ["case", "simdopt ms", "simdopt Mparams/s", "reference", "ratio"],
    [
      ["Muon 1024×1024", (big * 1e3).toFixed(1), mps(n * n, big), `15 matmuls 1024³: ${(15 * gemmSeconds * 1e3).toFixed(1)} ms`, `${ratio((15 * gemmSeconds) / big)} of the GEMM bound`],
      ["Muon 256×256", (ours * 1e3).toFixed(2), mps(size, ours), `plain JS ${mps(size, js)} Mparams/s`, `${ratio(js / ours)} vs plain JS`],
      ...(threaded === null ? [] : [
        ["Muon 1024×1024, 2 threads vs 1", (threaded.stepTwo * 1e3).toFixed(1), mps(n * n, threaded.stepTwo), `1 thread: ${(threaded.stepOne * 1e3).toFixed(1)} ms`, `${ratio(threaded.stepOne / threaded.stepTwo)} speed-up`],
        ["Muon 1024×1024, 2 threads", (threaded.stepTwo * 1e3).toFixed(1), mps(n * n, threaded.stepTwo), `15 matmuls 1024³, 2 threads: ${(15 * threaded.gemmTwo * 1e3).toFixed(1)} ms`, `${ratio((15 * threaded.gemmTwo) / threaded.stepTwo)} of the GEMM bound`],
      ]),
    ]);
}

if (isMain(import.meta.url)) await run();
