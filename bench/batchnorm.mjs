// Batch normalisation, training mode, forward + backward: simdopt's fused v128 kernels vs a
// plain-JS two-pass implementation vs tfjs-backend-wasm (one thread), on a conv activation in
// NCHW and NHWC and on an NC batch.
//
// tfjs: its fused tf.batchNorm broadcasts mean/variance along the last axis only, so it is right
// for NHWC and NC but not for NCHW; there the correct tfjs path is tf.moments + elementwise ops.
// Its backward is the training-mode formula composed from tf ops (tfjs-core's Node bundle
// registers no gradients, so tf.grads cannot run there).
//
// Bytes moved per forward + backward (the least the math allows): forward reads x for the
// statistics, reads it again and writes y (3 passes); backward reads dy and x for the sums, then
// dy and x again and writes dx (5 passes): 8 · 4 bytes per element.
import { measure, printTable, ratio, isMain, loadTfjs } from "./harness.mjs";
import * as simdopt from "../dist/index.js";

const CASES = [
  { name: "32×64×32×32 NCHW", shape: [32, 64, 32, 32], layout: "NCHW" },
  { name: "32×32×32×64 NHWC", shape: [32, 32, 32, 64], layout: "NHWC" },
  { name: "1024×1024 NC", shape: [1024, 1024], layout: "NHWC" },
];
const EPS = 1e-5;
const BYTES_PER_ELEMENT = 8 * 4;

function geometry(shape, layout) {
  const size = shape.reduce((a, b) => a * b, 1);
  const channels = layout === "NCHW" ? shape[1] : shape[shape.length - 1];
  const batch = shape[0];
  return { size, channels, batch, spatial: size / (batch * channels) };
}

/** What one would write by hand: two-pass statistics, then normalise; backward: sums, then dx. */
export function makePlain(shape, layout) {
  const { size, channels: C, batch: N, spatial: S } = geometry(shape, layout);
  const mean = new Float64Array(C);
  const invStd = new Float64Array(C);
  const sumDy = new Float64Array(C);
  const sumDyXhat = new Float64Array(C);
  const count = N * S;
  const nchw = layout === "NCHW";
  function forward(x, y, gamma, beta, runningMean, runningVar, momentum) {
    mean.fill(0);
    invStd.fill(0);
    if (nchw) {
      for (let n = 0, i = 0; n < N; n++) for (let c = 0; c < C; c++) { let s = 0; for (let k = 0; k < S; k++) s += x[i++]; mean[c] += s; }
      for (let c = 0; c < C; c++) mean[c] /= count;
      for (let n = 0, i = 0; n < N; n++) for (let c = 0; c < C; c++) { const m = mean[c]; let s = 0; for (let k = 0; k < S; k++, i++) s += (x[i] - m) ** 2; invStd[c] += s; }
    } else {
      for (let i = 0; i < size; i += C) for (let c = 0; c < C; c++) mean[c] += x[i + c];
      for (let c = 0; c < C; c++) mean[c] /= count;
      for (let i = 0; i < size; i += C) for (let c = 0; c < C; c++) invStd[c] += (x[i + c] - mean[c]) ** 2;
    }
    for (let c = 0; c < C; c++) {
      const m2 = invStd[c];
      runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean[c];
      runningVar[c] = (1 - momentum) * runningVar[c] + momentum * (m2 / (count - 1));
      invStd[c] = 1 / Math.sqrt(m2 / count + EPS);
    }
    if (nchw) {
      for (let n = 0, i = 0; n < N; n++) for (let c = 0; c < C; c++) {
        const m = mean[c], k = invStd[c] * gamma[c], b = beta[c];
        for (let s = 0; s < S; s++, i++) y[i] = (x[i] - m) * k + b;
      }
    } else {
      for (let i = 0; i < size; i += C) for (let c = 0; c < C; c++) y[i + c] = (x[i + c] - mean[c]) * invStd[c] * gamma[c] + beta[c];
    }
  }
  function backward(dy, x, dx, gamma, dgamma, dbeta) {
    sumDy.fill(0);
    sumDyXhat.fill(0);
    if (nchw) {
      for (let n = 0, i = 0; n < N; n++) for (let c = 0; c < C; c++) {
        const m = mean[c];
        let a = 0, b = 0;
        for (let s = 0; s < S; s++, i++) { a += dy[i]; b += dy[i] * (x[i] - m); }
        sumDy[c] += a;
        sumDyXhat[c] += b;
      }
    } else {
      for (let i = 0; i < size; i += C) for (let c = 0; c < C; c++) { sumDy[c] += dy[i + c]; sumDyXhat[c] += dy[i + c] * (x[i + c] - mean[c]); }
    }
    for (let c = 0; c < C; c++) { sumDyXhat[c] *= invStd[c]; dgamma[c] = sumDyXhat[c]; dbeta[c] = sumDy[c]; }
    if (nchw) {
      for (let n = 0, i = 0; n < N; n++) for (let c = 0; c < C; c++) {
        const m = mean[c], inv = invStd[c], k = gamma[c] * inv, a = sumDy[c] / count, b = sumDyXhat[c] / count;
        for (let s = 0; s < S; s++, i++) dx[i] = k * (dy[i] - a - (x[i] - m) * inv * b);
      }
    } else {
      for (let i = 0; i < size; i += C) for (let c = 0; c < C; c++) {
        const inv = invStd[c];
        dx[i + c] = gamma[c] * inv * (dy[i + c] - sumDy[c] / count - (x[i + c] - mean[c]) * inv * sumDyXhat[c] / count);
      }
    }
  }
  return { forward, backward };
}

