// Splitting matmul, the clipping reductions and batch norm across the threads. Each function
// lays out one batch (see pool.ts) or, with one thread or too little work, calls the kernel
// directly. Every split is chosen so that each output element is computed by the same
// instructions in the same order as in the single call.

import type { Kernels } from "../bindings/kernels.js";
import { PIECE_STRIDE, batchArrays, kernelId, runBatch, threadCount } from "./pool.js";
import { MAX_PIECES, MAX_TASKS } from "./limits.js";
import { Moves, type NchwKernel } from "./hooks.js";

/** Below this many multiply-adds a GEMM stays on the calling thread (~10 µs of work). */
const MATMUL_MIN_MACS = 1 << 18;

/** How many independent shares a GEMM of this size is split into (1: not split). */
export function matmulShares(m: number, n: number, k: number): number {
  const threads = threadCount();
  if (threads <= 1 || m * n * k < MATMUL_MIN_MACS) return 1;
  // Two shares per thread: a thread that waits for a core (a loaded host) then holds up only
  // part of the product, which the others take over. More shares cost more than they balance:
  // each share re-reads its inputs (~1% more work per share at 512³, measured).
  return Math.min(threads * 2, Math.max(1, Math.floor(Math.max(m, n) / 32)));
}

function writePiece(pieces: Float64Array, index: number, id: number, args: readonly number[]): void {
  const at = index * PIECE_STRIDE;
  pieces[at] = id;
  pieces[at + 1] = args.length;
  for (let i = 0; i < args.length; i++) pieces[at + 2 + i] = args[i]!;
}

const matmulArgs: number[] = new Array<number>(15).fill(0);

/**
 * C = alpha·op(A)·op(B) + beta·C in `shares` pieces: bands of columns of C, or bands of rows when
 * C is too narrow to cut (or A is stored transposed and m ≥ n). A band's elements see the same
 * k-blocking and the same micro-kernel arithmetic as in the whole product; each piece packs into
 * its own scratch (`packedStride` bytes apart).
 */
export function matmulSplit(wasm: Kernels, a: number, b: number, c: number, m: number, k: number, n: number,
  transA: boolean, transB: boolean, alpha: number, beta: number, packedA: number, packedB: number, packedStride: number,
  shares: number, rowMultiple: number): void {
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  if (shares <= 1) {
    wasm.matmulF32(a, b, c, m, k, n, lda, ldb, n, transA, transB, alpha, beta, packedA, packedB);
    return;
  }
  const { bounds, pieces } = batchArrays();
  const id = kernelId("matmulF32");
  // Bands of columns need only their own columns of B, packed once in all; bands of rows each
  // pack the whole of B (+9% work over 6 shares at 512³, against +3% for columns). A stored
  // transposed is packed too, whichever way it is cut: then the longer side is split.
  const byRows = transA ? m >= n : n < 32 * shares;
  const total = byRows ? m : n;
  const multiple = byRows ? rowMultiple : 8;
  const band = Math.ceil(Math.ceil(total / shares) / multiple) * multiple;
  let count = 0;
  for (let start = 0; start < total; start += band) {
    const size = Math.min(band, total - start);
    const x = matmulArgs;
    const scratch = count * packedStride;
    if (byRows) {
      x[0] = a + (transA ? start : start * k) * 4; x[1] = b; x[2] = c + start * n * 4; x[3] = size; x[5] = n;
    } else {
      x[0] = a; x[1] = b + (transB ? start * k : start) * 4; x[2] = c + start * 4; x[3] = m; x[5] = size;
    }
    x[4] = k; x[6] = lda; x[7] = ldb; x[8] = n; x[9] = transA ? 1 : 0; x[10] = transB ? 1 : 0;
    x[11] = alpha; x[12] = beta; x[13] = packedA + scratch; x[14] = packedB + scratch;
    writePiece(pieces, count, id, x);
    bounds[count] = count;
    count++;
  }
  bounds[count] = count;
  runBatch(count);
}

/** Below this many elements in all, a reduction over tensors stays on the calling thread. */
const REDUCE_MIN_ELEMENTS = 1 << 15;

type ReduceKernel = "sumSquares" | "sumAbs" | "maxAbs" | "allFinite";

/**
 * The kernel's value for each (pointer, length) pair, in `out` (one entry per pair), computed
 * whole per pair — a pair is never cut, so each value is exactly the single-thread one and the
 * caller combines them in order. Pairs are spread over the threads in contiguous runs.
 */
export function reduceEach(wasm: Kernels, kernel: ReduceKernel, ptrs: readonly number[], lengths: readonly number[], out: number[]): void {
  const count = ptrs.length;
  let total = 0;
  for (let i = 0; i < count; i++) total += lengths[i]!;
  const threads = threadCount();
  if (threads <= 1 || count < 2 || total < REDUCE_MIN_ELEMENTS || count > MAX_PIECES) {
    const f = wasm[kernel];
    for (let i = 0; i < count; i++) out[i] = f(ptrs[i]!, lengths[i]!);
    return;
  }
  const { bounds, pieces, results } = batchArrays();
  const id = kernelId(kernel);
  const taskCount = Math.min(MAX_TASKS, threads * 4, count);
  const perTask = total / taskCount;
  let tasks = 0;
  let filled = 0;
  bounds[0] = 0;
  for (let i = 0; i < count; i++) {
    const at = i * PIECE_STRIDE;
    pieces[at] = id;
    pieces[at + 1] = 2;
    pieces[at + 2] = ptrs[i]!;
    pieces[at + 3] = lengths[i]!;
    filled += lengths[i]!;
    if (filled >= perTask * (tasks + 1) && tasks < MAX_TASKS - 1) bounds[++tasks] = i + 1;
  }
  if (bounds[tasks] !== count) bounds[++tasks] = count;
  runBatch(tasks);
  for (let i = 0; i < count; i++) out[i] = results[i]!;
}

