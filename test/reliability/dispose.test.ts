// dispose(): later use throws; zeroGrad checks every parameter before zeroing any; optimizers
// and parameters dropped without dispose() have their wasm memory reclaimed by the collector.
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { collectUntil, gc } from "../support/collect.js";
import { Adam, init, parameter, SGD } from "../../src/index.js";
import { allocatedBytes, currentBuffer } from "../../src/bindings/memory.js";

beforeAll(async () => {
  await init();
});

/** Collects until nothing more is reclaimed (garbage of earlier tests), then returns allocatedBytes(). */
async function settledBytes(): Promise<number> {
  let last = -1;
  for (let attempt = 0; attempt < 50 && allocatedBytes() !== last; attempt++) {
    last = allocatedBytes();
    gc();
    await sleep(5);
  }
  return allocatedBytes();
}

describe("dispose()", () => {
  it("step(), zeroGrad(), stateDict() and loadStateDict() after dispose() throw; dispose() twice does nothing", () => {
    const p = parameter([4], { init: [1, 2, 3, 4] });
    p.grad.fill(1);
    const optimizer = new Adam([p], { lr: 0.1 });
    optimizer.step();
    const saved = optimizer.stateDict();
    const bytes = allocatedBytes();
    optimizer.dispose();
    expect(allocatedBytes()).toBe(bytes - 2 * 16); // two moments of 4 floats
    const data = [...p.data];
    expect(() => optimizer.step()).toThrow(/Adam\.step\(\) after dispose\(\)/);
    expect(() => optimizer.zeroGrad()).toThrow(/Adam\.zeroGrad\(\) after dispose\(\)/);
    expect(() => optimizer.stateDict()).toThrow(/Adam\.stateDict\(\) after dispose\(\)/);
    expect(() => optimizer.loadStateDict(saved)).toThrow(/Adam\.loadStateDict\(\) after dispose\(\)/);
    expect([...p.data]).toEqual(data);
    expect([...p.grad]).toEqual([1, 1, 1, 1]);
    optimizer.dispose();
    expect(allocatedBytes()).toBe(bytes - 2 * 16);
  });

  it("zeroGrad() with a disposed parameter zeroes nothing and throws", () => {
    const first = parameter([3]);
    const disposed = parameter([3]);
    const last = parameter([3]);
    for (const p of [first, disposed, last]) p.grad.fill(2);
    const optimizer = new SGD([{ params: [first] }, { params: [disposed, last] }], { lr: 1 });
    disposed.dispose();
    expect(() => optimizer.zeroGrad()).toThrow(/has been disposed/);
    expect([...first.grad, ...last.grad]).toEqual([2, 2, 2, 2, 2, 2]);
  });
});

describe("memory of dropped objects is reclaimed", () => {
  it("300 Adam optimizers dropped without dispose() give their state back", async () => {
    const p = parameter([100_000]);
    p.grad.fill(1e-3);
    const baseline = await settledBytes();
    const makeAndDrop = () => {
      for (let i = 0; i < 300; i++) new Adam([p]).step();
    };
    makeAndDrop();
    expect(allocatedBytes()).toBeGreaterThan(baseline);
    expect(await collectUntil(() => allocatedBytes() === baseline)).toBe(true);
    // The freed bytes are reused: another round does not grow the memory.
    const size = currentBuffer().byteLength;
    makeAndDrop();
    expect(await collectUntil(() => allocatedBytes() === baseline)).toBe(true);
    expect(currentBuffer().byteLength).toBe(size);
    p.dispose();
  });

  it("a dropped Parameter is reclaimed, but not while a view it returned is still held", async () => {
    const baseline = await settledBytes();
    let held: Float32Array | null = ((): Float32Array => {
      const p = parameter([1000], { init: "ones" });
      return p.data;
    })();
    // The gradient view was never taken: its block goes; the data block stays for `held`.
    expect(await collectUntil(() => allocatedBytes() === baseline + 4000)).toBe(true);
    expect(held.length).toBe(1000);
    expect(held.every((value) => value === 1)).toBe(true);
    // New allocations do not land on the held view's bytes.
    const other = parameter([1000], { init: "zeros" });
    expect(held.every((value) => value === 1)).toBe(true);
    other.dispose();
    held = null;
    expect(await collectUntil(() => allocatedBytes() === baseline)).toBe(true);
  });
});