function randomArray(length, seed, offset = 0) {
  const values = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = offset + state / 2 ** 31 - 1;
  }
  return values;
}

function maxDifference(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * tfjs forward + backward, or null when the backend fails. Forward: tf.moments, then tf.batchNorm
 * (NHWC, NC) or the elementwise formula (NCHW). Backward: the training-mode formula composed from
 * tf ops (tfjs-core's Node bundle registers no gradients, so tf.grads is not available here).
 * Returns seconds per forward + backward, per forward, and dx.
 */
function tfjsCase(tf, shape, layout, xData, dyData, gammaData, betaData) {
  const { channels: C, size } = geometry(shape, layout);
  const count = size / C;
  const nchw = layout === "NCHW";
  const axes = nchw ? [0, ...shape.slice(2).map((_, i) => i + 2)] : shape.slice(0, -1).map((_, i) => i);
  // γ/β with the rank of x, like the keepDims statistics (tf.batchNorm wants equal ranks).
  const broadcastShape = nchw ? [1, C, ...shape.slice(2).map(() => 1)] : [...shape.slice(0, -1).map(() => 1), C];
  const x = tf.tensor(xData, shape);
  const dy = tf.tensor(dyData, shape);
  const gamma = tf.tensor(gammaData, broadcastShape);
  const beta = tf.tensor(betaData, broadcastShape);
  const forward = () => {
    const { mean, variance } = tf.moments(x, axes, true);
    const y = nchw
      ? tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, EPS))), gamma), beta)
      : tf.batchNorm(x, mean, variance, beta, gamma, EPS);
    return { mean, variance, y };
  };
  const forwardBackward = () => {
    const { mean, variance, y } = forward();
    const invStd = tf.rsqrt(tf.add(variance, EPS));
    const xHat = tf.mul(tf.sub(x, mean), invStd);
    const sumDy = tf.sum(dy, axes, true);
    const sumDyXHat = tf.sum(tf.mul(dy, xHat), axes, true);
    const dx = tf.mul(tf.mul(gamma, invStd),
      tf.sub(tf.sub(dy, tf.div(sumDy, count)), tf.mul(xHat, tf.div(sumDyXHat, count))));
    return [y, dx, sumDyXHat, sumDy];
  };
  let dx;
  try {
    const outputs = tf.tidy(forwardBackward);
    dx = outputs[1].dataSync().slice();
    tf.dispose(outputs);
  } catch (error) {
    console.log(`  tfjs-wasm ${shape.join("×")} ${layout}: failed (${error.message})`);
    tf.dispose([x, dy, gamma, beta]);
    return null;
  }
  const both = measure("tfjs fwd+bwd", () => tf.dispose(tf.tidy(forwardBackward)), { maxTime: 1.5, minSamples: 5 });
  const fwd = measure("tfjs fwd", () => tf.dispose(tf.tidy(() => forward().y)), { maxTime: 1.5, minSamples: 5 });
  tf.dispose([x, dy, gamma, beta]);
  return { seconds: both.seconds, forwardSeconds: fwd.seconds, dx };
}

