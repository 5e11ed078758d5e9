// Two threads against one, interleaved in one process: the workers stay started and are paused
// for the one-thread runs (an internal switch), so both sides see the same memory, the same
// warmed-up code and the same host load. Each round times one thread then two threads for about
// BATCH_MS each; the table gives the median time of each side over the rounds, their ratio, and
// the spread of the per-round ratios (min–max), which shows how noisy the host was.
import { performance } from "node:perf_hooks";
import * as s from "../dist/index.js";
import { pauseThreads } from "../dist/threads/pool.js";
import { isMain, printTable, ratio } from "./harness.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const BATCH_MS = Number(process.env.BATCH_MS ?? 60);

function random(length, seed) {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 32 - 0.5;
  }
  return out;
}

/** Seconds per call of fn, over a batch of about BATCH_MS. */
function time(fn) {
  let reps = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const elapsed = performance.now() - start;
    if (elapsed >= BATCH_MS) return elapsed / 1000 / reps;
    reps = elapsed < 1 ? reps * 10 : Math.ceil((reps * BATCH_MS * 1.2) / elapsed);
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function compare(fn) {
  const one = [];
  const two = [];
  pauseThreads(true); fn(); pauseThreads(false); fn(); // warm both paths
  for (let round = 0; round < ROUNDS; round++) {
    pauseThreads(true);
    one.push(time(fn));
    pauseThreads(false);
    two.push(time(fn));
  }
  const ratios = one.map((t, i) => t / two[i]);
  return { one: median(one), two: median(two), ratio: median(one) / median(two), low: Math.min(...ratios), high: Math.max(...ratios) };
}

const us = (seconds) => `${(seconds * 1e6).toFixed(seconds < 1e-4 ? 1 : 0)} µs`;

function matmulCase(size) {
  const a = s.parameter([size, size], { init: random(size * size, 1) });
  const b = s.parameter([size, size], { init: random(size * size, 2) });
  const c = s.parameter([size, size]);
  return { name: `matmul ${size}³`, goal: 1.85, fn: () => s.matmul(a.data, b.data, { m: size, k: size, n: size, out: c.data }) };
}

function batchNormCase() {
  const shape = [32, 64, 32, 32];
  const size = shape.reduce((x, y) => x * y);
  const x = s.parameter([size], { init: random(size, 3) });
  const dy = s.parameter([size], { init: random(size, 4) });
  const y = s.parameter([size]);
  const dx = s.parameter([size]);
  const gamma = random(64, 5), beta = random(64, 6);
  const mean = new Float32Array(64), invStd = new Float32Array(64), dgamma = new Float32Array(64), dbeta = new Float32Array(64);
  return {
    name: "batch norm 32×64×32×32 NCHW fwd+bwd", goal: 1.5,
    fn: () => {
      s.batchNormForward(x.data, shape, { gamma, beta, out: y.data, meanOut: mean, invStdOut: invStd });
      s.batchNormBackward(dy.data, x.data, shape, { mean, invStd, gamma, out: dx.data, dgammaOut: dgamma, dbetaOut: dbeta });
    },
  };
}

function adamCase(size, goal) {
  const p = s.parameter([size], { init: random(size, 7) });
  p.grad.set(random(size, 8));
  const optimizer = new s.Adam([p], { lr: 1e-4 });
  return { name: `Adam step ${size.toExponential(0)} params`, goal, fn: () => optimizer.step() };
}

export async function run() {
  await s.init();
  const threads = await s.initThreads(2);
  if (threads !== 2) {
    console.log(`\n(threads: only ${threads} thread could start; nothing to compare)`);
    return;
  }
  const cases = [matmulCase(512), matmulCase(1024), batchNormCase(),
    adamCase(1e4, 0.95), adamCase(1e5, 1.8), adamCase(1e6, 1.8), adamCase(1e7, 1.3)];
  const rows = [];
  for (const c of cases) {
    const r = compare(c.fn);
    rows.push([c.name, us(r.one), us(r.two), ratio(r.ratio), `${r.low.toFixed(2)}–${r.high.toFixed(2)}`, `≥ ${c.goal}×`, r.ratio >= c.goal ? "met" : "missed"]);
  }
  s.terminateThreads();
  printTable(`Two threads vs one (median of ${ROUNDS} interleaved rounds of ~${BATCH_MS} ms each side)`,
    ["case", "1 thread", "2 threads", "speed-up", "per-round range", "goal", ""], rows);
}

if (isMain(import.meta.url)) await run();
