import { madd } from "../simd";
import { scratchBase, TILE_AT } from "../scratch";

// Single-precision GEMM, C ← alpha·op(A)·op(B) + beta·C, row-major, built the Goto/BLIS way:
//
//   for each NC-wide column panel of C            (jc)
//     for each KC-deep slice of the k dimension   (pc)   pack op(B)[pc.., jc..] → packedB
//       for each MC-tall row block of C           (ic)   (transA: pack op(A)[ic.., pc..])
//         A row-major: for each MR-row sliver of A (ir, read in place, stays in L1)
//                        for each NR-wide sliver of packedB (jr, from L2)      → micro-kernel
//         transA:      for each NR-wide sliver of packedB (jr, stays in L1)
//                        for each MR-row sliver of packedA (ir, from L1/L2)   → micro-kernel
//   micro-kernel: an MR×NR block of C in registers, kc rank-1 updates, then one store into C
//
// Packing B turns every B access of the micro-kernel into a unit-stride walk from one pointer
// with constant offsets, whatever transB and ldb are (the transposed case is packed with 4×4
// register transposes), and zero-pads the last sliver so edge tiles run the same kernel (only
// the final store into C is clipped). A is read in place when it is row-major (each row is
// already unit-stride along k) and packed into step-major slivers when transA. Packing costs
// O(kn) (+ O(mk)) per pass against O(mnk) compute.
//
// Register block. x86-64 V8 has 16 xmm registers and keeps one as scratch. With a fused
// multiply-add (relaxed build) a 6×8 block needs 12 accumulators + 2 B vectors + 1 broadcast
// A value = 15 registers, exactly what is free. Unfused, each update needs a temporary for the
// product as well, so 6×8 spills (measured: one spill per step and 5–40% slower); 5×8 (10
// accumulators, 14 live) keeps everything in registers with 10 independent add chains, enough to
// cover the add latency; it beat 4×8 by 1–3% on large shapes and up to 15% on small ones (fewer
// loop-control and pointer uops, which compete with the FP ports, per multiply-add). The loop is
// not unrolled over k: TurboFan then hoists every load of the unrolled steps to the top of the
// body and spills (measured 20% slower).
//
// Both micro-kernels run close to what the core's 2 FMA / 3 FP-add-or-mul ports allow; the
// figures per shape and build are in bench/results.json (`npm run bench matmul`).

const NR: i32 = 8;
// @ts-ignore: decorator
@inline const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;

// Cache blocking (L1d 32–48 KiB, L2 ≥ 1 MiB on current x86 and Arm cores):
// - a KC×NR sliver of packedB (8 KiB at KC = 256) stays in L1 while the ir loop runs over it;
// - the MC×KC block of A (~48 KiB at MC ≈ 48) is re-read for every B sliver, so it is kept
//   small enough to stay in L1/L2; measured on a 48 KiB-L1d/2 MiB-L2 x86 core, MC = 96–120
//   lost 5–10% at 1024³ against 32–72, and KC from 192 to 384 made no measurable difference;
// - the KC×NC panel of packedB (1 MiB) stays in L2 and is reused by every row block.
const KC: i32 = 256;
// @ts-ignore: decorator
@inline const MC: i32 = ASC_FEATURE_RELAXED_SIMD ? 48 : 50; // a multiple of MR
const NC: i32 = 1024;

/** MR×NR floats: edge tiles are stored here first, then clipped into C (per instance, see scratch.ts). */
// @ts-ignore: decorator
@inline function tileBase(): usize { return scratchBase + TILE_AT; }

// @ts-ignore: decorator
@inline function roundUp(value: i32, multiple: i32): i32 {
  return (value + multiple - 1) / multiple * multiple;
}

