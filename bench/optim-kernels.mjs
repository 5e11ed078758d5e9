// Per-core optimizer kernels, side by side in one process: the library's kernel against
//   - "old": the kernels as they were before the shared driver (bench/probes/old, frozen copies),
//   - "probe": a hand-written same-math ideal of the same configuration (bench/probes/ideal.ts),
//   - an Adam-shaped stream (read 4 arrays, write 3, no math): the memory-bound ceiling,
//   - the √/÷ bound: one f32x4.sqrt and one f32x4.div per vector and nothing else, the floor of
//     any exact Adam-family kernel (both run on the one divide/square-root unit),
//   - plain JS (the loop a user would write).
// All of them run in one memory on the same arrays: the shipped wasm (dist/, the build the
// library picked) is instantiated a second time on a bench-owned memory, and the probes, compiled
// here from bench/probes/*.ts (never shipped), are placed above its static data in that memory. Variants are timed interleaved in short samples, round after round. Each ratio
// is given as the ratio of best times (on a shared, noisy host the least disturbed sample is
// the best estimate of a CPU-bound kernel's speed), then as the median of the per-round ratios
// with their interquartile range, which shows how noisy the run was.
// Before timing, every kernel is checked bit for bit against its old copy on random data, for
// several option combinations and a length with a tail.
import { readFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import * as simdopt from "../dist/index.js";
import { plain } from "./optim.mjs";
import { printTable, isMain } from "./harness.mjs";

const SIZES = [1e4, 1e5, 1e6, 1e7];
// Rounds per size (fewer at 1e7, where one call is already tens of ms). BENCH_ONLY=Adam,Lion
// restricts the rows; BENCH_ROUNDS scales the rounds.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31);
const roundsFor = (size) => (size >= 1e7 ? Math.ceil((2 * ROUNDS) / 3) : ROUNDS);
const ONLY = process.env.BENCH_ONLY?.split(",");
const SAMPLE_MS = 3;

async function compileProbes(memoryBase) {
  const root = new URL("..", import.meta.url);
  const out = fileURLToPath(new URL("build/probes.wasm", root));
  mkdirSync(fileURLToPath(new URL("build", root)), { recursive: true });
  const { error, stderr } = await asc.main([
    fileURLToPath(new URL("bench/probes/index.ts", root)), "-o", out, "-O3", "--runtime", "stub", "--noAssert",
    "--use", "abort=", "--importMemory", "--noExportMemory", "--sharedMemory", "--initialMemory", "1",
    "--maximumMemory", "65536", "--enable", "simd", "--enable", "threads", "--memoryBase", String(memoryBase),
  ]);
  if (error) throw new Error(`probe build failed: ${error.message}\n${stderr.toString()}`);
  return readFileSync(out);
}

/**
 * One shared memory holding a second instance of the shipped kernels (`lib`), the probe module
 * above its static data, and a bump allocator for 64-byte-aligned arrays above both.
 */
export async function benchModules() {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
  const build = simdopt.features().relaxedSimd ? "simdopt-relaxed.wasm" : "simdopt-simd.wasm";
  const libBytes = readFileSync(new URL(`../build/${build}`, import.meta.url));
  const lib = (await WebAssembly.instantiate(libBytes, { env: { memory } })).instance.exports;
  const probeBase = (lib.heapBase() + 1023) & ~1023;
  const probes = (await WebAssembly.instantiate(await compileProbes(probeBase), { env: { memory } })).instance.exports;
  const heapStart = (probes.heapBase() + 63) & ~63;
  let top = heapStart;
  const alloc = (length) => {
    const bytes = ((length * 4 + 63) & ~63) + 64;
    const need = Math.ceil((top + bytes) / 65536) - memory.buffer.byteLength / 65536;
    if (need > 0) memory.grow(need);
    const view = new Float32Array(memory.buffer, top, length);
    view.fill(0);
    top += bytes;
    return view;
  };
  const scalars = new Float64Array(memory.buffer, lib.scalarsAt(), 8);
  return { lib, probes, alloc, scalars, reset: () => { top = heapStart; }, build };
}

const t = 10; // a mid-training step for the bias corrections
const adamStepSize = 1e-3 / (1 - 0.9 ** t);
const invBc2 = 1 / Math.sqrt(1 - 0.999 ** t);
const mu = (s) => 0.9 * (1 - 0.5 * 0.96 ** (s * 4e-3));
let product = 1;
for (let s = 1; s <= t; s++) product *= mu(s);
const nadamGradCoeff = (2e-3 * (1 - mu(t))) / (1 - product);
const nadamMomentCoeff = (2e-3 * mu(t + 1)) / (1 - product * mu(t + 1));

// Rows: the kernel, its stream layout ("s" a state array, 0 absent), scalar arguments (the
// benchmarked configuration: PyTorch's defaults), extra option combinations for the bit check,
// the plain-JS loop and how many arrays it needs.
// `libExtra`: trailing arguments the shipped kernel has gained since its frozen copy (SGD's and
// Adagrad's proximal l1), passed at their off value so that both compute the same step.
const ROWS = [
  { name: "SGD momentum 0.9", kernel: "sgd", streams: ["s"], scalars: [1e-3, 0.9, 0, 0, false, false, false], libExtra: [0],
    checks: [{ scalars: [1e-3, 0.9, 0.1, 0.01, true, true, false] }, { scalars: [1e-3, 0.9, 0, 0, false, false, true] },
      { streams: [0], scalars: [1e-3, 0, 0, 0.01, true, false, false] }],
    plain: (p, g, [b]) => plain.sgdMomentum(p, g, b, { lr: 1e-3, momentum: 0.9 }), plainBuffers: 1 },
  { name: "Adam", kernel: "adam", streams: ["s", "s", 0], scalars: [0.9, 0.999, 1e-8, 0, 1, adamStepSize, invBc2, false],
    checks: [{ streams: ["s", "s", "s"], scalars: [0.9, 0.999, 1e-8, 0.01, 1, adamStepSize, invBc2, true] },
      { streams: ["s", "s", "s"], scalars: [0.8, 0.99, 1e-6, 0, 0.99, adamStepSize, invBc2, false] }],
    plain: (p, g, [m, v], s) => plain.adam(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: s }), plainBuffers: 2 },
  { name: "AdamW", kernel: "adam", streams: ["s", "s", 0], scalars: [0.9, 0.999, 1e-8, 0, 1 - 1e-5, adamStepSize, invBc2, false],
    checks: [], plain: (p, g, [m, v], s) => {
      for (let i = 0; i < p.length; i++) p[i] *= 1 - 1e-5;
      plain.adam(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: s });
    }, plainBuffers: 2 },
  { name: "Adagrad", kernel: "adagrad", streams: ["s"], scalars: [1e-2, 1e-10, 0, false], libExtra: [0],
    checks: [{ scalars: [1e-2, 1e-10, 0.1, true] }],
    plain: (p, g, [sum], s) => plain.adagrad(p, g, sum, { lr: 1e-2, lrDecay: 0, eps: 1e-10, step: s }), plainBuffers: 1 },
  { name: "RMSprop", kernel: "rmsprop", streams: ["s", 0, 0], scalars: [1e-2, 0.99, 1e-8, 0, 0, false],
    checks: [{ streams: ["s", "s", 0], scalars: [1e-2, 0.99, 1e-8, 0.1, 0, true] }, { streams: ["s", 0, "s"], scalars: [1e-2, 0.9, 1e-8, 0, 0.5, false] }],
    plain: (p, g, [sq]) => plain.rmsprop(p, g, sq, { lr: 1e-2, alpha: 0.99, eps: 1e-8 }), plainBuffers: 1 },
  { name: "RMSprop centered, momentum 0.9", kernel: "rmsprop", streams: ["s", "s", "s"], scalars: [1e-2, 0.99, 1e-8, 0, 0.9, false],
    checks: [{ scalars: [1e-2, 0.99, 1e-8, 0.1, 0.9, true] }],
    plain: (p, g, [sq, ga, b]) => plain.rmspropCenteredMomentum(p, g, sq, ga, b, { lr: 1e-2, alpha: 0.99, eps: 1e-8, momentum: 0.9 }), plainBuffers: 3 },
  { name: "Adadelta", kernel: "adadelta", streams: ["s", "s"], scalars: [1, 0.9, 1e-6, 0, false],
    checks: [{ scalars: [1, 0.9, 1e-6, 0.1, true] }],
    plain: (p, g, [sq, acc]) => plain.adadelta(p, g, sq, acc, { lr: 1, rho: 0.9, eps: 1e-6 }), plainBuffers: 2 },
  { name: "Adamax", kernel: "adamax", streams: ["s", "s"], scalars: [0.9, 0.999, 1e-8, 0, 2e-3 / (1 - 0.9 ** t), false],
    checks: [{ scalars: [0.9, 0.999, 1e-8, 0.1, 2e-3, true] }],
    plain: (p, g, [m, u], s) => plain.adamax(p, g, m, u, { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: s }), plainBuffers: 2 },
  { name: "NAdam", kernel: "nadam", streams: ["s", "s"], scalars: [0.9, 0.999, 1e-8, 0, 1, invBc2, nadamGradCoeff, nadamMomentCoeff, false],
    checks: [{ scalars: [0.9, 0.999, 1e-8, 0.01, 0.999, invBc2, nadamGradCoeff, nadamMomentCoeff, true] }],
    plain: (() => {
      const muProduct = new Float64Array([1]);
      return (p, g, [m, v], s) => plain.nadam(p, g, m, v, muProduct, { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, momentumDecay: 4e-3, step: s });
    })(), plainBuffers: 2 },
  { name: "RAdam", kernel: "radam", streams: ["s", "s"], scalars: [0.9, 0.999, 1e-8, 0, 1, 1e-3, true, false],
    checks: [{ scalars: [0.9, 0.999, 1e-8, 0.01, 0.999, 1e-3, false, true] }, { scalars: [0.9, 0.999, 1e-8, 0.01, 1, 1e-3, true, true] }],
    plain: (p, g, [m, v], s) => plain.radam(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: s + 10 }), plainBuffers: 2 },
  { name: "Lion", kernel: "lion", streams: ["s"], scalars: [1e-4, 0.9, 0.99, 1, false],
    checks: [{ scalars: [1e-4, 0.9, 0.99, 0.999, true] }],
    plain: (p, g, [m]) => plain.lion(p, g, m, { lr: 1e-4, beta1: 0.9, beta2: 0.99 }), plainBuffers: 1 },
];

