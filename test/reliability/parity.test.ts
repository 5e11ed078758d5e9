// PyTorch parity at the edges: an infinite clipping bound measures without clipping, and a GEMM
// with an empty inner dimension gives beta·C.
import { beforeAll, describe, expect, it } from "vitest";
import { clipGradNorm, clipGradValue, init, matmul, parameter } from "../../src/index.js";

beforeAll(async () => {
  await init();
});

describe("clipping with an infinite bound", () => {
  it("clipGradNorm(ps, Infinity) returns the total norm and leaves the gradients exactly as they were", () => {
    const p = parameter([3]);
    const q = parameter([2]);
    p.grad.set([3, -4, 12]);
    q.grad.set([1e30, -2e-30]);
    const before = [...p.grad, ...q.grad];
    expect(clipGradNorm([p], Infinity)).toBe(13);
    expect(clipGradNorm([p], Infinity, 1)).toBe(19);
    expect(clipGradNorm([p, q], Infinity, Infinity)).toBe(Math.fround(1e30));
    expect(clipGradNorm([p, q], Infinity)).toBeCloseTo(Math.fround(1e30), -24);
    expect([...p.grad, ...q.grad]).toEqual(before);
    // Measuring never scales, not even an infinite or NaN norm.
    q.grad[0] = Infinity;
    expect(clipGradNorm([p, q], Infinity)).toBe(Infinity);
    q.grad[1] = NaN;
    expect(clipGradNorm([p, q], Infinity, 1)).toBeNaN();
    expect([...p.grad]).toEqual(before.slice(0, 3));
    expect(q.grad[0]).toBe(Infinity);
    expect(() => clipGradNorm([p, q], Infinity, 2, { errorIfNonfinite: true })).toThrow(/non-finite/);
  });

  it("clipGradValue(ps, Infinity) changes nothing, infinities and NaN included", () => {
    const p = parameter([5]);
    p.grad.set([Infinity, -Infinity, NaN, 3.5e38, -1]);
    const before = [...p.grad];
    clipGradValue([p], Infinity);
    expect([...p.grad]).toEqual(before);
  });

  it("negative and NaN bounds still throw RangeError", () => {
    const p = parameter([1]);
    expect(() => clipGradNorm(p, -Infinity)).toThrow(/maxNorm must be a number ≥ 0 or Infinity, got -Infinity/);
    expect(() => clipGradValue(p, NaN)).toThrow(/clipValue must be a number ≥ 0 or Infinity, got NaN/);
  });
});

describe("matmul with k = 0", () => {
  const empty = new Float32Array(0);
  it("without out: an m×n matrix of zeros, whatever alpha", () => {
    for (const alpha of [1, 2, -1e30]) {
      const c = matmul(empty, empty, { m: 2, k: 0, n: 3, alpha });
      expect(c).toBeInstanceOf(Float32Array);
      expect([...c]).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });

  it("with out: beta·C, zeros (NaN overwritten) with beta 0, for plain arrays and library views", () => {
    const plain = new Float32Array([1, NaN, -3, 4]);
    expect(matmul(empty, empty, { m: 2, k: 0, n: 2, out: plain, alpha: 5 })).toBe(plain);
    expect([...plain]).toEqual([0, 0, 0, 0]);
    const p = parameter([2, 2], { init: [1, -2, 3, 0.5] });
    const result = matmul(empty, empty, { m: 2, k: 0, n: 2, out: p.data, beta: 0.5, transA: true, transB: true });
    expect([...result]).toEqual([0.5, -1, 1.5, 0.25]);
    expect([...p.data]).toEqual([0.5, -1, 1.5, 0.25]);
    matmul(empty, empty, { m: 2, k: 0, n: 2, out: p.data, beta: 1 });
    expect([...p.data]).toEqual([0.5, -1, 1.5, 0.25]);
  });

  it("a and b must then be empty; m and n must still be positive", () => {
    expect(() => matmul(new Float32Array(2), empty, { m: 2, k: 0, n: 2 })).toThrow(/\ba has 2 elements/);
    expect(() => matmul(empty, empty, { m: 0, k: 0, n: 2 })).toThrow(/m must be a positive integer/);
    expect(() => matmul(empty, empty, { m: 2, k: -1, n: 2 })).toThrow(/k must be an integer ≥ 0, got -1/);
  });
});