/** scale/clamp in place over (pointer, length) pairs, cut into chunks across the threads. */
export function elementwiseEach(wasm: Kernels, kernel: "scaleInPlace" | "clampInPlace", ptrs: readonly number[],
  lengths: readonly number[], value: number): void {
  const count = ptrs.length;
  let total = 0;
  for (let i = 0; i < count; i++) total += lengths[i]!;
  const threads = threadCount();
  if (threads <= 1 || total < REDUCE_MIN_ELEMENTS) {
    const f = wasm[kernel];
    for (let i = 0; i < count; i++) f(ptrs[i]!, lengths[i]!, value);
    return;
  }
  const { bounds, pieces } = batchArrays();
  const id = kernelId(kernel);
  const taskCount = Math.min(MAX_TASKS, threads * 4);
  const perTask = Math.ceil(total / taskCount / 16) * 16;
  let pieceCount = 0;
  let tasks = 0;
  let room = perTask;
  bounds[0] = 0;
  for (let i = 0; i < count; i++) {
    let offset = 0;
    const length = lengths[i]!;
    while (offset < length) {
      if (pieceCount === MAX_PIECES) {
        if (bounds[tasks] !== pieceCount) bounds[++tasks] = pieceCount;
        runBatch(tasks);
        pieceCount = 0; tasks = 0; room = perTask;
      }
      let take = Math.min(length - offset, room);
      if (take < length - offset) take = Math.max(16, Math.floor(take / 16) * 16);
      if (length - offset - take < 16) take = length - offset;
      const at = pieceCount * PIECE_STRIDE;
      pieces[at] = id; pieces[at + 1] = 3; pieces[at + 2] = ptrs[i]! + offset * 4; pieces[at + 3] = take; pieces[at + 4] = value;
      pieceCount++;
      offset += take;
      room -= take;
      if (room <= 0 && tasks < MAX_TASKS - 1) { bounds[++tasks] = pieceCount; room = perTask; }
    }
  }
  if (bounds[tasks] !== pieceCount) bounds[++tasks] = pieceCount;
  runBatch(tasks);
}

/** Below this many elements a batch-norm pass stays on the calling thread. */
const NCHW_MIN_ELEMENTS = 1 << 15;

/**
 * Runs an NCHW batch-norm kernel over ranges of channels across the threads. Every per-channel
 * result (moments, sums) comes from the same instructions over the same runs in the same order
 * as in the whole call, since channels never mix.
 */
// How each argument of the NCHW kernels moves when threads take ranges of channels.
const K = Moves.Keep, D = Moves.Data, F = Moves.F32, W = Moves.F64, C = Moves.Channels, S = Moves.Stride;
const MOVES: Record<NchwKernel, readonly Moves[]> = {
  batchNormStatsNchw: [D, K, C, K, W, W, S],
  batchNormNormalizeNchw: [D, D, K, C, K, F, F, F, S],
  batchNormBackwardReduceNchw: [D, D, K, C, K, F, W, W, F, F, D, S],
  batchNormBackwardDxNchw: [D, D, D, K, C, K, F, F, F, F, F, S],
};

export function nchwSplit(wasm: Kernels, kernel: NchwKernel, args: number[],
  batch: number, channels: number, spatial: number): void {
  const moves = MOVES[kernel];
  const threads = threadCount();
  const whole = channels * spatial;
  if (threads <= 1 || channels < 2 || batch * whole < NCHW_MIN_ELEMENTS) {
    for (let i = 0; i < moves.length; i++) if (moves[i] === Moves.Stride) args[i] = whole;
    (wasm[kernel] as unknown as (...a: number[]) => void)(...args);
    return;
  }
  const { bounds, pieces } = batchArrays();
  const id = kernelId(kernel);
  const shares = Math.min(channels, threads * 2, MAX_TASKS);
  const per = Math.ceil(channels / shares);
  let count = 0;
  for (let c0 = 0; c0 < channels; c0 += per) {
    const range = Math.min(per, channels - c0);
    const at = count * PIECE_STRIDE;
    pieces[at] = id;
    pieces[at + 1] = args.length;
    for (let i = 0; i < args.length; i++) {
      const value = args[i]!;
      let moved = value;
      switch (moves[i]) {
        case Moves.Data: moved = value === 0 ? 0 : value + c0 * spatial * 4; break;
        case Moves.F32: moved = value === 0 ? 0 : value + c0 * 4; break;
        case Moves.F64: moved = value + c0 * 8; break;
        case Moves.Channels: moved = range; break;
        case Moves.Stride: moved = whole; break;
        default: break;
      }
      pieces[at + 2 + i] = moved;
    }
    bounds[count] = count;
    count++;
  }
  bounds[count] = count;
  runBatch(count);
}