// @ts-ignore: decorator
@inline function min(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/**
 * Splits `total` into the fewest blocks of at most `limit` (a multiple of `multiple`), all but
 * the last of equal size rounded up to `multiple`. Equal blocks avoid a thin last block
 * (k = 257 would otherwise run a full pass with kc = 1).
 */
function blockStep(total: i32, limit: i32, multiple: i32): i32 {
  const blocks = (total + limit - 1) / limit;
  return min(roundUp((total + blocks - 1) / blocks, multiple), limit);
}

/** Floats of scratch the packed A block needs for an m×k op(A) (used only when transA). */
export function matmulPackedASize(m: i32, k: i32): i32 {
  return blockStep(m, MC, MR) * blockStep(k, KC, 4);
}

/** Floats of scratch the packed B panel needs for a k×n op(B). */
export function matmulPackedBSize(k: i32, n: i32): i32 {
  return blockStep(n, NC, NR) * blockStep(k, KC, 4);
}

// ---------------------------------------------------------------------------------------------
// Packing. packedA holds MR-row slivers, each kc steps of MR floats (op(A)[i..i+MR][p]);
// packedB holds NR-column slivers, each kc steps of NR floats (op(B)[p][j..j+NR]).

/** Halves of a 4×4 transpose: interleave the low (high) two lanes of two rows. */
// @ts-ignore: decorator
@inline function transposeLow(r0: v128, r1: v128): v128 { return i32x4.shuffle(r0, r1, 0, 4, 1, 5); }
// @ts-ignore: decorator
@inline function transposeHigh(r0: v128, r1: v128): v128 { return i32x4.shuffle(r0, r1, 2, 6, 3, 7); }

/**
 * Packs rows [i0, i0+rows) × steps [p0, p0+kc) of op(A) = Aᵀ (A stored k×m, row stride lda)
 * into MR-row slivers at `dst`: each step's MR values op(A)[i..i+MR][p] = A[p·lda + i..] are
 * contiguous in A already, so a sliver is one 16-byte (+8) copy per step. Rows past `rows` are
 * zero in the last sliver. (For transA = false A is not packed at all; see kernelRows.)
 */
function packTransposedA(a: usize, lda: i32, i0: i32, rows: i32, p0: i32, kc: i32, dst: usize): void {
  const strideBytes = <usize>lda << 2;
  for (let i = 0; i < rows; i += MR) {
    const live = min(MR, rows - i);
    let src = a + ((<usize>p0 * lda + i0 + i) << 2);
    let out = dst;
    if (live == MR) {
      for (let p = 0; p < kc; p++) {
        v128.store(out, v128.load(src));
        if (MR == 5) store<f32>(out, load<f32>(src, 16), 16);
        if (MR == 6) v128.store64_lane(out, v128.load64_zero(src, 16), 0, 16);
        src += strideBytes;
        out += MR << 2;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < MR; r++) {
          store<f32>(out + (<usize>r << 2), r < live ? load<f32>(src + (<usize>r << 2)) : 0);
        }
        src += strideBytes;
        out += MR << 2;
      }
    }
    dst += <usize>(MR * kc) << 2;
  }
}

/**
 * Packs steps [p0, p0+kc) × columns [j0, j0+cols) of op(B) into NR-column slivers at `dst`.
 * op(B)[p][j] = B[p·ldb + j] (transB = false) or B[j·ldb + p] (transB = true).
 */