/** Arguments for a kernel call: param, grad, the state pointers (0 where absent), length, scalars. */
const callArgs = (p, g, states, streams, length, scalars) => {
  let next = 0;
  return [p.byteOffset, g.byteOffset, ...streams.map((s) => (s === 0 ? 0 : states[next++].byteOffset)), length, ...scalars];
};

/**
 * A call of the shipped kernel on `args` (the old kernels' argument list, plus the row's
 * `libExtra`): the shipped kernels take the integers (pointers, length, flags, in order) and read
 * their floats, in order, from the scalar slots (src/bindings/kernels.ts), which each call writes
 * first, as the library does.
 */
function libCall(m, row, args) {
  const lengthAt = 2 + row.streams.length;
  const ints = args.slice(0, lengthAt + 1);
  const floats = [];
  for (const a of [...args.slice(lengthAt + 1), ...(row.libExtra ?? [])]) (typeof a === "boolean" ? ints : floats).push(a);
  const kernel = m.lib[`${row.kernel}Step`];
  const scalars = m.scalars;
  return () => { scalars.set(floats); kernel(...ints); };
}

function fillRandom(view, lo, hi, seed) {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < view.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    view[i] = lo + ((x >>> 0) / 2 ** 32) * (hi - lo);
  }
}

/** Library kernel vs old copy, bit for bit, on every option combination of the row. */
function bitCheck(row, m) {
  const length = 1000 + 7; // body pairs, an odd vector and a 3-element tail
  for (const config of [{}, ...row.checks]) {
    const streams = config.streams ?? row.streams;
    const scalars = config.scalars ?? row.scalars;
    const stateCount = streams.filter((s) => s !== 0).length;
    const sides = [0, 1].map(() => {
      const views = Array.from({ length: 2 + stateCount }, () => m.alloc(length));
      fillRandom(views[0], -1, 1, 1);
      fillRandom(views[1], -0.1, 0.1, 2);
      views.slice(2).forEach((v, i) => fillRandom(v, 0.25, 0.5, 3 + i));
      return views;
    });
    for (let step = 0; step < 3; step++) {
      libCall(m, row, callArgs(sides[0][0], sides[0][1], sides[0].slice(2), streams, length, scalars))();
      m.probes[`${row.kernel}Old`](...callArgs(sides[1][0], sides[1][1], sides[1].slice(2), streams, length, scalars));
    }
    for (let k = 0; k < sides[0].length; k++) {
      const a = new Uint32Array(sides[0][k].slice().buffer);
      const b = new Uint32Array(sides[1][k].slice().buffer);
      for (let i = 0; i < a.length; i++) {
        const bothNaN = Number.isNaN(sides[0][k][i]) && Number.isNaN(sides[1][k][i]);
        if (a[i] !== b[i] && !bothNaN) {
          throw new Error(`${row.name}: kernel differs from the old kernel (array ${k}, index ${i}, config ${JSON.stringify(config)})`);
        }
      }
    }
    m.reset();
  }
}

