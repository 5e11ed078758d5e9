// Child process of test/ops/batchnorm.test.ts: runs the built package under
// `node --experimental-wasm-relaxed-simd` (so the relaxed-SIMD build is loaded) and prints, as JSON,
// the worst errors of batch norm forward/backward against a float64 evaluation of the formulas.
import { init, features, batchNormForward, batchNormBackward } from "../../dist/index.js";

await init();
const cases = [];
let seed = 12345;
const random = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
for (const layout of ["NCHW", "NHWC"]) {
  for (const [N, C, spatial] of [[2, 3, [7, 5]], [17, 5, [1, 1]], [3, 64, [3]], [1037, 7, []], [3, 2, [50, 45]]]) {
    const shape = layout === "NCHW" ? [N, C, ...spatial] : [N, ...spatial, C];
    const size = shape.reduce((a, b) => a * b, 1);
    const S = size / (N * C);
    const channelOf = (i) => (layout === "NCHW" ? Math.floor(i / S) % C : i % C);
    const x = Float32Array.from({ length: size }, (_, i) => 1e3 * (channelOf(i) % 2) + 3 * random());
    const dy = Float32Array.from({ length: size }, () => random() - 0.5);
    const gamma = Float32Array.from({ length: C }, () => 0.5 + random());
    const beta = Float32Array.from({ length: C }, () => random() - 0.5);
    const count = size / C;
    const mean = new Float64Array(C);
    const m2 = new Float64Array(C);
    for (let i = 0; i < size; i++) mean[channelOf(i)] += x[i] / count;
    for (let i = 0; i < size; i++) m2[channelOf(i)] += (x[i] - mean[channelOf(i)]) ** 2;
    const invStd = Array.from(m2, (v) => 1 / Math.sqrt(v / count + 1e-5));
    const result = batchNormForward(x, shape, { gamma, beta, layout });
    let worstY = 0;
    for (let i = 0; i < size; i++) {
      const c = channelOf(i);
      worstY = Math.max(worstY, Math.abs(result.y[i] - ((x[i] - mean[c]) * invStd[c] * gamma[c] + beta[c])));
    }
    const back = batchNormBackward(dy, x, shape, { mean: result.mean, invStd: result.invStd, gamma, layout });
    const sumDy = new Float64Array(C);
    const sumDyXHat = new Float64Array(C);
    for (let i = 0; i < size; i++) {
      const c = channelOf(i);
      sumDy[c] += dy[i];
      sumDyXHat[c] += dy[i] * (x[i] - mean[c]) * invStd[c];
    }
    let worstDx = 0;
    let scale = 0;
    for (let i = 0; i < size; i++) {
      const c = channelOf(i);
      const xHat = (x[i] - mean[c]) * invStd[c];
      const dx = gamma[c] * invStd[c] * (dy[i] - sumDy[c] / count - xHat * sumDyXHat[c] / count);
      worstDx = Math.max(worstDx, Math.abs(back.dx[i] - dx));
      scale = Math.max(scale, Math.abs(gamma[c] * invStd[c] * dy[i]));
    }
    let worstDgamma = 0;
    for (let c = 0; c < C; c++) worstDgamma = Math.max(worstDgamma, Math.abs(back.dgamma[c] - sumDyXHat[c]) / Math.sqrt(count));
    cases.push({ label: `${layout} [${shape.join(",")}]`, worstY, worstDx: worstDx / scale, worstDgamma });
  }
}
console.log(JSON.stringify({ relaxedSimd: features().relaxedSimd, cases }));
