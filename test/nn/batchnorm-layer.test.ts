// The BatchNorm layer's own checks by exact message (constructor options, forward/backward use,
// use after dispose), its parameter names, and its mode logic (which statistics a forward uses
// and updates) against hand-computed values.

import { beforeAll, describe, expect, it, vi } from "vitest";
import { BatchNorm, init } from "../../src/index.js";
import { allocatedBytes } from "../../src/bindings/memory.js";

beforeAll(async () => {
  await init();
});

describe("BatchNorm constructor", () => {
  it.each<[string, () => unknown, Error]>([
    ["numFeatures 0", () => new BatchNorm(0), new RangeError("simdopt: BatchNorm: numFeatures must be a finite integer ≥ 1, got 0")],
    ["numFeatures 1.5", () => new BatchNorm(1.5), new RangeError("simdopt: BatchNorm: numFeatures must be a finite integer ≥ 1, got 1.5")],
    ["eps -1", () => new BatchNorm(2, { eps: -1 }), new RangeError("simdopt: BatchNorm: eps must be a finite number ≥ 0, got -1")],
    ["momentum NaN", () => new BatchNorm(2, { momentum: NaN }), new TypeError("simdopt: BatchNorm: momentum must be a finite number, got NaN")],
    ["momentum Infinity", () => new BatchNorm(2, { momentum: Infinity }), new RangeError("simdopt: BatchNorm: momentum must be a finite number, got Infinity")],
    ["affine 1", () => new BatchNorm(2, { affine: 1 as never }), new TypeError("simdopt: BatchNorm: affine must be a boolean (true or false), got 1")],
    ["trackRunningStats null", () => new BatchNorm(2, { trackRunningStats: null as never }), new TypeError("simdopt: BatchNorm: trackRunningStats must be a boolean (true or false), got null")],
    ["layout NWHC", () => new BatchNorm(2, { layout: "NWHC" as never }), new RangeError('simdopt: BatchNorm: layout must be one of "NCHW", "NHWC", got "NWHC" (string)')],
    ["name 3", () => new BatchNorm(2, { name: 3 as never }), new TypeError("simdopt: BatchNorm: name must be a string, got 3")],
    ["an unknown option", () => new BatchNorm(2, { afine: true } as never), new TypeError('simdopt: BatchNorm has no option "afine"; did you mean "affine"? (options: eps, momentum, affine, trackRunningStats, layout, name)')],
  ])("%s", (_, make, error) => {
    const before = allocatedBytes();
    expect(make).toThrow(error);
    expect(allocatedBytes()).toBe(before);
  });

  it("defaults, names and the initial state", () => {
    const bn = new BatchNorm(3);
    expect([bn.eps, bn.momentum, bn.affine, bn.trackRunningStats, bn.layout, bn.training, bn.numBatchesTracked]).toEqual([1e-5, 0.1, true, true, "NCHW", true, 0]);
    expect(bn.weight!.name).toBe("batchNorm.weight");
    expect(bn.bias!.name).toBe("batchNorm.bias");
    expect([...bn.weight!.data, ...bn.bias!.data]).toEqual([1, 1, 1, 0, 0, 0]);
    expect([...bn.runningMean!, ...bn.runningVar!]).toEqual([0, 0, 0, 1, 1, 1]);
    bn.dispose();
    const named = new BatchNorm(1, { name: "bn1", affine: false, trackRunningStats: false, momentum: null });
    expect([named.weight, named.bias, named.runningMean, named.runningVar, named.momentum]).toEqual([null, null, null, null, null]);
    named.dispose();
  });
});

