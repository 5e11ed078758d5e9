// Threads and parameter lists, measured side by side in one process.
//
// 1. Two threads vs one: the workers stay started and are paused for the one-thread runs (an
//    internal switch), so both sides see the same memory, the same warmed-up code and the same
//    host load. Each round times one thread then two threads for about BATCH_MS each; the table
//    gives the median of each side over the rounds, their ratio, and the spread of the per-round
//    ratios (min–max), which shows how noisy the host was.
// 2. Parameter lists (one thread, measured first, before any worker pool is loaded: what a
//    program that never starts threads gets): many small tensors against the bare kernel time of the same
//    element count in one tensor; ResNet-18's 62 parameter shapes against tfjs-wasm's
//    tf.train.adam and a plain-JS loop; a 100-element step against a plain-JS loop. Cases are
//    interleaved round by round the same way.
import { performance } from "node:perf_hooks";
import * as s from "../dist/index.js";
import { plain } from "./optim.mjs";
import { isMain, loadTfjs, printTable, ratio } from "./harness.mjs";
import { benchModules } from "./optim-kernels.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 7);
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

/** Medians of each side over interleaved rounds; `sides` are [setup, fn] pairs (setup runs before each batch). */
function interleave(sides) {
  const samples = sides.map(() => []);
  for (const [setup, fn] of sides) { setup(); fn(); }
  for (let round = 0; round < ROUNDS; round++) {
    sides.forEach(([setup, fn], i) => {
      setup();
      samples[i].push(time(fn));
    });
  }
  return samples;
}

const us = (seconds) => `${(seconds * 1e6).toFixed(seconds < 1e-4 ? 2 : 0)} µs`;
const ms = (seconds) => `${(seconds * 1e3).toFixed(2)} ms`;

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

/** An Adam optimizer over tensors of the given shapes, with fixed random gradients. */
function adamOver(shapes, seed) {
  const params = shapes.map((shape, i) => {
    const p = s.parameter(shape, { init: random(shape.reduce((x, y) => x * y, 1), seed + i) });
    p.grad.set(random(p.size, seed + 1000 + i));
    return p;
  });
  return { params, optimizer: new s.Adam(params, { lr: 1e-4 }), count: params.reduce((n, p) => n + p.size, 0) };
}

/**
 * The memory system's own two-thread speed-up at 1e7: an EMA update (read two arrays, write one,
 * one multiply-add per element) is a pure stream. A step bound by memory at this size cannot
 * split better than this, whatever its kernel does.
 */
function streamCase() {
  const { params } = adamOver([[1e7]], 9);
  const ema = new s.EMA(params, { decay: 0.999 });
  return { name: "memory stream 1e+7 (EMA update, 12 B/param)", goal: null, fn: () => ema.update() };
}

function adamCase(size, goal) {
  const { optimizer } = adamOver([[size]], 7);
  return { name: `Adam step ${size.toExponential(0)} params`, goal, fn: () => optimizer.step() };
}

