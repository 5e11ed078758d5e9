// FTRL, the proximal l1 option and feature scaling:
// - Ftrl dense step at 10^6 parameters vs a plain-JS FTRL loop over Float32Arrays (goal ≥ 5×);
// - Ftrl step({ rows }) with 1% of the rows of a 10^6 × 16 table (random rows) vs a dense step
//   over the whole table and vs a plain-JS loop over the same rows;
// - the cost of l1 > 0 on SGD and Adagrad (dense, 10^6): the same kernels with the shrink;
// - fitScaler / applyScaler at 10^6 values vs plain-JS loops (f64 statistics, as the kernels).
import { measure, printTable, ratio, isMain } from "./harness.mjs";
import * as simdopt from "../dist/index.js";

const SIZE = 1_000_000;
const TABLE_ROWS = 1_000_000;
const COLUMNS = 16;
const TOUCHED = TABLE_ROWS / 100;
const OPTIONS = { lr: 0.05, l1: 0.01, l2: 0.001, initialAccumulatorValue: 0.1 };

const ms = (seconds) => (seconds * 1e3).toFixed(3);

function fillGradient(target) {
  for (let i = 0; i < target.length; i++) target[i] = ((i * 2654435761) % 2001 - 1000) * 1e-4;
}

function randomRows(count, total, seed) {
  const seen = new Uint8Array(total);
  const rows = new Int32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; ) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const row = Math.floor((state / 2 ** 32) * total);
    if (seen[row] === 0) { seen[row] = 1; rows[i++] = row; }
  }
  return rows;
}

/** Keras's FTRL update with a general lrPower (Math.pow), plain JavaScript. */
function ftrlPlainJsPow(w, g, n, z, { lr, l1, l2 }, lrPower) {
  const invLr = 1 / lr;
  const e = -lrPower;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    const nNew = n[i] + gi * gi;
    const powNew = nNew ** e;
    z[i] += gi - (powNew - n[i] ** e) * invLr * w[i];
    n[i] = nNew;
    const zi = z[i];
    w[i] = (Math.min(Math.max(zi, -l1), l1) - zi) / (powNew * invLr + 2 * l2);
  }
}

/** Keras's FTRL update (lrPower −0.5) over elements [from, to), plain JavaScript. */
function ftrlPlainJs(w, g, n, z, from, to, { lr, l1, l2 }) {
  const invLr = 1 / lr;
  for (let i = from; i < to; i++) {
    const gi = g[i];
    const nNew = n[i] + gi * gi;
    const rootNew = Math.sqrt(nNew);
    z[i] += gi - (rootNew - Math.sqrt(n[i])) * invLr * w[i];
    n[i] = nNew;
    const zi = z[i];
    w[i] = (Math.min(Math.max(zi, -l1), l1) - zi) / (rootNew * invLr + 2 * l2);
  }
}

function plainState(size) {
  const state = { w: new Float32Array(size), g: new Float32Array(size), n: new Float32Array(size).fill(OPTIONS.initialAccumulatorValue), z: new Float32Array(size) };
  fillGradient(state.g);
  return state;
}