describe("BatchNorm forward/backward", () => {
  // One channel, values 1 and 3 (NC, N = 2): batch mean 2, biased variance 1, unbiased 2.
  const x = Float32Array.of(1, 3);

  it("training updates the running statistics with momentum; null momentum averages cumulatively", () => {
    const bn = new BatchNorm(1, { eps: 0 });
    expect([...bn.forward(x, [2, 1])]).toEqual([-1, 1]);
    expect(bn.numBatchesTracked).toBe(1);
    expect([...bn.runningMean!, ...bn.runningVar!]).toEqual([Math.fround(0.2), Math.fround(0.9 + 0.2)]);
    bn.momentum = null;
    bn.resetRunningStats();
    expect([...bn.runningMean!, ...bn.runningVar!, bn.numBatchesTracked]).toEqual([0, 1, 0]);
    bn.forward(x, [2, 1]);
    // 1/(numBatchesTracked + 1) = 1: the batch statistics themselves.
    expect([...bn.runningMean!, ...bn.runningVar!]).toEqual([2, 2]);
    bn.forward(Float32Array.of(3, 5), [2, 1]);
    // Then ½: the average of the two batches.
    expect([...bn.runningMean!, ...bn.runningVar!]).toEqual([3, 2]);
    expect(bn.numBatchesTracked).toBe(2);
    bn.dispose();
  });

  it("eval uses the running statistics and updates nothing; without running stats eval uses the batch", () => {
    const bn = new BatchNorm(1, { eps: 0 });
    bn.training = false;
    expect([...bn.forward(x, [2, 1])]).toEqual([1, 3]);
    expect([...bn.runningMean!, ...bn.runningVar!, bn.numBatchesTracked]).toEqual([0, 1, 0]);
    bn.momentum = null;
    expect([...bn.forward(x, [2, 1])]).toEqual([1, 3]);
    expect([...bn.backward(Float32Array.of(1, 1))]).toEqual([1, 1]);
    expect([...bn.weight!.grad, ...bn.bias!.grad]).toEqual([4, 2]);
    bn.dispose();
    const untracked = new BatchNorm(1, { eps: 0, trackRunningStats: false });
    untracked.training = false;
    expect([...untracked.forward(x, [2, 1])]).toEqual([-1, 1]);
    expect(untracked.numBatchesTracked).toBe(0);
    // Batch statistics were used: dx of a constant dy is 0.
    expect([...untracked.backward(Float32Array.of(1, 1))]).toEqual([0, 0]);
    untracked.dispose();
  });

  it("refuses bad calls by exact message", () => {
    const bn = new BatchNorm(2);
    expect(() => bn.backward(new Float32Array(4))).toThrow(new Error("simdopt: BatchNorm.backward: call forward first"));
    expect(() => bn.forward([1, 2, 3, 4] as never, [2, 2])).toThrow(new TypeError("simdopt: BatchNorm.forward: x must be a Float32Array, got [1, 2, 3, 4]"));
    expect(() => bn.forward(new Float32Array(6), [2, 3])).toThrow(new RangeError("simdopt: BatchNorm.forward: shape [2, 3] has 3 channels, the layer has 2"));
    expect(() => bn.forward(new Float32Array(4), [2, 2], { outt: null } as never)).toThrow(
      new TypeError('simdopt: BatchNorm.forward has no option "outt"; did you mean "out"? (options: out)'));
    expect(() => bn.forward(new Float32Array(4), [4])).toThrow(
      new RangeError("simdopt: BatchNorm.forward: shape must have at least 2 dimensions ([N, C, ...] or [N, ..., C]), got [4]"));
    expect(() => bn.forward(new Float32Array(4), [2, 3])).toThrow(new RangeError("simdopt: BatchNorm.forward: x has 4 elements but shape [2, 3] needs 6"));
    bn.forward(Float32Array.of(1, 2, 3, 4), [2, 2]);
    expect(() => bn.backward(new Float32Array(4), { ou: null } as never)).toThrow(
      new TypeError('simdopt: BatchNorm.backward has no option "ou"; did you mean "out"? (options: out)'));
    bn.dispose();
    bn.dispose();
    const gone = new TypeError("simdopt: BatchNorm has been disposed");
    expect(() => bn.runningMean).toThrow(gone);
    expect(() => bn.runningVar).toThrow(gone);
    expect(() => bn.forward(new Float32Array(4), [2, 2])).toThrow(gone);
    expect(() => bn.backward(new Float32Array(4))).toThrow(gone);
    expect(() => bn.resetRunningStats()).toThrow(gone);
  });
});

describe("BatchNorm before init", () => {
  it("says to call init(), allocating nothing", async () => {
    vi.resetModules();
    const fresh = await import("../../src/index.js");
    expect(() => new fresh.BatchNorm(2, { affine: false })).toThrow(new Error("simdopt: the WebAssembly module is not loaded; call `await init()` (or `initSync()`) first"));
  });
});
