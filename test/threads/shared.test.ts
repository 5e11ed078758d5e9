// The shared block's layout and the call of one piece (src/threads/shared.ts); every kernel's
// piece is run against the whole call in parallel.test.ts and step-batch.test.ts.
import { beforeAll, describe, expect, it } from "vitest";
import { init } from "../../src/index.js";
import { kernels } from "../../src/bindings/instance.js";
import { stepScalars } from "../../src/bindings/memory.js";
import { CTRL, MAX_ARGS, PIECE_STRIDE, SCALARS_ARG, THREAD_KERNELS, layout, runPiece } from "../../src/threads/shared.js";

beforeAll(async () => {
  await init();
});

describe("layout", () => {
  it("control (16 ints) | task bounds (maxTasks + 1, rounded up to even) | pieces | results, in one buffer", () => {
    for (const [pieces, tasks, boundsInts] of [[4096, 256, 258], [10, 3, 4], [7, 4, 6]] as const) {
      const l = layout(pieces, tasks);
      const piecesAt = (16 + boundsInts) * 4;
      expect(l.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(l.buffer.byteLength).toBe(piecesAt + pieces * PIECE_STRIDE * 8 + pieces * 8);
      expect([l.ctrl.byteOffset, l.ctrl.length]).toEqual([0, 16]);
      expect([l.bounds.byteOffset, l.bounds.length]).toEqual([64, boundsInts]);
      expect([l.pieces.byteOffset, l.pieces.length]).toEqual([piecesAt, pieces * PIECE_STRIDE]);
      expect([l.results.byteOffset, l.results.length]).toEqual([piecesAt + pieces * PIECE_STRIDE * 8, pieces]);
      for (const view of [l.ctrl, l.bounds, l.pieces, l.results]) expect(view.buffer).toBe(l.buffer);
      // Another thread's views over the same buffer.
      const again = layout(pieces, tasks, l.buffer);
      expect(again.buffer).toBe(l.buffer);
      l.results[pieces - 1] = 2.5;
      expect(again.results[pieces - 1]).toBe(2.5);
    }
  });

  it("control slots, piece size and kernel order are those every thread agrees on", () => {
    expect(CTRL).toEqual({ GEN: 0, NEXT: 1, COUNT: 2, DONE: 3, SLEEPERS: 4, STOP: 5, ERROR: 6, WORKER_TASKS: 7, WAITING: 8 });
    expect([MAX_ARGS, PIECE_STRIDE, SCALARS_ARG]).toEqual([16, 18, 8]);
    expect(THREAD_KERNELS).toHaveLength(23);
    for (const name of THREAD_KERNELS) expect(typeof kernels()[name]).toBe("function");
  });
});

describe("runPiece", () => {
  it("returns a reduction's value, 0 for the others, and throws on an unknown kernel index", () => {
    const pieces = new Float64Array(2 * PIECE_STRIDE);
    pieces.set([THREAD_KERNELS.indexOf("allFinite"), 2, 0, 0]);
    expect(runPiece(kernels(), stepScalars(), pieces, 0)).toBe(1);
    pieces.set([23, 0], PIECE_STRIDE);
    expect(() => runPiece(kernels(), stepScalars(), pieces, PIECE_STRIDE)).toThrow(new Error("simdopt: internal error: no thread kernel 23"));
  });

  it("a step kernel's or EMA's piece writes its scalars to the slots first; a reduction's leaves them alone", () => {
    const scalars = new Float64Array(8).fill(-1);
    const pieces = new Float64Array(PIECE_STRIDE);
    pieces.set([THREAD_KERNELS.indexOf("emaUpdate"), 3, 0, 0, 0]);
    pieces.set([1, 2, 3, 4, 5, 6, 7, 8], 2 + SCALARS_ARG);
    expect(runPiece(kernels(), scalars, pieces, 0)).toBe(0);
    expect(Array.from(scalars)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const name of ["sgdStep", "ftrlStep", "lionStep"] as const) {
      scalars.fill(-1);
      pieces.fill(0);
      pieces.set([THREAD_KERNELS.indexOf(name), 5]);
      pieces.set([8, 7, 6, 5, 4, 3, 2, 1], 2 + SCALARS_ARG);
      runPiece(kernels(), scalars, pieces, 0);
      expect(Array.from(scalars)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    }
    scalars.fill(-1);
    pieces.fill(0);
    pieces.set([THREAD_KERNELS.indexOf("sumSquares"), 2]);
    pieces.set([8, 7, 6, 5, 4, 3, 2, 1], 2 + SCALARS_ARG);
    expect(runPiece(kernels(), scalars, pieces, 0)).toBe(0);
    expect(Array.from(scalars)).toEqual(new Array(8).fill(-1));
  });
});