function packB(b: usize, ldb: i32, transB: bool, p0: i32, kc: i32, j0: i32, cols: i32, dst: usize): void {
  const sliverBytes = <usize>(NR * kc) << 2;
  const strideBytes = <usize>ldb << 2;
  for (let j = 0; j < cols; j += NR) {
    const live = min(NR, cols - j);
    if (live == NR) {
      if (!transB) {
        let src = b + ((<usize>p0 * ldb + j0 + j) << 2);
        let out = dst;
        for (let p = 0; p < kc; p++) {
          v128.store(out, v128.load(src));
          v128.store(out, v128.load(src, 16), 16);
          src += strideBytes;
          out += NR << 2;
        }
      } else {
        // Columns of op(B) are rows of B: load 4 steps of 8 rows, transpose two 4×4 blocks.
        const col0 = b + ((<usize>(j0 + j) * ldb + p0) << 2);
        let out = dst;
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const at = col0 + (<usize>p << 2);
          const r0 = v128.load(at);
          const r1 = v128.load(at + strideBytes);
          const r2 = v128.load(at + strideBytes * 2);
          const r3 = v128.load(at + strideBytes * 3);
          const r4 = v128.load(at + strideBytes * 4);
          const r5 = v128.load(at + strideBytes * 5);
          const r6 = v128.load(at + strideBytes * 6);
          const r7 = v128.load(at + strideBytes * 7);
          const lo01 = transposeLow(r0, r1), hi01 = transposeHigh(r0, r1);
          const lo23 = transposeLow(r2, r3), hi23 = transposeHigh(r2, r3);
          const lo45 = transposeLow(r4, r5), hi45 = transposeHigh(r4, r5);
          const lo67 = transposeLow(r6, r7), hi67 = transposeHigh(r6, r7);
          v128.store(out, i64x2.shuffle(lo01, lo23, 0, 2));
          v128.store(out, i64x2.shuffle(lo45, lo67, 0, 2), 16);
          v128.store(out, i64x2.shuffle(lo01, lo23, 1, 3), 32);
          v128.store(out, i64x2.shuffle(lo45, lo67, 1, 3), 48);
          v128.store(out, i64x2.shuffle(hi01, hi23, 0, 2), 64);
          v128.store(out, i64x2.shuffle(hi45, hi67, 0, 2), 80);
          v128.store(out, i64x2.shuffle(hi01, hi23, 1, 3), 96);
          v128.store(out, i64x2.shuffle(hi45, hi67, 1, 3), 112);
          out += NR << 4;
        }
        for (; p < kc; p++) {
          for (let c = 0; c < NR; c++) {
            store<f32>(out + (<usize>c << 2), load<f32>(col0 + ((<usize>c * ldb + p) << 2)));
          }
          out += NR << 2;
        }
      }
    } else {
      // The last, partial sliver: 4 columns wide when at most 4 are live (the narrow kernel
      // then does half the work), else 8; columns past the end are zero.
      const width = live <= 4 ? 4 : NR;
      let out = dst;
      for (let p = 0; p < kc; p++) {
        for (let c = 0; c < width; c++) {
          let value: f32 = 0;
          if (c < live) {
            const col = j0 + j + c, step = p0 + p;
            value = load<f32>(b + ((transB ? <usize>col * ldb + step : <usize>step * ldb + col) << 2));
          }
          store<f32>(out + (<usize>c << 2), value);
        }
        out += <usize>width << 2;
      }
    }
    dst += sliverBytes;
  }
}

// ---------------------------------------------------------------------------------------------
// Micro-kernels and the store into C.
//
// One body, four instantiations: A is read either straight from the caller's rows
// (transA = false: MR row pointers, each advancing 4 bytes a step — as cheap for V8 as packed
// data, since it cannot fold a constant offset into a broadcast load anyway, and it saves the
// O(mk) packing pass that dominates when n is small) or from step-major packed slivers
// (transA = true); B is an 8- or, for a narrow last sliver, 4-column packed sliver.

/**
 * Writes one vector of the register block: C ← alpha·acc (+ beta·C when readC). alpha = 1 and
 * beta = 1 (every k-slice after the first) skip their multiply: with small k the store is a
 * large share of the work, and a multiply takes the same ports as the multiply-adds. The
 * branches are uniform over a call, so they predict perfectly.
 */
// @ts-ignore: decorator
@inline function storeVector(c: usize, acc: v128, alpha: v128, beta: v128, scaled: bool, readC: bool, unitBeta: bool): void {
  let value = scaled ? f32x4.mul(acc, alpha) : acc;
  if (readC) value = unitBeta ? f32x4.add(v128.load(c), value) : madd(beta, v128.load(c), value);
  v128.store(c, value);
}

