// Without shared memory (a page that is not cross-origin isolated) growth detaches every view of
// a plain WebAssembly.Memory. Results must still come back in live views, and BatchNorm.backward
// must find its saved x after allocations grew the memory since forward.
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

type Library = typeof import("../../src/index.js");
type Memory = typeof import("../../src/bindings/memory.js");
let library: Library;
let memory: Memory;

// A fresh library with a 1 MiB memory for each test keeps the sizes that force growth small.
beforeEach(async () => {
  vi.resetModules();
  library = (await import("../../src/index.js")) as Library;
  memory = (await import("../../src/bindings/memory.js")) as Memory;
  const Original = WebAssembly.Memory;
  // As in a runtime without shared memory: constructing one throws.
  const spy = vi.spyOn(WebAssembly, "Memory").mockImplementation(function (descriptor: WebAssembly.MemoryDescriptor) {
    if (descriptor.shared) throw new TypeError("shared memory is not available");
    return new Original(descriptor);
  } as never);
  await library.init(undefined, { initialMemoryMiB: 1 });
  spy.mockRestore();
  expect(library.features().threads).toBe(false);
  expect(memory.memoryIsShared()).toBe(false);
});

afterAll(() => {
  vi.resetModules();
});

function values(seed: number, length: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(seed + i * 0.37) * 2);
}

/** Floats that surely exceed the free room of the memory after the next allocation grows it. */
function beyondFreeRoom(): number {
  return memory.currentBuffer().byteLength / 4 + 2 ** 18;
}

/** Index of the first element where x and y differ (or their lengths), −1 when equal: no huge diffs printed. */
function firstDifference(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) return -2;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

/** Runs `call`, asserting that it grew (and so detached) the memory. */
function growing<T>(call: () => T): T {
  const before = memory.currentBuffer();
  const result = call();
  expect(memory.currentBuffer()).not.toBe(before);
  expect(before.byteLength).toBe(0); // detached
  return result;
}