function ftrlDense() {
  const p = simdopt.parameter([SIZE]);
  fillGradient(p.grad);
  const optimizer = new simdopt.Ftrl([p], OPTIONS);
  optimizer.step();
  const simd = measure("Ftrl dense", () => optimizer.step());
  const general = new simdopt.Ftrl([p], { ...OPTIONS, lrPower: -0.7 });
  general.step();
  const generalPower = measure("Ftrl dense lrPower -0.7", () => general.step());
  const js = plainState(SIZE);
  const plain = measure("plain JS FTRL", () => ftrlPlainJs(js.w, js.g, js.n, js.z, 0, SIZE, OPTIONS));
  const jsPow = plainState(SIZE);
  const plainPow = measure("plain JS FTRL, pow", () => ftrlPlainJsPow(jsPow.w, jsPow.g, jsPow.n, jsPow.z, OPTIONS, -0.7));
  optimizer.dispose();
  general.dispose();
  p.dispose();
  printTable(`Ftrl, dense step, ${SIZE.toLocaleString("en")} parameters (read p, g, n, z; write p, n, z)`, ["step", "ms / step", "GB/s", "vs plain JS"], [
    ["simdopt Ftrl (lrPower −0.5: √ in SIMD)", ms(simd.seconds), (SIZE * 28 / simd.seconds / 1e9).toFixed(1), ratio(plain.seconds / simd.seconds)],
    ["plain-JS FTRL loop (Float32Array, Math.sqrt)", ms(plain.seconds), (SIZE * 28 / plain.seconds / 1e9).toFixed(1), ratio(1)],
    ["simdopt Ftrl (lrPower −0.7: scalar slow path)", ms(generalPower.seconds), (SIZE * 28 / generalPower.seconds / 1e9).toFixed(1), `${ratio(plainPow.seconds / generalPower.seconds)} vs JS with **`],
    ["plain-JS FTRL loop, lrPower −0.7 (**)", ms(plainPow.seconds), (SIZE * 28 / plainPow.seconds / 1e9).toFixed(1), "1.00× vs JS with **"],
  ]);
}

function ftrlRows() {
  const table = simdopt.parameter([TABLE_ROWS, COLUMNS], { name: "table" });
  fillGradient(table.grad);
  const optimizer = new simdopt.Ftrl([table], OPTIONS);
  optimizer.step();
  const sets = Array.from({ length: 16 }, (_, i) => randomRows(TOUCHED, TABLE_ROWS, 4242 + i));
  const maps = sets.map((set) => new Map([[table, set]]));
  const dense = measure("Ftrl dense table", () => optimizer.step(), { maxTime: 3, minSamples: 5 });
  let next = 0;
  const rows = measure("Ftrl rows", () => optimizer.step({ rows: maps[next++ & 15] }));
  const js = plainState(TABLE_ROWS * COLUMNS);
  next = 0;
  const plain = measure("plain JS rows", () => {
    const set = sets[next++ & 15];
    for (let r = 0; r < set.length; r++) ftrlPlainJs(js.w, js.g, js.n, js.z, set[r] * COLUMNS, set[r] * COLUMNS + COLUMNS, OPTIONS);
  });
  optimizer.dispose();
  table.dispose();
  const perRow = (s) => (s / TOUCHED * 1e9).toFixed(0);
  printTable(`Ftrl on a ${TABLE_ROWS.toLocaleString("en")} × ${COLUMNS} table, ${TOUCHED.toLocaleString("en")} random rows (1%) per step`, ["step", "ms / step", "ns / row", "vs dense", "vs plain JS rows"], [
    ["simdopt step({ rows })", ms(rows.seconds), perRow(rows.seconds), ratio(dense.seconds / rows.seconds), ratio(plain.seconds / rows.seconds)],
    ["simdopt dense step() over the table", ms(dense.seconds), "—", ratio(1), "—"],
    ["plain-JS FTRL over the same rows", ms(plain.seconds), perRow(plain.seconds), ratio(dense.seconds / plain.seconds), ratio(1)],
  ]);
}

function l1Cost() {
  const out = [];
  for (const [name, make] of [
    ["SGD", (p, l1) => new simdopt.SGD([p], { lr: 1e-3, l1 })],
    ["SGD, momentum 0.9", (p, l1) => new simdopt.SGD([p], { lr: 1e-3, momentum: 0.9, l1 })],
    ["Adagrad", (p, l1) => new simdopt.Adagrad([p], { lr: 1e-2, l1 })],
  ]) {
    const p = simdopt.parameter([SIZE], { init: "ones" });
    fillGradient(p.grad);
    const plain = make(p, 0);
    const proximal = make(p, 1e-3);
    plain.step();
    proximal.step();
    const a = measure(`${name} l1 0`, () => plain.step());
    const b = measure(`${name} l1`, () => proximal.step());
    plain.dispose();
    proximal.dispose();
    p.dispose();
    out.push([name, ms(a.seconds), ms(b.seconds), ratio(b.seconds / a.seconds)]);
  }
  printTable(`Cost of the proximal l1 option, dense step, ${SIZE.toLocaleString("en")} parameters`, ["optimizer", "ms, l1 = 0", "ms, l1 > 0", "time ratio"], out);
}

