// The splits of src/threads/parallel.ts in this process: how matmul, the reductions, scale/clamp
// and the NCHW batch-norm kernels are cut into pieces and tasks (the layout the workers would
// share), and that the pieces, run here, give the bits of one whole call. The workers are
// stand-ins (see fake-spawn.ts): the calling thread runs every task.
import { beforeAll, describe, expect, it, vi } from "vitest";

vi.mock("../../src/threads/spawn.js", () => import("./fake-spawn.js"));

import { batchNormBackward, batchNormForward, init, matmul } from "../../src/index.js";
import { F32Block } from "../../src/bindings/memory.js";
import { kernels } from "../../src/bindings/instance.js";
import { initThreads, terminateThreads } from "../../src/threads/api.js";
import { CTRL, PIECE_STRIDE } from "../../src/threads/shared.js";
import * as pool from "../../src/threads/pool.js";
import { elementwiseEach, matmulShares, matmulSplit, nchwSplit, reduceEach } from "../../src/threads/parallel.js";
import { bits, randomBlock, randomF32 } from "./in-process.js";

/** The pieces of the last batch: [kernel index, ...arguments] each, and the task bounds. */
function lastBatch(): { pieces: number[][]; bounds: number[] } {
  const { ctrl, bounds, pieces } = pool.batchArrays();
  const tasks = ctrl[CTRL.COUNT]!;
  const out: number[][] = [];
  for (let p = 0; p < bounds[tasks]!; p++) {
    const at = p * PIECE_STRIDE;
    out.push([pieces[at]!, ...pieces.subarray(at + 2, at + 2 + pieces[at + 1]!)]);
  }
  return { pieces: out, bounds: Array.from(bounds.subarray(0, tasks + 1)) };
}

/** Generations published so far: each batch bumps it once. */
const generation = () => pool.batchArrays().ctrl[CTRL.GEN]!;

const BN_SHAPES: number[][] = [[8, 37, 16, 16], [2, 3, 40, 300], [4, 13, 9, 7]];
type BnOut = Float32Array[];
function batchNormCase(shape: number[], affine: boolean, training: boolean): BnOut {
  const size = shape.reduce((x, y) => x * y);
  const C = shape[1]!;
  const x = randomF32(size, 5);
  const gamma = affine ? randomF32(C, 6) : null, beta = affine ? randomF32(C, 7) : null;
  const runningMean = randomF32(C, 8), runningVar = randomF32(C, 9).map(Math.abs);
  const f = batchNormForward(x, shape, { training, gamma, beta, runningMean, runningVar });
  const b = batchNormBackward(randomF32(size, 11), x, shape, { mean: f.mean, invStd: f.invStd, gamma, training });
  return [f.y, f.mean, f.invStd, runningMean, runningVar, b.dx, ...(b.dgamma === null ? [] : [b.dgamma, b.dbeta!])];
}
beforeAll(async () => {
  await init();
});