describe("plain memory: results are live views after growth", () => {
  it("matmul(..., { out: p.data }) whose scratch grows the memory returns a live view holding C", () => {
    const m = 8, n = 8;
    const k = Math.ceil(beyondFreeRoom() / (m + n));
    const a = values(1, m * k);
    const b = values(2, k * n);
    const p = library.parameter([m, n]);
    const result = growing(() => library.matmul(a, b, { m, k, n, out: p.data }));
    expect(result.length).toBe(m * n);
    const got = result.slice(); // the reference call below may grow the memory again
    const expected = library.matmul(a, b, { m, k, n });
    expect(firstDifference(got, expected)).toBe(-1);
    expect(firstDifference(p.data, expected)).toBe(-1);
    p.dispose();
  });

  it("matmul with an input view overlapping out is staged from its offset after growth", () => {
    const m = 4, n = 4;
    const k = Math.ceil(beyondFreeRoom() / m);
    const host = library.parameter([m * k + m * n]);
    host.data.set(values(3, m * k), 0);
    const aCopy = host.data.slice(0, m * k);
    const b = values(4, k * n);
    // out overlaps the last floats of a.
    const out = host.data.subarray(m * k - 2, m * k - 2 + m * n);
    const result = growing(() => library.matmul(host.data.subarray(0, m * k), b, { m, k, n, out }));
    expect(result.length).toBe(m * n);
    const got = result.slice();
    const expected = library.matmul(aCopy, b, { m, k, n });
    expect(firstDifference(got, expected)).toBe(-1);
    expect(firstDifference(host.data.subarray(m * k - 2, m * k - 2 + m * n), expected)).toBe(-1);
    host.dispose();
  });

  it("batch norm running statistics (views) overlapping x are staged from, and written back to, their offsets after growth", () => {
    const C = 4;
    const N = Math.ceil(beyondFreeRoom() / C);
    const L = N * C;
    const host = library.parameter([L + C]);
    host.data.set(values(7, L), 0);
    // runningMean's first two floats are x's last two.
    host.data.set([0.5, -0.5, 1, 2], L - 2);
    const x = host.data.slice(0, L);
    const runningVar = Float32Array.of(1, 2, 3, 4);
    const expectedMean = Float32Array.of(0.5, -0.5, 1, 2);
    const expectedVar = runningVar.slice();
    const result = growing(() => library.batchNormForward(host.data.subarray(0, L), [N, C], { runningMean: host.data.subarray(L - 2, L - 2 + C), runningVar }));
    // After the call under test: the reference's own scratch would grow the memory first.
    const reference = library.batchNormForward(x, [N, C], { runningMean: expectedMean, runningVar: expectedVar });
    expect(firstDifference(result.y, reference.y)).toBe(-1);
    expect(firstDifference(host.data.subarray(L - 2, L - 2 + C), expectedMean)).toBe(-1);
    expect(firstDifference(runningVar, expectedVar)).toBe(-1);
    host.dispose();
  });

  it("with x a library view that growth detaches, y and dx (no out) still hold every element", () => {
    const C = 4;
    const N = Math.ceil(beyondFreeRoom() / C);
    const host = library.parameter([N, C], { init: values(8, N * C) });
    const x = host.data.slice();
    const forward = growing(() => library.batchNormForward(host.data, [N, C]));
    expect(forward.y.length).toBe(N * C);
    expect(firstDifference(forward.y, library.batchNormForward(x, [N, C]).y)).toBe(-1);
    const dy = values(9, N * C);
    const options = { mean: forward.mean, invStd: forward.invStd };
    const backward = growing(() => library.batchNormBackward(dy, library.parameter([N, C], { init: x }).data, [N, C], options));
    expect(backward.dx.length).toBe(N * C);
    expect(firstDifference(backward.dx, library.batchNormBackward(dy, x, [N, C], options).dx)).toBe(-1);
    host.dispose();
  });

  it("batchNormForward(..., { out }) and batchNormBackward(..., { out }) return live views after growth", () => {
    const C = 4;
    let N = Math.ceil(beyondFreeRoom() / C);
    let x = values(5, N * C);
    const y = library.parameter([N, C]);
    const forward = growing(() => library.batchNormForward(x, [N, C], { out: y.data }));
    expect(forward.y.length).toBe(N * C);
    const gotY = forward.y.slice();
    const reference = library.batchNormForward(x, [N, C]);
    expect(firstDifference(gotY, reference.y)).toBe(-1);
    y.dispose();

    N = Math.ceil(beyondFreeRoom() / C);
    x = values(5, N * C);
    const dy = values(6, N * C);
    const statistics = library.batchNormForward(x.subarray(0, 2 * C), [2, C]);
    const dx = library.parameter([N, C]);
    const backward = growing(() => library.batchNormBackward(dy, x, [N, C], { mean: statistics.mean, invStd: statistics.invStd, out: dx.data }));
    expect(backward.dx.length).toBe(N * C);
    const gotDx = backward.dx.slice();
    const dxReference = library.batchNormBackward(dy, x, [N, C], { mean: statistics.mean, invStd: statistics.invStd });
    expect(firstDifference(gotDx, dxReference.dx)).toBe(-1);
    expect(firstDifference(dx.data, dxReference.dx)).toBe(-1);
    dx.dispose();
  });

  it("BatchNorm.backward works after an allocation grew the memory since forward", () => {
    const C = 3, N = 16;
    const input = library.parameter([N, C], { init: Array.from(values(7, N * C)) });
    const layer = new library.BatchNorm(C);
    const twin = new library.BatchNorm(C);
    const y = layer.forward(input.data, [N, C]);
    const yTwin = twin.forward(Float32Array.from(input.data), [N, C]);
    expect(firstDifference(y, yTwin)).toBe(-1);
    // Grow the memory: every view made so far detaches.
    const big = growing(() => library.parameter([beyondFreeRoom()]));
    const dy = values(8, N * C);
    const dx = layer.backward(dy);
    const dxTwin = twin.backward(Float32Array.from(dy));
    expect(dx.length).toBe(N * C);
    expect(firstDifference(dx, dxTwin)).toBe(-1);
    expect(firstDifference(layer.weight!.grad, twin.weight!.grad)).toBe(-1);
    big.dispose();
    layer.dispose();
    twin.dispose();
    input.dispose();
  });
});