/** Clipped store of an edge tile held in TILE (row stride NR): rows < rows, columns < cols. */
function storeEdge(c: usize, ldcBytes: usize, rows: i32, cols: i32, alpha: f32, beta: f32, readC: bool): void {
  for (let r = 0; r < rows; r++) {
    const tileRow = tileBase() + (<usize>(r * NR) << 2);
    for (let j = 0; j < cols; j++) {
      const at = c + (<usize>j << 2);
      let value = alpha * load<f32>(tileRow + (<usize>j << 2));
      if (readC) value += beta * load<f32>(at);
      store<f32>(at, value);
    }
    c += ldcBytes;
  }
}

/**
 * MR×8 (wide) or MR×4 block of C over kc steps. Each step: one or two B vectors, MR broadcast
 * A values, one or two multiply-adds per A value. A element (r, p) is at
 * `a + r·aStride + 4p` (rowMajorA: rows ≥ `rows` point at the last live row, whose results are
 * discarded) or `a + 4r + p·aStride` (packed, step-major).
 */
// @ts-ignore: decorator
@inline function kernelBody(
  kc: i32, a: usize, aStride: usize, pb: usize, c: usize, ldcBytes: usize, rows: i32, cols: i32,
  alpha: f32, beta: f32, readC: bool, rowMajorA: bool, wide: bool,
): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
  let c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  let a0 = a, a1 = a, a2 = a, a3 = a, a4 = a, a5 = a;
  if (rowMajorA) {
    const last = rows - 1;
    a1 = a + aStride * <usize>min(1, last);
    a2 = a + aStride * <usize>min(2, last);
    a3 = a + aStride * <usize>min(3, last);
    if (MR >= 5) a4 = a + aStride * <usize>min(4, last);
    if (MR == 6) a5 = a + aStride * <usize>min(5, last);
  }
  const bStep: usize = wide ? 32 : 16;
  const end = pb + <usize>kc * bStep;
  let b0 = c00, b1 = c00, v = c00;
  while (pb < end) {
    b0 = v128.load(pb);
    if (wide) b1 = v128.load(pb, 16);
    v = v128.load32_splat(rowMajorA ? a0 : a);
    c00 = madd(v, b0, c00);
    if (wide) c01 = madd(v, b1, c01);
    v = rowMajorA ? v128.load32_splat(a1) : v128.load32_splat(a, 4);
    c10 = madd(v, b0, c10);
    if (wide) c11 = madd(v, b1, c11);
    v = rowMajorA ? v128.load32_splat(a2) : v128.load32_splat(a, 8);
    c20 = madd(v, b0, c20);
    if (wide) c21 = madd(v, b1, c21);
    v = rowMajorA ? v128.load32_splat(a3) : v128.load32_splat(a, 12);
    c30 = madd(v, b0, c30);
    if (wide) c31 = madd(v, b1, c31);
    if (MR >= 5) {
      v = rowMajorA ? v128.load32_splat(a4) : v128.load32_splat(a, 16);
      c40 = madd(v, b0, c40);
      if (wide) c41 = madd(v, b1, c41);
    }
    if (MR == 6) {
      v = rowMajorA ? v128.load32_splat(a5) : v128.load32_splat(a, 20);
      c50 = madd(v, b0, c50);
      if (wide) c51 = madd(v, b1, c51);
    }
    if (rowMajorA) {
      a0 += 4; a1 += 4; a2 += 4; a3 += 4;
      if (MR >= 5) a4 += 4;
      if (MR == 6) a5 += 4;
    } else {
      a += aStride;
    }
    pb += bStep;
  }
  const alphaV = f32x4.splat(alpha);
  const betaV = f32x4.splat(beta);
  const scaled = alpha != 1;
  const unitBeta = beta == 1;
  if (rows == MR && cols == (wide ? NR : 4)) {
    storeVector(c, c00, alphaV, betaV, scaled, readC, unitBeta);
    if (wide) storeVector(c + 16, c01, alphaV, betaV, scaled, readC, unitBeta);
    c += ldcBytes;
    storeVector(c, c10, alphaV, betaV, scaled, readC, unitBeta);
    if (wide) storeVector(c + 16, c11, alphaV, betaV, scaled, readC, unitBeta);
    c += ldcBytes;
    storeVector(c, c20, alphaV, betaV, scaled, readC, unitBeta);
    if (wide) storeVector(c + 16, c21, alphaV, betaV, scaled, readC, unitBeta);
    c += ldcBytes;
    storeVector(c, c30, alphaV, betaV, scaled, readC, unitBeta);
    if (wide) storeVector(c + 16, c31, alphaV, betaV, scaled, readC, unitBeta);
    if (MR >= 5) {
      c += ldcBytes;
      storeVector(c, c40, alphaV, betaV, scaled, readC, unitBeta);
      if (wide) storeVector(c + 16, c41, alphaV, betaV, scaled, readC, unitBeta);
    }
    if (MR == 6) {
      c += ldcBytes;
      storeVector(c, c50, alphaV, betaV, scaled, readC, unitBeta);
      if (wide) storeVector(c + 16, c51, alphaV, betaV, scaled, readC, unitBeta);
    }
  } else {
    const tile = tileBase();
    v128.store(tile, c00); v128.store(tile, c01, 16);
    v128.store(tile, c10, 32); v128.store(tile, c11, 48);
    v128.store(tile, c20, 64); v128.store(tile, c21, 80);
    v128.store(tile, c30, 96); v128.store(tile, c31, 112);
    if (MR >= 5) { v128.store(tile, c40, 128); v128.store(tile, c41, 144); }
    if (MR == 6) { v128.store(tile, c50, 160); v128.store(tile, c51, 176); }
    storeEdge(c, ldcBytes, rows, cols, alpha, beta, readC);
  }
}

