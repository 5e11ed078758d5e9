// matmul: C = alpha·op(A)·op(B) + beta·C (row-major float32 GEMM), on top of the wasm kernel in
// assembly/ops/matmul.ts. This file checks arguments and moves data: library views (typed
// arrays over the wasm memory, e.g. Parameter.data) are passed to the kernel by pointer, any
// other Float32Array is copied into reused scratch and the result copied back out.

import { kernels } from "../bindings/instance.js";
import { heapF32, liveF32View, Scratch, viewsOverlap, wasmOffset } from "../bindings/memory.js";
import { threadHooks } from "../threads/hooks.js";
import { checkNumber, checkOptionKeys, describe, optionalBoolean, reject } from "../checks.js";

/** Options of {@link matmul}. `m`, `k` and `n` are required. */
export interface MatmulOptions {
  /** Rows of op(A) and of C. A positive integer. */
  m: number;
  /** Columns of op(A) = rows of op(B). An integer ≥ 0 (0: the product is empty and C = beta·C). */
  k: number;
  /** Columns of op(B) and of C. A positive integer. */
  n: number;
  /** When true, `a` holds A as a k×m matrix and op(A) = Aᵀ. Default `false`. */
  transA?: boolean;
  /** When true, `b` holds B as an n×k matrix and op(B) = Bᵀ. Default `false`. */
  transB?: boolean;
  /** Scale of the product op(A)·op(B). Default `1`. */
  alpha?: number;
  /**
   * Scale of the existing contents of `out`. Default `0`: `out` is then never read, so NaN or
   * garbage there is overwritten (as in BLAS). Has no effect without `out`.
   */
  beta?: number;
  /**
   * Receives C (m×n, row-major) in place and is returned. A library view is written directly;
   * any other Float32Array is written by copy. Must not share memory with `a` or `b` unless
   * both are views of the same wasm memory (then the overlap is detected and handled).
   * Default: a new zero-initialised Float32Array of length m·n.
   */
  out?: Float32Array;
}

const scratch = new Scratch();
/** A library view (zero-copy), including one made before a memory growth; see wasmOffset. */
function isWasmView(array: Float32Array): boolean {
  return wasmOffset(array) >= 0;
}

const WHERE = "matmul: ";
const OPTION_KEYS = ["m", "k", "n", "transA", "transB", "alpha", "beta", "out"] as const;

/** Any bad size (a string or undefined included) is a RangeError, as documented; k may be 0. */
function checkSize(value: unknown, name: string, min = 1): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) reject(WHERE, name, value, min === 0 ? "an integer ≥ 0" : "a positive integer", false);
  return value as number;
}

function checkFlag(value: unknown, name: string): boolean {
  return optionalBoolean(WHERE, name, value, false);
}

function checkScalar(value: unknown, name: string, fallback: number): number {
  return value === undefined ? fallback : checkNumber(WHERE, name, value);
}

/** `shape` names the expected matrix, e.g. ["m×k", 3, 4]: the message is built only on failure. */
function checkArray(value: unknown, name: string, rows: number, cols: number, shape: string): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new TypeError(`simdopt: matmul: ${name} must be a Float32Array, got ${describe(value)}`);
  }
  if (value.length !== rows * cols) {
    throw new RangeError(`simdopt: matmul: ${name} has ${value.length} elements but ${shape} = ${rows}×${cols} needs ${rows * cols}`);
  }
  return value;
}

/** Floats rounded up to whole v128s, so every scratch region starts 16-byte aligned. */
function slots(floats: number): number {
  return (floats + 3) & ~3;
}

/**
 * General matrix multiply, C = alpha·op(A)·op(B) + beta·C, row-major float32: op(A) is m×k,
 * op(B) is k×n, C is m×n. Returns `out` when given, else a new Float32Array holding
 * alpha·op(A)·op(B). Sizes are checked before anything is written: a length that does not match
 * (a ≠ m·k, b ≠ k·n, out ≠ m·n) or a size that is not a positive integer throws `RangeError`; an
 * argument that is not a Float32Array throws `TypeError`.
 */
