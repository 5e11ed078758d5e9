import type { Kernels } from "../bindings/kernels.js";

// The layout of the shared control block and batch arrays, and the call of one piece: used by
// the pool (main thread) and by every worker.

/** Slots of the control Int32Array. */
export const CTRL = {
  GEN: 0,       // bumped to publish a batch (and to stop)
  NEXT: 1,      // the next task to claim
  COUNT: 2,     // tasks in the batch
  DONE: 3,      // tasks finished
  SLEEPERS: 4,  // workers in Atomics.wait
  STOP: 5,      // 1: workers exit their loop
  ERROR: 6,     // 1: a worker's kernel call threw
  WORKER_TASKS: 7, // tasks run by workers since start (diagnostics and tests)
  WAITING: 8,   // 1: the caller sleeps on DONE (workers notify it after each task)
} as const;
const CTRL_INTS = 16;

/** A piece: [kernel index, argument count, arguments…] (a step kernel's: see SCALARS_ARG). */
export const MAX_ARGS = 16;
export const PIECE_STRIDE = 2 + MAX_ARGS;

export interface Layout {
  buffer: SharedArrayBuffer;
  ctrl: Int32Array;
  bounds: Int32Array;
  pieces: Float64Array;
  results: Float64Array;
}

/** Views of one SharedArrayBuffer: control | task bounds | pieces | results. */
export function layout(maxPieces: number, maxTasks: number, buffer?: SharedArrayBuffer): Layout {
  const boundsInts = (maxTasks + 2) & ~1;
  const piecesAt = (CTRL_INTS + boundsInts) * 4;
  const resultsAt = piecesAt + maxPieces * PIECE_STRIDE * 8;
  const bytes = resultsAt + maxPieces * 8;
  const sab = buffer ?? new SharedArrayBuffer(bytes);
  return {
    buffer: sab,
    ctrl: new Int32Array(sab, 0, CTRL_INTS),
    bounds: new Int32Array(sab, CTRL_INTS * 4, boundsInts),
    pieces: new Float64Array(sab, piecesAt, maxPieces * PIECE_STRIDE),
    results: new Float64Array(sab, resultsAt, maxPieces),
  };
}

/** The kernels threads run, by dispatch index (a piece's first number). */
export const THREAD_KERNELS = [
  "sgdStep",
  "adamStep",
  "adagradStep",
  "rmspropStep",
  "adadeltaStep",
  "adamaxStep",
  "nadamStep",
  "radamStep",
  "lionStep",
  "matmulF32",
  "sumSquares",
  "sumAbs",
  "maxAbs",
  "scaleInPlace",
  "clampInPlace",
  "batchNormStatsNchw",
  "batchNormNormalizeNchw",
  "batchNormBackwardReduceNchw",
  "batchNormBackwardDxNchw",
  "ftrlStep",
  "allFinite",
  "emaUpdate",
  "accumulateGrad",
] as const;
export type ThreadKernel = (typeof THREAD_KERNELS)[number];

/**
 * A step kernel's piece holds its integer arguments first and its scalars (see kernels.ts) from
 * this argument on; runPiece writes them to the running instance's scalar slots before the call.
 */
export const SCALARS_ARG = 8;

/** Per dispatch index: whether the kernel reads the scalar slots (the step kernels and emaUpdate). */
const READS_SCALARS: readonly boolean[] = THREAD_KERNELS.map((name) => name.endsWith("Step") || name === "emaUpdate");

/** Copies the piece's scalars (at `from`) to the instance's scalar slots. */
function setScalars(scalars: Float64Array, p: Float64Array, from: number): void {
  for (let i = 0; i < 8; i++) scalars[i] = p[from + i]!;
}

/**
 * Calls the piece at `at` with `scalars`, the running instance's scalar slots. One call site per
 * kernel, with its exact arity: each site then always calls the same wasm function, which V8
 * calls with unboxed arguments — a shared call site over many functions boxes every float
 * argument (an allocation per call).
 */
export function runPiece(kernels: Kernels, scalars: Float64Array, p: Float64Array, at: number): number {
  const k = kernels as unknown as Record<ThreadKernel, (...args: number[]) => number>;
  const a = at + 2;
  const id = p[at]!;
  if (READS_SCALARS[id]) setScalars(scalars, p, a + SCALARS_ARG);
  switch (id) {
    case 0: k.sgdStep(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!); return 0;
    case 1: k.adamStep(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!); return 0;
    case 2: k.adagradStep(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!); return 0;
    case 3: k.rmspropStep(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!); return 0;
    case 4: k.adadeltaStep(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!); return 0;
    case 5: k.adamaxStep(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!); return 0;
    case 6: k.nadamStep(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!); return 0;
    case 7: k.radamStep(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!); return 0;
    case 8: k.lionStep(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!); return 0;
    case 9: k.matmulF32(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!, p[a + 9]!, p[a + 10]!, p[a + 11]!, p[a + 12]!, p[a + 13]!, p[a + 14]!); return 0;
    case 10: return k.sumSquares(p[a]!, p[a + 1]!);
    case 11: return k.sumAbs(p[a]!, p[a + 1]!);
    case 12: return k.maxAbs(p[a]!, p[a + 1]!);
    case 13: k.scaleInPlace(p[a]!, p[a + 1]!, p[a + 2]!); return 0;
    case 14: k.clampInPlace(p[a]!, p[a + 1]!, p[a + 2]!); return 0;
    case 15: k.batchNormStatsNchw(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!); return 0;
    case 16: k.batchNormNormalizeNchw(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!); return 0;
    case 17: k.batchNormBackwardReduceNchw(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!, p[a + 9]!, p[a + 10]!, p[a + 11]!); return 0;
    case 18: k.batchNormBackwardDxNchw(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!, p[a + 9]!, p[a + 10]!, p[a + 11]!); return 0;
    case 19: k.ftrlStep(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!); return 0;
    case 20: return k.allFinite(p[a]!, p[a + 1]!);
    case 21: k.emaUpdate(p[a]!, p[a + 1]!, p[a + 2]!); return 0;
    case 22: k.accumulateGrad(p[a]!, p[a + 1]!, p[a + 2]!); return 0;
    default: throw new Error(`simdopt: internal error: no thread kernel ${id}`);
  }
}