/** Enough calls of every kernel on a small tensor that V8 has tiered each one up from Liftoff. */
function warmUp(m) {
  for (const row of ROWS) {
    const stateCount = row.streams.filter((s) => s !== 0).length;
    const length = 1024;
    const views = Array.from({ length: 2 + stateCount }, () => m.alloc(length));
    const fns = [m.probes[`${row.kernel}Old`], m.probes[`${row.kernel}Ideal`]];
    if (row.name === "Adam") fns.push(m.probes.adamStream, m.probes.sqrtDivBound);
    const args = callArgs(views[0], views[1], views.slice(2), row.streams, length, row.scalars);
    const lib = libCall(m, row, args);
    for (let i = 0; i < 2000; i++) lib();
    for (const fn of fns) for (let i = 0; i < 2000; i++) fn(...args);
    m.reset();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Seconds per call of each variant, measured interleaved over ROUNDS rounds. */
function interleaved(variants, rounds) {
  const reps = {};
  for (const [name, fn] of Object.entries(variants)) {
    for (let i = 0; i < 30; i++) fn(); // tier up past Liftoff
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < SAMPLE_MS) { fn(); n++; }
    reps[name] = Math.max(1, n);
  }
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const names = Object.keys(variants);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + r) % names.length];
      const fn = variants[name];
      const start = performance.now();
      for (let i = 0; i < reps[name]; i++) fn();
      times[name].push((performance.now() - start) / 1e3 / reps[name]);
    }
  }
  return times;
}

