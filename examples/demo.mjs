// simdopt demo: fit a linear regression y = X·w + b with Adam,
// printing the loss as it falls. Parameters live in wasm memory; the optimizer step is one fused
// SIMD pass over them.
import { init, features, parameter, Adam } from "../dist/index.js";

await init();
const { relaxedSimd, threads, version } = features();
console.log(`simdopt ${version} — SIMD build: ${relaxedSimd ? "relaxed-simd" : "simd"}, shared memory: ${threads}`);

// Synthetic data with a known answer.
const samples = 4096;
const inputs = 64;
let seed = 1;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const trueWeights = Float32Array.from({ length: inputs }, () => random());
const trueBias = 0.5;
const X = Float32Array.from({ length: samples * inputs }, () => random());
const y = new Float32Array(samples);
for (let n = 0; n < samples; n++) {
  let sum = trueBias;
  for (let i = 0; i < inputs; i++) sum += X[n * inputs + i] * trueWeights[i];
  y[n] = sum + 0.01 * random();
}

const w = parameter([inputs], { name: "w" });
const b = parameter([1], { name: "b" });
const optimizer = new Adam([w, b], { lr: 0.05 });

const residual = new Float32Array(samples);
function lossAndGradients() {
  // Mean squared error and its gradient, written straight into the zero-copy .grad views.
  const weights = w.data;
  let loss = 0;
  for (let n = 0; n < samples; n++) {
    let prediction = b.data[0];
    for (let i = 0; i < inputs; i++) prediction += X[n * inputs + i] * weights[i];
    residual[n] = prediction - y[n];
    loss += residual[n] * residual[n];
  }
  const wGrad = w.grad;
  wGrad.fill(0);
  let bGrad = 0;
  for (let n = 0; n < samples; n++) {
    const r = (2 * residual[n]) / samples;
    for (let i = 0; i < inputs; i++) wGrad[i] += r * X[n * inputs + i];
    bGrad += r;
  }
  b.grad[0] = bGrad;
  return loss / samples;
}

const epochs = 200;
for (let epoch = 0; epoch <= epochs; epoch++) {
  const loss = lossAndGradients();
  if (epoch % 20 === 0) console.log(`epoch ${String(epoch).padStart(3)}  loss ${loss.toExponential(3)}`);
  optimizer.step();
}
let worst = 0;
for (let i = 0; i < inputs; i++) worst = Math.max(worst, Math.abs(w.data[i] - trueWeights[i]));
console.log(`largest weight error ${worst.toExponential(2)}, bias ${b.data[0].toFixed(4)} (true ${trueBias})`);