describe("matmul", () => {
  it("matmulShares: 1 with one thread or under 2¹⁸ multiply-adds, else two per thread, at most one per 32 of the longer side", async () => {
    expect(matmulShares(512, 512, 512)).toBe(1);
    await initThreads(3);
    expect(matmulShares(512, 512, 512)).toBe(6);
    expect(matmulShares(64, 64, 64)).toBe(2);
    expect(matmulShares(64, 64, 63)).toBe(1);
    expect(matmulShares(32, 4096, 2)).toBe(6);
    expect(matmulShares(4096, 32, 2)).toBe(6);
    expect(matmulShares(96, 95, 64)).toBe(3);
    expect(matmulShares(20, 20, 1000)).toBe(1);
    pool.pauseThreads(true);
    expect(matmulShares(512, 512, 512)).toBe(1);
    pool.pauseThreads(false);
    terminateThreads();
  });

  // [m, k, n, transA, transB, shares, rowMultiple] → the bands expected: [start, size] by columns or rows.
  const SPLITS: [number, number, number, boolean, boolean, number, number, "columns" | "rows", number[][]][] = [
    [100, 64, 300, false, false, 4, 5, "columns", [[0, 80], [80, 80], [160, 80], [240, 60]]],
    [100, 64, 300, false, true, 4, 6, "columns", [[0, 80], [80, 80], [160, 80], [240, 60]]],
    [300, 33, 100, false, false, 4, 5, "rows", [[0, 75], [75, 75], [150, 75], [225, 75]]],
    [301, 33, 127, false, true, 4, 6, "rows", [[0, 78], [78, 78], [156, 78], [234, 67]]],
    [300, 20, 200, true, false, 3, 5, "rows", [[0, 100], [100, 100], [200, 100]]],
    [200, 20, 300, true, true, 3, 5, "columns", [[0, 104], [104, 104], [208, 92]]],
    [50, 10, 64, false, false, 2, 5, "columns", [[0, 32], [32, 32]]],
    [50, 10, 63, false, false, 2, 5, "rows", [[0, 25], [25, 25]]],
    [50, 10, 64, false, false, 1, 5, "columns", []],
  ];

  it.each(SPLITS)("%i×%i×%i transA %s transB %s in %i shares (row multiple %i): by %s, each band as the whole product computes it", async (m, k, n, transA, transB, shares, rowMultiple, by, bands) => {
    await initThreads(2);
    const wasm = kernels();
    const a = randomBlock(m * k, 1), b = randomBlock(k * n, 2);
    const stride = (transA ? wasm.matmulPackedASize(m, k) : 0) + wasm.matmulPackedBSize(k, n);
    const packed = new F32Block(Math.max(1, shares) * stride + 16);
    const packedA = packed.ptr, packedB = packed.ptr + (transA ? wasm.matmulPackedASize(m, k) * 4 : 0);
    const whole = randomBlock(m * n, 3), split = randomBlock(m * n, 3);
    const lda = transA ? m : k, ldb = transB ? k : n;
    wasm.matmulF32(a.ptr, b.ptr, whole.ptr, m, k, n, lda, ldb, n, transA, transB, 0.75, 0.5, packedA, packedB);
    const before = generation();
    matmulSplit(wasm, a.ptr, b.ptr, split.ptr, m, k, n, transA, transB, 0.75, 0.5, packedA, packedB, stride * 4, shares, rowMultiple);
    expect(bits(split.view)).toEqual(bits(whole.view));
    if (bands.length === 0) {
      expect(generation()).toBe(before);
    } else {
      expect(generation()).toBe(before + 1);
      const { pieces, bounds } = lastBatch();
      expect(bounds).toEqual(bands.map((_, i) => i).concat(bands.length));
      expect(pieces).toEqual(bands.map(([start, size], i) => [pool.kernelId("matmulF32"),
        by === "rows" ? a.ptr + (transA ? start! : start! * k) * 4 : a.ptr,
        by === "rows" ? b.ptr : b.ptr + (transB ? start! * k : start!) * 4,
        split.ptr + (by === "rows" ? start! * n : start!) * 4,
        by === "rows" ? size : m, k, by === "rows" ? n : size, lda, ldb, n, transA ? 1 : 0, transB ? 1 : 0, 0.75, 0.5,
        packedA + i * stride * 4, packedB + i * stride * 4]));
    }
    for (const block of [a, b, packed, whole, split]) block.free();
    terminateThreads();
  });

  it("matmul() with threads gives the bits of one thread (overwriting and accumulating into out)", async () => {
    const cases: [number, number, number, boolean, boolean][] = [[257, 129, 131, false, false], [96, 300, 500, true, true], [513, 65, 17, true, false], [7, 1000, 1000, false, true]];
    const run = () => cases.map(([m, k, n, transA, transB]) => {
      const a = randomF32(m * k, 1), b = randomF32(k * n, 2);
      return [matmul(a, b, { m, k, n, transA, transB }), matmul(a, b, { m, k, n, transA, transB, alpha: 0.75, beta: 0.5, out: randomF32(m * n, 3) })].map(bits);
    });
    const single = run();
    await initThreads(3);
    const before = generation();
    expect(run()).toEqual(single);
    expect(generation()).toBe(before + 8);
    terminateThreads();
  });
});

