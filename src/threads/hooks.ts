// The only threads module the rest of the library imports: a slot that the pool fills when
// initThreads() first loads it. Until then (and in programs that never start threads) no thread
// code is loaded — it is reached only through the dynamic import in api.ts, so it adds nothing to
// the static module graph of the entries.

import type { Kernels } from "../bindings/kernels.js";

/** How each argument of an NCHW kernel moves for a range of channels starting at c0. */
export const enum Moves {
  Keep = 0,
  /** A tensor pointer (0 stays 0): + c0·spatial floats. */
  Data = 1,
  /** A per-channel float32 array (0 stays 0): + c0 floats. */
  F32 = 2,
  /** A per-channel float64 array: + c0 doubles. */
  F64 = 3,
  /** The channel count: the range's. */
  Channels = 4,
  /** The image stride in floats (the kernels' last argument): channels·spatial of the whole. */
  Stride = 5,
}

export type NchwKernel = "batchNormStatsNchw" | "batchNormNormalizeNchw" | "batchNormBackwardReduceNchw" | "batchNormBackwardDxNchw";

/** What the split operations offer (see parallel.ts and step-batch.ts). */
export interface ThreadHooks {
  matmulShares(m: number, n: number, k: number): number;
  matmulSplit(wasm: Kernels, a: number, b: number, c: number, m: number, k: number, n: number,
    transA: boolean, transB: boolean, alpha: number, beta: number, packedA: number, packedB: number, packedStride: number,
    shares: number, rowMultiple: number): void;
  reduceEach(wasm: Kernels, kernel: "sumSquares" | "sumAbs" | "maxAbs" | "allFinite", ptrs: readonly number[], lengths: readonly number[], out: number[]): void;
  elementwiseEach(wasm: Kernels, kernel: "scaleInPlace" | "clampInPlace", ptrs: readonly number[], lengths: readonly number[], value: number): void;
  nchwSplit(wasm: Kernels, kernel: NchwKernel, args: number[], batch: number, channels: number, spatial: number): void;
  /** Threads now sharing work (1 while paused). */
  threadCount(): number;
  /** Records the step's kernels for one dispatch (see step-batch.ts); false when not worth it. */
  beginStep(elements: number): boolean;
  endStep(): void;
}

let hooks: ThreadHooks | null = null;

/** The split operations, or null while no thread code has been loaded. */
export function threadHooks(): ThreadHooks | null {
  return hooks;
}

export function installThreadHooks(installed: ThreadHooks): void {
  hooks = installed;
}