function kernelRowsWide(kc: i32, a: usize, aStride: usize, pb: usize, c: usize, ldcBytes: usize,
  rows: i32, cols: i32, alpha: f32, beta: f32, readC: bool): void {
  kernelBody(kc, a, aStride, pb, c, ldcBytes, rows, cols, alpha, beta, readC, true, true);
}
function kernelRowsNarrow(kc: i32, a: usize, aStride: usize, pb: usize, c: usize, ldcBytes: usize,
  rows: i32, cols: i32, alpha: f32, beta: f32, readC: bool): void {
  kernelBody(kc, a, aStride, pb, c, ldcBytes, rows, cols, alpha, beta, readC, true, false);
}
function kernelPackedWide(kc: i32, a: usize, aStride: usize, pb: usize, c: usize, ldcBytes: usize,
  rows: i32, cols: i32, alpha: f32, beta: f32, readC: bool): void {
  kernelBody(kc, a, aStride, pb, c, ldcBytes, rows, cols, alpha, beta, readC, false, true);
}
function kernelPackedNarrow(kc: i32, a: usize, aStride: usize, pb: usize, c: usize, ldcBytes: usize,
  rows: i32, cols: i32, alpha: f32, beta: f32, readC: bool): void {
  kernelBody(kc, a, aStride, pb, c, ldcBytes, rows, cols, alpha, beta, readC, false, false);
}

/**
 * One MR-row sliver of A (read in place) against the whole packed B panel (nc columns): the
 * full 8-column slivers run the wide body inlined in this loop, a last partial sliver the wide
 * or narrow kernel. Looping over B inside one call keeps the A sliver in L1 and pays the call
 * and set-up once per row sliver rather than once per tile (+10–15% at k = 10, +5% at 64³).
 * (The same loop over packed A slivers made TurboFan hoist the broadcasts and spill, so the
 * transA path keeps one call per tile.)
 */