function plainFit(x, channels) {
  const rows = x.length / channels;
  const mean = new Float64Array(channels);
  const m2 = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) mean[i % channels] += x[i];
  for (let c = 0; c < channels; c++) mean[c] /= rows;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - mean[i % channels];
    m2[i % channels] += d * d;
  }
  return { offset: Float32Array.from(mean), scale: Float32Array.from(m2, (v) => Math.sqrt(v / rows) || 1) };
}

function plainApply(x, out, channels, offset, scale) {
  for (let r = 0; r < x.length; r += channels) {
    for (let c = 0; c < channels; c++) out[r + c] = (x[r + c] - offset[c]) / scale[c];
  }
}

function scalers() {
  const out = [];
  for (const channels of [3, 16, 100]) {
    const rows = Math.floor(SIZE / channels);
    const x = new Float32Array(rows * channels);
    for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) * 0.01 + (i % channels);
    const y = new Float32Array(x.length);
    const view = simdopt.parameter([rows, channels], { init: x });
    const shape = [rows, channels];
    const fitted = simdopt.fitScaler(x, shape);
    const fitView = measure(`fit view ${channels}`, () => simdopt.fitScaler(view.data, shape));
    const fitForeign = measure(`fit foreign ${channels}`, () => simdopt.fitScaler(x, shape));
    const fitMinmax = measure(`fit minmax ${channels}`, () => simdopt.fitScaler(view.data, shape, { kind: "minmax" }));
    const fitJs = measure(`fit js ${channels}`, () => plainFit(x, channels));
    const applyView = measure(`apply view ${channels}`, () => simdopt.applyScaler(view.data, shape, fitted, { out: view.grad }));
    const applyForeign = measure(`apply foreign ${channels}`, () => simdopt.applyScaler(x, shape, fitted, { out: y }));
    const applyJs = measure(`apply js ${channels}`, () => plainApply(x, y, channels, fitted.offset, fitted.scale));
    view.dispose();
    out.push(
      [`fitScaler standard, C = ${channels}: library view`, ms(fitView.seconds), ratio(fitJs.seconds / fitView.seconds)],
      [`fitScaler standard, C = ${channels}: foreign Float32Array (staged)`, ms(fitForeign.seconds), ratio(fitJs.seconds / fitForeign.seconds)],
      [`fitScaler minmax, C = ${channels}: library view`, ms(fitMinmax.seconds), "—"],
      [`plain JS two-pass f64 mean/std, C = ${channels}`, ms(fitJs.seconds), ratio(1)],
      [`applyScaler, C = ${channels}: library views`, ms(applyView.seconds), ratio(applyJs.seconds / applyView.seconds)],
      [`applyScaler, C = ${channels}: foreign arrays (staged)`, ms(applyForeign.seconds), ratio(applyJs.seconds / applyForeign.seconds)],
      [`plain JS (x − offset)/scale, C = ${channels}`, ms(applyJs.seconds), ratio(1)],
    );
  }
  printTable(`Feature scaling, ${SIZE.toLocaleString("en")} values (rows × C)`, ["operation", "ms", "vs plain JS"], out);
}

const SECTIONS = { dense: ftrlDense, rows: ftrlRows, l1: l1Cost, scalers };

/** Runs every section, or those named on the command line (node bench/ftrl.mjs l1 scalers). */
export async function run(names = Object.keys(SECTIONS)) {
  await simdopt.init();
  console.log(`\nFTRL, proximal l1 and feature scaling; simdopt build: ${simdopt.features().relaxedSimd ? "relaxed-simd" : "simd"}`);
  for (const name of names) SECTIONS[name]();
}

if (isMain(import.meta.url)) await run(process.argv.length > 2 ? process.argv.slice(2) : undefined);
