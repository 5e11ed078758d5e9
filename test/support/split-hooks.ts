// Thread hooks for in-process tests of the callers of a GEMM split (matmul, Muon): the shares are
// chosen by the test, and matmulSplit runs the pieces one after another on this thread, cut as
// src/threads/parallel.ts cuts them, each packing into its own space. Before the pieces run, the
// whole packing space the caller offered is filled with NaN, as the other threads' packing would
// overwrite it meanwhile: space that overlaps the caller's matrices (or lies outside its scratch)
// then shows up in the results.
import type { Kernels } from "../../src/bindings/kernels.js";
import { heapF32 } from "../../src/bindings/memory.js";
import { installThreadHooks, type ThreadHooks } from "../../src/threads/hooks.js";

export interface SplitCall {
  m: number; k: number; n: number; transA: boolean; transB: boolean;
  shares: number; rowMultiple: number; packedA: number; packedB: number; packedStride: number;
}

const unused = (): never => {
  throw new Error("split-hooks: only the GEMM split is provided");
};

/** Installs the hooks; returns the calls matmulSplit receives. Remove with `removeSplitHooks()`. */
export function installSplitHooks(sharesFor: (m: number, n: number, k: number) => number): SplitCall[] {
  const calls: SplitCall[] = [];
  const hooks: ThreadHooks = {
    matmulShares: sharesFor,
    matmulSplit(wasm: Kernels, a, b, c, m, k, n, transA, transB, alpha, beta, packedA, packedB, packedStride, shares, rowMultiple) {
      calls.push({ m, k, n, transA, transB, shares, rowMultiple, packedA, packedB, packedStride });
      heapF32().fill(Number.NaN, packedA >>> 2, (packedA + shares * packedStride) >>> 2);
      const lda = transA ? m : k;
      const ldb = transB ? k : n;
      const byRows = transA ? m >= n : n < 32 * shares;
      const total = byRows ? m : n;
      const multiple = byRows ? rowMultiple : 8;
      const band = Math.ceil(Math.ceil(total / shares) / multiple) * multiple;
      for (let start = 0, piece = 0; start < total; start += band, piece++) {
        const size = Math.min(band, total - start);
        const scratch = piece * packedStride;
        if (byRows) {
          wasm.matmulF32(a + (transA ? start : start * k) * 4, b, c + start * n * 4, size, k, n, lda, ldb, n, transA, transB, alpha, beta, packedA + scratch, packedB + scratch);
        } else {
          wasm.matmulF32(a, b + (transB ? start * k : start) * 4, c + start * 4, m, k, size, lda, ldb, n, transA, transB, alpha, beta, packedA + scratch, packedB + scratch);
        }
      }
    },
    reduceEach: unused,
    elementwiseEach: unused,
    nchwSplit: unused,
    // One thread: steps are not recorded for a batched dispatch, GEMMs still ask for shares.
    threadCount: () => 1,
    beginStep: () => false,
    endStep: unused,
  };
  installThreadHooks(hooks);
  return calls;
}

export function removeSplitHooks(): void {
  installThreadHooks(null as unknown as ThreadHooks);
}