export function matmul(a: Float32Array, b: Float32Array, options: MatmulOptions): Float32Array {
  const wasm = kernels();
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`simdopt: matmul: options { m, k, n } are required, got ${describe(options)}`);
  }
  checkOptionKeys(options, OPTION_KEYS, "matmul options");
  const m = checkSize(options.m, "m");
  const k = checkSize(options.k, "k", 0);
  const n = checkSize(options.n, "n");
  const transA = checkFlag(options.transA, "transA");
  const transB = checkFlag(options.transB, "transB");
  const alpha = checkScalar(options.alpha, "alpha", 1);
  if (transA) checkArray(a, "a", k, m, "Aᵀ stored k×m");
  else checkArray(a, "a", m, k, "m×k");
  if (transB) checkArray(b, "b", n, k, "Bᵀ stored n×k");
  else checkArray(b, "b", k, n, "k×n");
  const out = options.out === undefined ? undefined : checkArray(options.out, "out", m, n, "m×n");
  // Without `out` there is no C to scale: beta has no effect.
  const beta = out === undefined ? 0 : checkScalar(options.beta, "beta", 0);
  if (k === 0) return emptyProduct(out, m * n, beta);

  const outDirect = out !== undefined && isWasmView(out);
  // A view input that overlaps a view `out` would be overwritten while it is still being read.
  const aDirect = isWasmView(a) && !(outDirect && viewsOverlap(a, out!));
  const bDirect = isWasmView(b) && !(outDirect && viewsOverlap(b, out!));

  const packedAFloats = transA ? slots(wasm.matmulPackedASize(m, k)) : 0;
  const packedBFloats = slots(wasm.matmulPackedBSize(k, n));
  // With threads, each share of the product packs into its own copy of the packing scratch.
  const threads = threadHooks();
  const shares = threads === null ? 1 : threads.matmulShares(m, n, k);
  const packedStride = (packedAFloats + packedBFloats) * 4;
  const aFloats = aDirect ? 0 : slots(m * k);
  const bFloats = bDirect ? 0 : slots(k * n);
  const cFloats = outDirect ? 0 : slots(m * n);
  // Read the views' offsets first: growing a non-shared memory below detaches them.
  const aOffset = wasmOffset(a);
  const bOffset = wasmOffset(b);
  const cView = outDirect ? out!.byteOffset : 0;
  // One reused block for everything; it only grows, and never on a call that fits.
  const packedA = scratch.floats(shares * (packedAFloats + packedBFloats) + aFloats + bFloats + cFloats);
  const packedB = packedA + packedAFloats * 4;
  const packedEnd = packedA + shares * packedStride;
  const aPtr = aDirect ? aOffset : packedEnd;
  const aEnd = packedEnd + aFloats * 4;
  const bPtr = bDirect ? bOffset : aEnd;
  const cPtr = outDirect ? cView : aEnd + bFloats * 4;

  const heap = heapF32();
  stageIn(heap, a, m * k, aOffset, aDirect, aPtr);
  stageIn(heap, b, k * n, bOffset, bDirect, bPtr);
  if (out !== undefined && !outDirect && beta !== 0) heap.set(out, cPtr >>> 2);

  if (shares > 1) {
    threads!.matmulSplit(wasm, aPtr, bPtr, cPtr, m, k, n, transA, transB, alpha, beta, packedA, packedB, packedStride,
      shares, wasm.relaxedBuild() === 1 ? 6 : 5);
  } else {
    wasm.matmulF32(aPtr, bPtr, cPtr, m, k, n, transA ? m : k, transB ? k : n, n, transA, transB,
      alpha, beta, packedA, packedB);
  }

  // The scratch may have grown a plain memory and detached `out`: return a live view of it.
  if (outDirect) return liveF32View(out!, cView, m * n);
  const result = heap.subarray(cPtr >>> 2, (cPtr >>> 2) + m * n);
  if (out !== undefined) {
    out.set(result);
    return out;
  }
  return result.slice();
}

/**
 * Copies an input the kernel must not read in place into scratch at `ptr`: a library view (one
 * overlapping `out`) from its offset in wasm memory — the view itself may have been detached by
 * the scratch's growth, so its `length` is passed — and any other array from itself.
 */
function stageIn(heap: Float32Array, array: Float32Array, length: number, offset: number, direct: boolean, ptr: number): void {
  if (direct) return;
  if (offset >= 0) heap.copyWithin(ptr >>> 2, offset >>> 2, (offset >>> 2) + length);
  else heap.set(array, ptr >>> 2);
}

/** k = 0: op(A)·op(B) is an m×n matrix of zeros, so C = beta·C (zeros when beta is 0, as in BLAS). */
function emptyProduct(out: Float32Array | undefined, length: number, beta: number): Float32Array {
  if (out === undefined) return new Float32Array(length);
  if (beta === 0) out.fill(0);
  else if (beta !== 1) for (let i = 0; i < length; i++) out[i] = beta * out[i]!;
  return out;
}
