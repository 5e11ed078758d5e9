// How much work cutting a GEMM into shares adds (the threads' split in src/threads/parallel.ts):
// the shares of a 512³ and a 1024³ product, cut by bands of rows or of columns, all run one after
// the other on this thread, against one whole call. Best of 30 interleaved rounds (the extra work
// is what matters, not the host's noise). Usage: node bench/probes/matmul-shares.mjs [wasm file]
import { readFileSync } from "node:fs";
const mem = new WebAssembly.Memory({ initial: 2048, maximum: 16384, shared: true });
const file = process.argv[2] ?? new URL("../../build/simdopt-simd.wasm", import.meta.url);
const { instance: { exports: k } } = await WebAssembly.instantiate(readFileSync(file), { env: { memory: mem } });
const relaxed = k.relaxedBuild() === 1;
const f = new Float32Array(mem.buffer);
for (const n of [512, 1024]) {
  const m = n, kk = n;
  let p = (k.heapBase() + 4095) & ~4095;
  const A = p; p += m * kk * 4; const B = p; p += kk * n * 4; const C = p; p += m * n * 4;
  const packB = k.matmulPackedBSize(kk, n) * 4 + 64; const pa = p; p += 64; const pb = p; p += packB * 1;
  for (let i = 0; i < m * kk; i++) f[A / 4 + i] = Math.sin(i); for (let i = 0; i < kk * n; i++) f[B / 4 + i] = Math.cos(i);
  const whole = () => k.matmulF32(A, B, C, m, kk, n, kk, n, n, 0, 0, 1, 0, pa, pb);
  const rows = (shares, mult) => { const band = Math.ceil(Math.ceil(m / shares) / mult) * mult; for (let s = 0; s < m; s += band) { const sz = Math.min(band, m - s); k.matmulF32(A + s * kk * 4, B, C + s * n * 4, sz, kk, n, kk, n, n, 0, 0, 1, 0, pa, pb); } };
  const cols = (shares) => { const band = Math.ceil(Math.ceil(n / shares) / 8) * 8; for (let s = 0; s < n; s += band) { const sz = Math.min(band, n - s); k.matmulF32(A, B + s * 4, C + s * 4, m, kk, sz, kk, n, n, 0, 0, 1, 0, pa, pb); } };
  const cases = { whole, rows6: () => rows(6, relaxed ? 6 : 5), cols6: () => cols(6), rows4: () => rows(4, relaxed ? 6 : 5), cols4: () => cols(4), cols3: () => cols(3), rows2: () => rows(2, relaxed ? 6 : 5), cols2: () => cols(2) };
  const t = Object.fromEntries(Object.keys(cases).map((c) => [c, []]));
  for (let r = 0; r < 30; r++) for (const [name, fn] of Object.entries(cases)) { const reps = n === 512 ? 8 : 2; const s0 = performance.now(); for (let i = 0; i < reps; i++) fn(); t[name].push((performance.now() - s0) / reps); }
  const med = (a) => Math.min(...a);
  const base = med(t.whole);
  console.log(n, Object.entries(t).map(([name, a]) => `${name} ${med(a).toFixed(2)}ms (${(med(a) / base).toFixed(3)})`).join("  "));
}
