// Blocks reclaimed by the garbage collector (src/bindings/memory.ts), over a stand-in memory
// (test/support/fake-memory.ts): a view re-made after a plain memory grew keeps its block.
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { collectUntil, gc } from "../support/collect.js";
import { attached, PAGE } from "../support/fake-memory.js";

afterEach(() => {
  vi.resetModules();
});

describe("reclaiming dropped blocks", () => {
  it("a view re-made after a plain memory grew keeps the block allocated until it too is dropped", async () => {
    const { m } = await attached(1);
    const fence = m.allocate(16);
    let held: Float32Array | null = ((): Float32Array => {
      const block = new m.F32Block(4);
      block.view.fill(3);
      m.allocate(PAGE); // grows: the next .view is a new array over the new buffer
      return block.view;
    })();
    const withBlock = m.allocatedBytes();
    expect(withBlock).toBe(16 + 16 + PAGE);
    // The block object and its first view are garbage now; the re-made view is not.
    for (let i = 0; i < 5; i++) {
      gc();
      await sleep(5);
    }
    expect(m.allocatedBytes()).toBe(withBlock);
    expect(Array.from(held)).toEqual([3, 3, 3, 3]);
    expect(fence).toBe(16);
    held = null;
    expect(await collectUntil(() => m.allocatedBytes() === withBlock - 16)).toBe(true);
  });

});

describe("without FinalizationRegistry", () => {
  it("blocks still allocate and free; nothing is reclaimed behind the caller's back", async () => {
    vi.stubGlobal("FinalizationRegistry", undefined);
    try {
      const { m } = await attached(1);
      ((): void => {
        new m.F32Block(4).view.fill(1);
      })();
      const block = new m.F32Block(8);
      expect(block.ptr).toBe(32);
      for (let i = 0; i < 3; i++) {
        gc();
        await sleep(5);
      }
      expect(m.allocatedBytes()).toBe(16 + 32);
      block.free();
      expect(m.allocatedBytes()).toBe(16);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