describe("reductions and scale/clamp over tensors", () => {
  function blocks(lengths: number[], seed: number): F32Block[] {
    return lengths.map((length, i) => randomBlock(length, seed + i));
  }

  it.each([
    // [threads, lengths, the bounds of the tasks]
    [2, new Array<number>(40).fill(1000), [0, 5, 10, 15, 20, 25, 30, 35, 40]],
    [2, [30000, 100, 100, 5000, 5000, 7], [0, 1, 2, 3, 4, 5, 6]],
    [2, [100, 100, 100, 30000, 5000, 5000], [0, 4, 5, 6]],
    [3, [6000, 6000, 6000, 6000, 6000, 6000], [0, 1, 2, 3, 4, 5, 6]],
    [2, [1, 40000], [0, 2]],
  ])("reduceEach on %i threads: whole tensors in contiguous runs of about total / (4 · threads) elements", async (threads, lengths, bounds) => {
    await initThreads(threads);
    const wasm = kernels();
    const data = blocks(lengths, 60);
    for (const kernel of ["sumSquares", "sumAbs", "maxAbs", "allFinite"] as const) {
      const expected = data.map((b) => wasm[kernel](b.ptr, b.length));
      const out = new Array<number>(data.length).fill(-1);
      const before = generation();
      reduceEach(wasm, kernel, data.map((b) => b.ptr), lengths, out);
      expect(out).toEqual(expected);
      expect(generation()).toBe(before + 1);
      const batch = lastBatch();
      expect(batch.bounds).toEqual(bounds);
      expect(batch.pieces).toEqual(data.map((b) => [pool.kernelId(kernel), b.ptr, b.length]));
    }
    for (const block of data) block.free();
    terminateThreads();
  });

  it("reduceEach stays on the calling thread for one thread, one tensor, under 2¹⁵ elements or over MAX_PIECES tensors", async () => {
    const wasm = kernels();
    const check = (lengths: number[], split: boolean) => {
      const data = blocks(lengths, 80);
      const expected = data.map((b) => wasm.sumSquares(b.ptr, b.length));
      const out = new Array<number>(data.length).fill(-1);
      const before = generation();
      reduceEach(wasm, "sumSquares", data.map((b) => b.ptr), lengths, out);
      expect(out).toEqual(expected);
      expect(generation()).toBe(before + (split ? 1 : 0));
      for (const block of data) block.free();
    };
    await initThreads(2);
    check([40000], false);
    check([16384, 16383], false);
    check([16384, 16384], true);
    check(new Array<number>(4097).fill(8), false);
    check(new Array<number>(4096).fill(8), true);
    pool.pauseThreads(true);
    const out = [0, 0];
    const data = blocks([20000, 20000], 90);
    const before = generation();
    reduceEach(wasm, "maxAbs", data.map((b) => b.ptr), [20000, 20000], out);
    expect(generation()).toBe(before);
    expect(out).toEqual(data.map((b) => wasm.maxAbs(b.ptr, b.length)));
    pool.pauseThreads(false);
    // At most MAX_TASKS tasks, the last one taking what is left.
    await initThreads(100);
    check(new Array<number>(300).fill(200), true);
    const { bounds } = lastBatch();
    expect(bounds).toHaveLength(257);
    expect(bounds[256]).toBe(300);
    expect(bounds.every((b, i) => i === 0 || b > bounds[i - 1]!)).toBe(true);
    terminateThreads();
  });

  it("elementwiseEach cuts tensors into chunks of multiples of 16 (no sliver under 16 left), about total / (4 · threads) per task", async () => {
    await initThreads(2);
    const wasm = kernels();
    const lengths = [50000, 10, 7000, 3007];
    const data = blocks(lengths, 100), reference = blocks(lengths, 100);
    for (const kernel of ["scaleInPlace", "clampInPlace"] as const) {
      for (const b of reference) wasm[kernel](b.ptr, b.length, 0.375);
      const before = generation();
      elementwiseEach(wasm, kernel, data.map((b) => b.ptr), lengths, 0.375);
      expect(generation()).toBe(before + 1);
      for (let i = 0; i < data.length; i++) expect(bits(data[i]!.view)).toEqual(bits(reference[i]!.view));
      // 60017 elements in 8 tasks: 7504 per task (a multiple of 16).
      const id = pool.kernelId(kernel);
      const [p0, , p2, p3] = data.map((b) => b.ptr);
      expect(lastBatch()).toEqual({
        bounds: [0, 1, 2, 3, 4, 5, 6, 10, 12],
        pieces: [
          [id, p0!, 7504, 0.375], [id, p0! + 7504 * 4, 7504, 0.375], [id, p0! + 15008 * 4, 7504, 0.375], [id, p0! + 22512 * 4, 7504, 0.375],
          [id, p0! + 30016 * 4, 7504, 0.375], [id, p0! + 37520 * 4, 7504, 0.375], [id, p0! + 45024 * 4, 4976, 0.375],
          // 2528 of room left: 10, then 2512 (cut at a multiple of 16), then at least 16, which closes the task.
          [id, data[1]!.ptr, 10, 0.375], [id, p2!, 2512, 0.375], [id, p2! + 2512 * 4, 16, 0.375], [id, p2! + 2528 * 4, 4472, 0.375],
          [id, p3!, 3007, 0.375],
        ],
      });
    }
    for (const block of [...data, ...reference]) block.free();
    terminateThreads();
  });

  it("elementwiseEach runs in several batches when a list needs more than MAX_PIECES pieces, and stays here under 2¹⁵ elements", async () => {
    await initThreads(2);
    const wasm = kernels();
    const lengths = new Array<number>(5000).fill(8);
    const data = blocks(lengths, 7), reference = blocks(lengths, 7);
    for (const b of reference) wasm.scaleInPlace(b.ptr, b.length, -2.5);
    let before = generation();
    elementwiseEach(wasm, "scaleInPlace", data.map((b) => b.ptr), lengths, -2.5);
    expect(generation()).toBe(before + 2);
    for (let i = 0; i < data.length; i++) expect(bits(data[i]!.view)).toEqual(bits(reference[i]!.view));
    // The second batch: the 904 pieces left, in the tasks still open.
    const last = lastBatch();
    expect(last.pieces).toHaveLength(904);
    expect(last.pieces[903]).toEqual([pool.kernelId("scaleInPlace"), data[4999]!.ptr, 8, -2.5]);
    for (const block of [...data, ...reference]) block.free();
    const small = blocks([16384, 16383], 3), smallRef = blocks([16384, 16383], 3);
    for (const b of smallRef) wasm.clampInPlace(b.ptr, b.length, 0.5);
    before = generation();
    elementwiseEach(wasm, "clampInPlace", small.map((b) => b.ptr), [16384, 16383], 0.5);
    expect(generation()).toBe(before);
    for (let i = 0; i < 2; i++) expect(bits(small[i]!.view)).toEqual(bits(smallRef[i]!.view));
    pool.pauseThreads(true);
    const big = blocks([40000], 4), bigRef = blocks([40000], 4);
    wasm.scaleInPlace(bigRef[0]!.ptr, 40000, 3);
    elementwiseEach(wasm, "scaleInPlace", [big[0]!.ptr], [40000], 3);
    expect(generation()).toBe(before);
    expect(bits(big[0]!.view)).toEqual(bits(bigRef[0]!.view));
    pool.pauseThreads(false);
    terminateThreads();
  });
});

