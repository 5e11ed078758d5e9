// Runs matmul from the built package under `node --experimental-wasm-relaxed-simd`, where init()
// picks the relaxed-SIMD build, and prints JSON: { relaxedSimd, cases: [{ label, worst }] } with
// `worst` = the largest error / bound of test/reference/matmul.mjs (≤ 1 passes).
import { features, init, matmul, parameter } from "../../dist/index.js";
import { matmulReference, worstErrorRatio } from "../reference/matmul.mjs";

await init();

let seed = 12345;
function floats(length) {
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    values[i] = seed / 2 ** 31 - 1;
  }
  return values;
}

// The relaxed build's blocks: MR×NR = 6×8 (and 6×4), KC = 256, MC = 48, NC = 1024.
const shapes = [
  [1, 1, 1], [1, 37, 1], [37, 53, 29], [5, 3, 9], [6, 8, 8], [7, 9, 4], [11, 13, 5], [12, 4, 12],
  [47, 23, 17], [48, 23, 17], [49, 23, 17], [97, 19, 9], [241, 19, 9], [9, 255, 11], [9, 257, 11], [13, 513, 7],
  [3, 7, 1023], [3, 7, 1025], [64, 64, 64], [128, 128, 128],
];
const cases = [];
for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]]) {
  for (const [m, k, n] of shapes) {
    for (const [alpha, beta] of [[1, 0], [-0.5, 0.75]]) {
      const a = floats(m * k), b = floats(k * n);
      const before = beta === 0 ? new Float32Array(m * n).fill(NaN) : floats(m * n);
      const out = before.slice();
      matmul(a, b, { m, k, n, transA, transB, alpha, beta, out });
      const worst = worstErrorRatio(out, matmulReference(a, b, { m, k, n, transA, transB, alpha, beta, c: before }));
      cases.push({ label: `m=${m} k=${k} n=${n} transA=${transA} transB=${transB} alpha=${alpha} beta=${beta}`, worst });
    }
  }
}
// Zero-copy views.
const pa = parameter([37, 53], { init: floats(37 * 53) });
const pb = parameter([29, 53], { init: floats(29 * 53) });
const pc = parameter([37, 29]);
matmul(pa.data, pb.data, { m: 37, k: 53, n: 29, transB: true, out: pc.data });
cases.push({
  label: "Parameter views, transB",
  worst: worstErrorRatio(pc.data, matmulReference(pa.data, pb.data, { m: 37, k: 53, n: 29, transB: true })),
});

console.log(JSON.stringify({ relaxedSimd: features().relaxedSimd, cases }));
