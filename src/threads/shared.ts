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
} as const;
const CTRL_INTS = 16;

/** A piece: [kernel index, argument count, arguments…]. */
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

/**
 * Calls the piece at `at`. Explicit arities: a call with exactly the function's parameter count
 * takes V8's fast JS-to-wasm path, and spreading an array would allocate.
 */
export function runPiece(table: readonly Function[], p: Float64Array, at: number): number {
  const f = table[p[at]!]! as (...args: number[]) => number | undefined;
  const a = at + 2;
  let r: number | undefined;
  switch (p[at + 1]) {
    case 2: r = f(p[a]!, p[a + 1]!); break;
    case 3: r = f(p[a]!, p[a + 1]!, p[a + 2]!); break;
    case 4: r = f(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!); break;
    case 8: r = f(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!); break;
    case 9: r = f(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!); break;
    case 10: r = f(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!, p[a + 9]!); break;
    case 11: r = f(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!, p[a + 9]!, p[a + 10]!); break;
    case 12: r = f(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!, p[a + 9]!, p[a + 10]!, p[a + 11]!); break;
    case 13: r = f(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!, p[a + 9]!, p[a + 10]!, p[a + 11]!, p[a + 12]!); break;
    case 14: r = f(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!, p[a + 9]!, p[a + 10]!, p[a + 11]!, p[a + 12]!, p[a + 13]!); break;
    case 15: r = f(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!, p[a + 9]!, p[a + 10]!, p[a + 11]!, p[a + 12]!, p[a + 13]!, p[a + 14]!); break;
    default: r = f(p[a]!, p[a + 1]!, p[a + 2]!, p[a + 3]!, p[a + 4]!, p[a + 5]!, p[a + 6]!, p[a + 7]!, p[a + 8]!, p[a + 9]!, p[a + 10]!, p[a + 11]!, p[a + 12]!, p[a + 13]!, p[a + 14]!, p[a + 15]!);
  }
  return typeof r === "number" ? r : 0;
}