function panelRows(kc: i32, a: usize, aStride: usize, pb: usize, nc: i32, c: usize, ldcBytes: usize,
  rows: i32, alpha: f32, beta: f32, readC: bool): void {
  const sliverBytes = <usize>kc << 5;
  let jr = 0;
  for (; jr + NR <= nc; jr += NR) {
    kernelBody(kc, a, aStride, pb, c, ldcBytes, rows, NR, alpha, beta, readC, true, true);
    pb += sliverBytes;
    c += NR << 2;
  }
  const cols = nc - jr;
  if (cols > 4) kernelRowsWide(kc, a, aStride, pb, c, ldcBytes, rows, cols, alpha, beta, readC);
  else if (cols > 0) kernelRowsNarrow(kc, a, aStride, pb, c, ldcBytes, rows, cols, alpha, beta, readC);
}

/**
 * C ← alpha·op(A)·op(B) + beta·C with op(A) m×k, op(B) k×n, C m×n; lda/ldb/ldc are the row
 * strides (in floats) of A, B and C as stored. beta = 0 never reads C. `packedA`/`packedB` are
 * 16-byte aligned scratch of matmulPackedASize(m, k) / matmulPackedBSize(k, n) floats
 * (packedA is used only when transA). C must not overlap A or B.
 */
export function matmulF32(
  a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, lda: i32, ldb: i32, ldc: i32,
  transA: bool, transB: bool, alpha: f32, beta: f32, packedA: usize, packedB: usize,
): void {
  const ncStep = blockStep(n, NC, NR);
  const kcStep = blockStep(k, KC, 4);
  const mcStep = blockStep(m, MC, MR);
  const ldcBytes = <usize>ldc << 2;
  const ldaBytes = <usize>lda << 2;
  for (let jc = 0; jc < n; jc += ncStep) {
    const nc = min(ncStep, n - jc);
    for (let pc = 0; pc < k; pc += kcStep) {
      const kc = min(kcStep, k - pc);
      packB(b, ldb, transB, pc, kc, jc, nc, packedB);
      // The first k-slice applies beta; later slices accumulate onto what it wrote.
      const readC = pc > 0 || beta != 0;
      const betaHere: f32 = pc > 0 ? 1 : beta;
      for (let ic = 0; ic < m; ic += mcStep) {
        const mc = min(mcStep, m - ic);
        if (transA) {
          // Packed A: one call per tile, B sliver outermost (kept in L1 across the row slivers).
          packTransposedA(a, lda, ic, mc, pc, kc, packedA);
          for (let jr = 0; jr < nc; jr += NR) {
            const pb = packedB + (<usize>(jr * kc) << 2);
            const cols = min(NR, nc - jr);
            let cTile = c + ((<usize>ic * ldc + jc + jr) << 2);
            for (let ir = 0; ir < mc; ir += MR) {
              const pa = packedA + (<usize>(ir * kc) << 2);
              const rows = min(MR, mc - ir);
              if (cols > 4) kernelPackedWide(kc, pa, MR << 2, pb, cTile, ldcBytes, rows, cols, alpha, betaHere, readC);
              else kernelPackedNarrow(kc, pa, MR << 2, pb, cTile, ldcBytes, rows, cols, alpha, betaHere, readC);
              cTile += ldcBytes * MR;
            }
          }
        } else {
          // A in place: one call per row sliver, looping over the B panel inside.
          let cRow = c + ((<usize>ic * ldc + jc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            panelRows(kc, a + ((<usize>(ic + ir) * lda + pc) << 2), ldaBytes, packedB, nc, cRow, ldcBytes,
              min(MR, mc - ir), alpha, betaHere, readC);
            cRow += ldcBytes * MR;
          }
        }
      }
    }
  }
}