describe("batch norm (NCHW) over ranges of channels", () => {
  it.each(BN_SHAPES)("%i×%i×%i×%i: forward and backward, affine or not, training or not, give the bits of one thread", async (...shape) => {
    const cases = [[true, true], [true, false], [false, true], [false, false]];
    terminateThreads();
    const single = cases.map(([affine, training]) => batchNormCase(shape, affine!, training!).map(bits));
    await initThreads(3);
    expect(cases.map(([affine, training]) => batchNormCase(shape, affine!, training!).map(bits))).toEqual(single);
    terminateThreads();
  });

  it("each range moves the tensors by c0·spatial floats, float32 per-channel arrays by c0 floats (0 stays 0), float64 ones by c0 doubles", async () => {
    await initThreads(2);
    const wasm = kernels();
    // 2 × 5 channels × 4000 on two threads: up to 4 shares, of 2 channels each (the last of 1).
    const [batch, channels, spatial] = [2, 5, 4000];
    const x = randomBlock(batch * channels * spatial, 1), y = new F32Block(batch * channels * spatial);
    const mean = randomBlock(channels, 2), scale = randomBlock(channels, 3);
    const before = generation();
    nchwSplit(wasm, "batchNormNormalizeNchw", [x.ptr, y.ptr, batch, channels, spatial, mean.ptr, scale.ptr, 0, 0], batch, channels, spatial);
    expect(generation()).toBe(before + 1);
    const id = pool.kernelId("batchNormNormalizeNchw");
    const whole = channels * spatial;
    expect(lastBatch()).toEqual({
      bounds: [0, 1, 2, 3],
      pieces: [0, 2, 4].map((c0) => [id, x.ptr + c0 * spatial * 4, y.ptr + c0 * spatial * 4, batch, c0 === 4 ? 1 : 2, spatial, mean.ptr + c0 * 4, scale.ptr + c0 * 4, 0, whole]),
    });
    const m64 = new F32Block(2 * channels), m2 = new F32Block(2 * channels);
    nchwSplit(wasm, "batchNormStatsNchw", [x.ptr, batch, channels, spatial, m64.ptr, m2.ptr, 0], batch, channels, spatial);
    const stats = pool.kernelId("batchNormStatsNchw");
    expect(lastBatch().pieces).toEqual([0, 2, 4].map((c0) => [stats, x.ptr + c0 * spatial * 4, batch, c0 === 4 ? 1 : 2, spatial, m64.ptr + c0 * 8, m2.ptr + c0 * 8, whole]));
    for (const block of [x, y, mean, scale, m64, m2]) block.free();
    terminateThreads();
  });
});