async function twoVsOne(pool) {
  const cases = [adamCase(1e4, 0.95), adamCase(1e5, 1.8), adamCase(1e6, 1.8), adamCase(1e7, 1.3),
    matmulCase(512), matmulCase(1024), batchNormCase(), { ...listCase(1000, 64), goal: 1 }, { ...resnetCase(), goal: 1.3 }, streamCase()];
  const rows = [];
  // Cases interleaved too: every round runs each case on one thread, then on two.
  const sides = cases.flatMap((c) => [[() => pool.pauseThreads(true), c.fn], [() => pool.pauseThreads(false), c.fn]]);
  const samples = interleave(sides);
  pool.pauseThreads(false);
  cases.forEach((c, i) => {
    const one = samples[2 * i], two = samples[2 * i + 1];
    const ratios = one.map((t, r) => t / two[r]);
    const speedUp = median(one) / median(two);
    rows.push([c.name, us(median(one)), us(median(two)), ratio(speedUp), `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
      c.goal === null ? "—" : `≥ ${c.goal}×`, c.goal === null ? "bound" : speedUp >= c.goal ? "met" : "missed"]);
  });
  printTable(`Two threads vs one (median of ${ROUNDS} interleaved rounds of ~${BATCH_MS} ms each side)`,
    ["case", "1 thread", "2 threads", "speed-up", "per-round range", "goal", ""], rows);
}

function listCase(count, size) {
  const { optimizer } = adamOver(Array.from({ length: count }, () => [size]), 11);
  return { name: `Adam, ${count} tensors × ${size} params`, fn: () => optimizer.step() };
}

/** torchvision's resnet18 parameters: 20 convolutions, 20 batch norms (weight, bias), the classifier. */
export function resnet18Shapes() {
  const shapes = [[64, 3, 7, 7], [64], [64]];
  const conv = (out, inp, k) => shapes.push([out, inp, k, k], [out], [out]);
  let channels = 64;
  for (const width of [64, 128, 256, 512]) {
    for (let block = 0; block < 2; block++) {
      conv(width, block === 0 ? channels : width, 3);
      conv(width, width, 3);
      if (block === 0 && width !== channels) conv(width, channels, 1);
    }
    channels = width;
  }
  shapes.push([1000, 512], [1000]);
  return shapes;
}

function resnetCase() {
  const { optimizer, count } = adamOver(resnet18Shapes(), 21);
  return { name: `Adam, ResNet-18 (62 tensors, ${(count / 1e6).toFixed(1)}M)`, fn: () => optimizer.step() };
}

/** Plain-JS Adam over Float32Arrays of the given sizes (what a user would write). */
function plainAdam(sizes, seed) {
  const arrays = sizes.map((n, i) => ({ p: random(n, seed + i), g: random(n, seed + 500 + i), m: new Float32Array(n), v: new Float32Array(n) }));
  let step = 0;
  return () => {
    step++;
    for (const a of arrays) plain.adam(a.p, a.g, a.m, a.v, { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, step });
  };
}

/** The parameter-list rows (printed after the two-thread table, so that the tables keep their order). */
async function parameterLists() {
  const rows = [];
  const none = () => {};

  // 1000 × 64 against one tensor of the same 64,000 elements (the kernel work with no per-tensor cost).
  const list = listCase(1000, 64);
  const bare = adamOver([[64000]], 31).optimizer;
  const [listTimes, bareTimes] = interleave([[none, list.fn], [none, () => bare.step()]]);
  rows.push([list.name, us(median(listTimes)), "one 64,000-param tensor", us(median(bareTimes)), ratio(median(listTimes) / median(bareTimes)), "≤ 1.5×",
    median(listTimes) / median(bareTimes) <= 1.5 ? "met" : "missed"]);

  // n = 100 against a plain-JS loop.
  const small = adamOver([[100]], 41).optimizer;
  const plainSmall = plainAdam([100], 41);
  const [smallTimes, plainSmallTimes] = interleave([[none, () => small.step()], [none, plainSmall]]);
  rows.push(["Adam, 1 tensor × 100 params", us(median(smallTimes)), "plain-JS loop", us(median(plainSmallTimes)),
    `${ratio(median(plainSmallTimes) / median(smallTimes))} faster`, "≥ 4× faster", median(plainSmallTimes) / median(smallTimes) >= 4 ? "met" : "missed"]);

  // ResNet-18 against tfjs-wasm's tf.train.adam and plain JS.
  const shapes = resnet18Shapes();
  const resnet = resnetCase();
  const plainResnet = plainAdam(shapes.map((shape) => shape.reduce((x, y) => x * y, 1)), 51);
  const tf = await loadTfjs("wasm");
  const variables = shapes.map((shape, i) => tf.variable(tf.randomUniform(shape, -0.05, 0.05, "float32", i + 1), true, `resnet_${i}`));
  const grads = Object.fromEntries(variables.map((v, i) => [v.name, tf.randomUniform(v.shape, -1e-3, 1e-3, "float32", 100 + i)]));
  const tfAdam = tf.train.adam(1e-4);
  // The memory bound: the Adam-shaped stream probe (reads param, grad, m, v and writes param, m,
  // v, with no math: bench/probes/ideal.ts) over the same 11.7M elements in one run.
  const probes = await benchModules();
  const elements = shapes.reduce((n, shape) => n + shape.reduce((x, y) => x * y, 1), 0);
  const [sp, sg, sm, sv] = [0, 1, 2, 3].map(() => probes.alloc(elements).byteOffset);
  const stream = () => probes.probes.adamStream(sp, sg, sm, sv, 0, elements, 0.9, 0.999, 1e-8, 0, 1, 1e-4, 1, false);
  const [ours, theirs, plainTimes, streamTimes] = interleave([[none, resnet.fn], [none, () => tfAdam.applyGradients(grads)], [none, plainResnet], [none, stream]]);
  tfAdam.dispose();
  tf.dispose([...variables, ...Object.values(grads)]);
  const vsTf = median(theirs) / median(ours), vsPlain = median(plainTimes) / median(ours);
  rows.push([resnet.name, ms(median(ours)), "tfjs-wasm tf.train.adam", ms(median(theirs)), `${ratio(vsTf)} faster`, "≥ 8× faster", vsTf >= 8 ? "met" : "missed"]);
  rows.push([resnet.name, ms(median(ours)), "plain-JS loop", ms(median(plainTimes)), `${ratio(vsPlain)} faster`, "≥ 9× faster", vsPlain >= 9 ? "met" : "missed"]);
  // No Adam step moves its bytes faster than the stream: the most any step can reach against plain JS.
  const streamVsPlain = median(plainTimes) / median(streamTimes);
  rows.push([`memory bound: Adam-shaped stream, ${(elements / 1e6).toFixed(1)}M (no math)`, ms(median(streamTimes)), "plain-JS loop", ms(median(plainTimes)),
    `${ratio(streamVsPlain)} faster`, "—", "bound"]);
  return rows;
}

export async function run() {
  await s.init();
  const lists = await parameterLists();
  const threads = await s.initThreads(2);
  const pool = s.threadsInternal();
  if (threads === 2) await twoVsOne(pool);
  else console.log(`\n(threads: only ${threads} thread could start; no two-thread comparison)`);
  s.terminateThreads();
  printTable(`Parameter lists, one thread, no worker pool loaded (median of ${ROUNDS} interleaved rounds)`,
    ["simdopt step", "time", "against", "its time", "ratio", "goal", ""], lists);
}

if (isMain(import.meta.url)) await run();
