// Float64 reference for matmul, C = alpha·op(A)·op(B) + beta·C, with an error bound per element.
// Plain JS (not TS) so that the relaxed-SIMD child process (test/support/matmul-relaxed-child.mjs),
// which runs the built package in plain Node, can use it too.
//
// Tolerance. Each element of C is a sum of k products a·b (each rounded once in float32, then
// scaled by alpha: one more rounding) plus beta·c (one rounding). Summed in float32 in any order
// — the kernel's order depends on the k-blocking — every term passes through at most k additions,
// so the classic bound (Higham, Accuracy and Stability, §3.1) gives
//     |C − Ĉ| ≤ γ_{k+2} · (|alpha|·Σ_p |a_ip·b_pj| + |beta·c_ij|),   γ_j = j·u/(1 − j·u),
// with u = 2⁻²⁴. It scales with k, holds for fused (relaxed) and unfused multiply-adds alike, and
// is still tight enough to catch any indexing bug: a missing or doubled product moves C by about
// Σ|ab|/k, i.e. k/(k+2)² ≈ 1/k of the scale, which exceeds (k+2)·u for every k below ~4000.
// One more u covers alpha and beta being rounded to float32 on their way into the kernel.

const U = 2 ** -24;

/**
 * @param {ArrayLike<number>} a  op(A) source: m×k, or k×m when transA
 * @param {ArrayLike<number>} b  op(B) source: k×n, or n×k when transB
 * @param {{ m: number, k: number, n: number, transA?: boolean, transB?: boolean,
 *           alpha?: number, beta?: number, c?: ArrayLike<number> }} options  c: C before the call
 * @returns {{ value: Float64Array, bound: Float64Array }}
 */
export function matmulReference(a, b, options) {
  const { m, k, n, transA = false, transB = false, alpha = 1, beta = 0, c } = options;
  // Row-major float64 copies of op(A) (m×k) and op(B) (k×n), so the main loop is unit-stride.
  const opA = new Float64Array(m * k);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) opA[i * k + p] = transA ? a[p * m + i] : a[i * k + p];
  const opB = new Float64Array(k * n);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) opB[p * n + j] = transB ? b[j * k + p] : b[p * n + j];
  const sum = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  const absB = opB.map(Math.abs);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let p = 0; p < k; p++) {
      const x = opA[i * k + p];
      const absX = Math.abs(x);
      const bRow = p * n;
      for (let j = 0; j < n; j++) {
        sum[row + j] += x * opB[bRow + j];
        magnitude[row + j] += absX * absB[bRow + j];
      }
    }
  }
  const gamma = ((k + 3) * U) / (1 - (k + 3) * U);
  const value = new Float64Array(m * n);
  const bound = new Float64Array(m * n);
  for (let i = 0; i < m * n; i++) {
    const old = beta !== 0 && c !== undefined ? beta * c[i] : 0;
    value[i] = alpha * sum[i] + old;
    // 1e-6 relative slack for the float64 reference's own rounding; 1e-37 for underflow.
    bound[i] = gamma * (Math.abs(alpha) * magnitude[i] + Math.abs(old)) * (1 + 1e-6) + 1e-37;
  }
  return { value, bound };
}

/**
 * Worst |actual − expected| / bound over all elements (≤ 1 passes; NaN anywhere gives Infinity).
 * @param {ArrayLike<number>} actual
 * @param {{ value: Float64Array, bound: Float64Array }} expected
 */
export function worstErrorRatio(actual, expected) {
  let worst = 0;
  for (let i = 0; i < expected.value.length; i++) {
    const ratio = Math.abs(actual[i] - expected.value[i]) / expected.bound[i];
    if (!(ratio <= worst)) worst = Number.isNaN(ratio) ? Infinity : ratio;
  }
  return worst;
}