/**
 * How much faster the library kernel (times `a`) is than another variant (times `b`): the ratio
 * of the best times (the least disturbed samples of each), then the median of the per-round
 * ratios with their interquartile range.
 */
const fmtRatio = (a, b) => {
  const perRound = a.map((x, i) => b[i] / x).sort((x, y) => x - y);
  const q = (f) => perRound[Math.min(perRound.length - 1, Math.floor(f * perRound.length))];
  return `${(Math.min(...b) / Math.min(...a)).toFixed(2)}× (${median(perRound).toFixed(2)}; ${q(0.25).toFixed(2)}–${q(0.75).toFixed(2)})`;
};

export async function run() {
  await simdopt.init();
  const m = await benchModules();
  for (const row of ROWS) bitCheck(row, m);
  warmUp(m);
  console.log(`\nOptimizer kernels, one thread (dist/${m.build}): library vs old kernel vs same-math probe vs plain JS, ` +
    `all in one memory on the same arrays. Bit-identical to the old kernels on every checked option combination ` +
    `(incl. tails). ${ROUNDS} interleaved rounds per size (${roundsFor(1e7)} at 1e7).`);
  const spreads = [];
  for (const size of SIZES) {
    const rows = [];
    for (const row of ROWS) {
      if (ONLY && !ONLY.includes(row.name)) continue;
      const stateCount = row.streams.filter((s) => s !== 0).length;
      const views = Array.from({ length: 2 + stateCount }, () => m.alloc(size));
      views[0].fill(1);
      views[1].fill(1e-3);
      const args = callArgs(views[0], views[1], views.slice(2), row.streams, size, row.scalars);
      const old = m.probes[`${row.kernel}Old`];
      const ideal = m.probes[`${row.kernel}Ideal`];
      const variants = {
        lib: libCall(m, row, args),
        old: () => old(...args),
        probe: () => ideal(...args),
      };
      if (row.name === "Adam") {
        const { adamStream, sqrtDivBound } = m.probes;
        variants.stream = () => adamStream(...args);
        variants.bound = () => sqrtDivBound(...args);
      }
      let js = null;
      if (size <= 1e6) {
        const data = new Float32Array(size).fill(1);
        const grad = new Float32Array(size).fill(1e-3);
        const buffers = Array.from({ length: row.plainBuffers }, () => new Float32Array(size));
        let s = 0;
        variants.js = () => row.plain(data, grad, buffers, ++s);
        js = true;
      }
      const times = interleaved(variants, roundsFor(size));
      spreads.push(...[times.lib, times.old, times.probe].map((xs) => median(xs) / Math.min(...xs) - 1));
      rows.push([
        row.name,
        (size / Math.min(...times.lib) / 1e6).toFixed(0),
        fmtRatio(times.lib, times.old),
        fmtRatio(times.lib, times.probe),
        times.stream ? fmtRatio(times.lib, times.stream) : "—",
        times.bound ? fmtRatio(times.lib, times.bound) : "—",
        js ? fmtRatio(times.lib, times.js) : "—",
      ]);
      m.reset();
    }
    printTable(`${size.toExponential(0)} parameters: best Mparams/s of the library kernel; library speed ÷ other ` +
      `speed as best-of ratio (median per-round ratio; interquartile range)`,
      ["optimizer", "Mparams/s", "vs old kernel", "vs probe", "vs stream", "vs √/÷ bound", "vs plain JS"], rows);
  }
  console.log(`\nNoise: a variant's median time exceeds its best by ${(100 * median(spreads)).toFixed(0)}% ` +
    `(median over variants; worst ${(100 * Math.max(...spreads)).toFixed(0)}%).`);
}

if (isMain(import.meta.url)) await run();