export async function run() {
  await simdopt.init();
  console.log(`\nBatch norm, training forward + backward, float32; simdopt build: ${simdopt.features().relaxedSimd ? "relaxed-simd" : "simd"}; ` +
    `GB/s counts the 8 passes of 4 bytes per element the math needs`);
  const tf = await loadTfjs("wasm");
  const rows = [];
  const detail = [];
  for (const { name, shape, layout } of CASES) {
    const { size, channels: C } = geometry(shape, layout);
    const xData = randomArray(size, 1, 0.5);
    const dyData = randomArray(size, 2);
    const gammaData = randomArray(C, 3, 1);
    const betaData = randomArray(C, 4);

    // simdopt, zero-copy: every array is a view into wasm memory.
    const x = simdopt.parameter(shape, { init: xData });
    const dy = simdopt.parameter(shape, { init: dyData });
    const y = simdopt.parameter(shape);
    const dx = simdopt.parameter(shape);
    const bn = new simdopt.BatchNorm(C, { layout });
    bn.weight.data.set(gammaData);
    bn.bias.data.set(betaData);
    const yOut = { out: y.data };
    const dxOut = { out: dx.data };
    const xv = x.data, dyv = dy.data;
    bn.forward(xv, shape, yOut);
    bn.backward(dyv, dxOut);
    const fwd = measure(`${name} simdopt forward`, () => bn.forward(xv, shape, yOut));
    const bwd = measure(`${name} simdopt backward`, () => bn.backward(dyv, dxOut));
    const both = measure(`${name} simdopt fwd+bwd`, () => { bn.forward(xv, shape, yOut); bn.backward(dyv, dxOut); });
    const oursDx = Float32Array.from(dx.data);

    // simdopt on plain Float32Arrays (copied in and out through scratch).
    const xPlain = Float32Array.from(xData), dyPlain = Float32Array.from(dyData);
    const yPlainOut = { out: new Float32Array(size) }, dxPlainOut = { out: new Float32Array(size) };
    const foreign = measure(`${name} simdopt foreign`, () => { bn.forward(xPlain, shape, yPlainOut); bn.backward(dyPlain, dxPlainOut); });

    // Plain JS.
    const plain = makePlain(shape, layout);
    const yJs = new Float32Array(size), dxJs = new Float32Array(size);
    const rm = new Float32Array(C), rv = new Float32Array(C).fill(1), dgamma = new Float32Array(C), dbeta = new Float32Array(C);
    plain.forward(xData, yJs, gammaData, betaData, rm, rv, 0.1);
    plain.backward(dyData, xData, dxJs, gammaData, dgamma, dbeta);
    const jsFwd = measure(`${name} plain JS forward`, () => plain.forward(xData, yJs, gammaData, betaData, rm, rv, 0.1));
    const js = measure(`${name} plain JS fwd+bwd`, () => {
      plain.forward(xData, yJs, gammaData, betaData, rm, rv, 0.1);
      plain.backward(dyData, xData, dxJs, gammaData, dgamma, dbeta);
    });

    const tfjs = tfjsCase(tf, shape, layout, xData, dyData, gammaData, betaData);

    const gbps = (seconds) => ((size * BYTES_PER_ELEMENT) / seconds / 1e9).toFixed(1);
    const ms = (seconds) => (seconds * 1e3).toFixed(2);
    rows.push([
      name, ms(fwd.seconds), ms(bwd.seconds), ms(both.seconds), gbps(both.seconds), ms(foreign.seconds),
      ms(js.seconds), tfjs === null ? "—" : ms(tfjs.seconds),
      ratio(js.seconds / both.seconds), tfjs === null ? "—" : ratio(tfjs.seconds / both.seconds),
    ]);
    detail.push([
      name, ms(fwd.seconds), ms(jsFwd.seconds), tfjs === null ? "—" : ms(tfjs.forwardSeconds),
      ratio(jsFwd.seconds / fwd.seconds), tfjs === null ? "—" : ratio(tfjs.forwardSeconds / fwd.seconds),
      maxDifference(oursDx, dxJs).toExponential(1), tfjs === null ? "—" : maxDifference(oursDx, tfjs.dx).toExponential(1),
    ]);
    x.dispose(); dy.dispose(); y.dispose(); dx.dispose(); bn.dispose();
  }
  printTable("Batch norm training forward + backward (ms per call; lower is better)",
    ["case", "simdopt fwd", "simdopt bwd", "simdopt fwd+bwd", "GB/s", "simdopt, plain arrays", "plain JS", "tfjs-wasm", "vs plain JS", "vs tfjs-wasm"], rows);
  printTable("Training forward alone (ms), and agreement of dx",
    ["case", "simdopt", "plain JS", "tfjs-wasm", "vs plain JS", "vs tfjs-wasm", "max |dx − plain JS|", "max |dx − tfjs|"], detail);
}

if (isMain(import.meta.url)) await run();
