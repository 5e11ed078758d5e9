// The allocator and views of src/bindings/memory.ts, each test on a fresh copy of the module over
// a stand-in for WebAssembly.Memory that records every grow() request (and can refuse some): how
// much the memory grows, what a refused growth leaves behind, exact messages for bad sizes, free
// list order and merging, cached views, the step-scalar slots and the reusable scratch.
import { afterEach, describe, expect, it, vi } from "vitest";

import { attached, freshModule, MiB, PAGE } from "../support/fake-memory.js";

const outOfMemory = (mib: number) => new RangeError(
  `simdopt: out of wasm memory: cannot grow to ${mib} MiB (the memory's maximum is set by init(source, { maximumMemoryMiB }))`);
const badValue = (name: string, max: number, got: string) => new RangeError(`simdopt: internal error: ${name} must be an integer in [0, ${max}], got ${got}`);

afterEach(() => {
  vi.resetModules();
});

describe("before a memory is attached", () => {
  it("allocating says to call init(); nothing is a library view; the memory is not shared", async () => {
    const m = await freshModule();
    expect(() => m.allocate(16)).toThrow(new Error("simdopt: call `await init()` (or initSync()) first"));
    expect(() => new m.F32Block(4)).toThrow(new Error("simdopt: call `await init()` (or initSync()) first"));
    expect(m.memoryIsShared()).toBe(false);
    expect(m.wasmOffset(new Float32Array(4))).toBe(-1);
    expect(m.currentBuffer().byteLength).toBe(0);
    expect(m.stepScalars().length).toBe(0);
    expect(m.allocatedBytes()).toBe(0);
  });
});

describe("sizes and pointers are checked by the allocator itself", () => {
  it("exact messages for negative, fractional, non-number and oversized values; nothing allocated", async () => {
    const { m } = await attached();
    const max = 2 ** 32;
    expect(() => m.allocate(-1)).toThrow(badValue("allocation size", max, "-1"));
    expect(() => m.allocate(1.5)).toThrow(badValue("allocation size", max, "1.5"));
    expect(() => m.allocate(Number.NaN)).toThrow(badValue("allocation size", max, "NaN"));
    expect(() => m.allocate("8" as never)).toThrow(badValue("allocation size", max, "8"));
    expect(() => m.allocate(max + 16)).toThrow(badValue("allocation size", max, "4294967312"));
    expect(() => m.release(-16)).toThrow(badValue("pointer", max, "-16"));
    expect(() => m.release(max + 16)).toThrow(badValue("pointer", max, "4294967312"));
    expect(() => m.release(32)).toThrow(new Error("simdopt: internal error: freeing unknown block 32"));
    expect(() => new m.F32Block(-1)).toThrow(badValue("block length", max / 4, "-1"));
    expect(() => new m.F32Block(max / 4 + 1)).toThrow(badValue("block length", max / 4, "1073741825"));
    expect(() => m.failNthAllocation(-1)).toThrow(badValue("n", Number.MAX_SAFE_INTEGER, "-1"));
    expect(m.allocationCount()).toBe(0);
    expect(m.allocatedBytes()).toBe(0);
    // Size 0 is a valid request (one v128).
    expect(m.allocate(0)).toBe(16);
    expect(m.allocatedBytes()).toBe(16);
  });

  it("a request past 4 GiB is refused without touching the memory; one ending exactly at 4 GiB asks the memory to grow", async () => {
    const { m, memory } = await attached(1, { refuse: (pages) => pages > 100 });
    // 4 GiB passes the size check, but the block would end past 4 GiB.
    expect(() => m.allocate(2 ** 32)).toThrow(outOfMemory(4097));
    expect(() => new m.F32Block(2 ** 30)).toThrow(outOfMemory(4097));
    expect(memory.grows).toEqual([]);
    // Ends at exactly 4 GiB: allowed by the allocator, refused here by the memory (twice: the
    // generous growth, then the exact need).
    expect(() => m.allocate(2 ** 32 - 16)).toThrow(outOfMemory(4096));
    expect(memory.grows).toEqual([65535, 65535]);
    expect(m.heapTopBytes()).toBe(16);
    expect(m.allocatedBytes()).toBe(0);
  });
});

describe("the heap", () => {
  it("starts at the module's heap base rounded up to 16 bytes, and at 16 at the lowest", async () => {
    for (const [heapBase, first] of [[0, 16], [16, 16], [17, 32], [40, 48], [48, 48]] as const) {
      const { m } = await attached(1, { heapBase });
      expect(m.heapTopBytes()).toBe(first);
      expect(m.allocate(17)).toBe(first);
      expect(m.allocatedBytes()).toBe(32);
      expect(m.heapTopBytes()).toBe(first + 32);
    }
  });

  it("grows by the need, an eighth of the memory or 16 pages, whichever is most; the step scalars follow the new buffer", async () => {
    const { m, memory } = await attached(1);
    m.setStepScalarsAt(64);
    const scalars = m.stepScalars();
    expect(scalars.buffer).toBe(memory.buffer);
    expect([scalars.byteOffset, scalars.length]).toEqual([64, 8]);
    // Fits exactly: no growth.
    expect(m.allocate(PAGE - 16)).toBe(16);
    expect(memory.grows).toEqual([]);
    const first = memory.buffer;
    // 16 pages (1 MiB) is more than the need (16 bytes) and an eighth (8 KiB).
    expect(m.allocate(16)).toBe(PAGE);
    expect(memory.grows).toEqual([16]);
    expect(m.currentBuffer()).toBe(memory.buffer);
    expect(m.currentBuffer()).not.toBe(first);
    expect(m.stepScalars().buffer).toBe(memory.buffer);
    expect([m.stepScalars().byteOffset, m.stepScalars().length]).toEqual([64, 8]);
    // The need: 4 MiB from 16 bytes past the 17 pages there are, 49 pages short.
    m.allocate(4 * MiB);
    expect(memory.grows).toEqual([16, 49]);

    const large = await attached(160);
    // An eighth of 10 MiB (20 pages) beats the need (16 bytes) and 16 pages.
    large.m.allocate(160 * PAGE - 16);
    large.m.allocate(16);
    expect(large.memory.grows).toEqual([20]);
    expect(large.m.currentBuffer().byteLength).toBe(180 * PAGE);
  });

  it("a refused growth retries with the exact need; refused again, nothing changes", async () => {
    const { m, memory } = await attached(1, { refuse: (pages) => pages > 2 });
    m.setStepScalarsAt(32);
    const a = m.allocate(PAGE - 16);
    expect(m.allocate(PAGE + 16)).toBe(PAGE);
    expect(memory.grows).toEqual([16, 2]);
    expect(memory.buffer.byteLength).toBe(3 * PAGE);
    expect(m.stepScalars().buffer).toBe(memory.buffer);
    expect(m.heapTopBytes()).toBe(2 * PAGE + 16);

    // 1 MiB + 2 pages + 32 bytes is the top it would need (ceil: 2 MiB); 16 pages either way.
    expect(() => m.allocate(MiB + 16)).toThrow(outOfMemory(2));
    expect(memory.grows).toEqual([16, 2, 16, 16]);
    expect(m.heapTopBytes()).toBe(2 * PAGE + 16);
    expect(m.allocatedBytes()).toBe(2 * PAGE);
    expect(m.currentBuffer()).toBe(memory.buffer);
    m.release(a);
    expect(m.allocate(32)).toBe(a);
  });
});

describe("free list", () => {
  it("best fit keeps the first of equal holes and splits a larger one from its start", async () => {
    const { m } = await attached();
    const [a, f1, b, f2, c, f3] = [32, 16, 64, 16, 32, 16].map((bytes) => m.allocate(bytes));
    expect([a, f1, b, f2, c, f3]).toEqual([16, 48, 64, 128, 144, 176]);
    m.release(c);
    m.release(a);
    m.release(b);
    expect(m.allocate(32)).toBe(a); // a and c fit exactly: the lower one
    expect(m.allocate(16)).toBe(c); // c (32) is a closer fit than b (64)
    expect(m.allocate(48)).toBe(b); // split from b's start ...
    expect(m.allocate(16)).toBe(b + 48); // ... leaving its last 16 bytes, taken whole
    expect(m.allocate(16)).toBe(c + 16); // the rest of c
    expect(m.allocate(16)).toBe(192); // nothing free is left: from the top
  });

  it("blocks freed in any order merge with both neighbours, and the top comes down as the highest ones go", async () => {
    const { m } = await attached();
    const [a, b, c, d] = [32, 32, 32, 32].map((bytes) => m.allocate(bytes));
    const fence = m.allocate(16);
    m.release(c); // [c]
    m.release(a); // [a, c]: inserted before c
    m.release(b); // merges with both: [a..d)
    expect(m.allocate(96)).toBe(a);
    m.release(a);
    m.release(d); // [a..fence)
    m.release(fence); // the whole heap is free: the top comes back down
    expect(m.heapTopBytes()).toBe(16);
    expect(m.allocatedBytes()).toBe(0);
    expect(m.allocate(160)).toBe(16);
  });

  it("reused bytes come back zeroed, from a free block and from below the old top", async () => {
    const { m } = await attached();
    const heap = () => m.heapU8();
    const a = m.allocate(64);
    const fence = m.allocate(16);
    const top = m.allocate(48);
    heap().fill(0xab, a, a + 64);
    heap().fill(0xcd, top, top + 48);
    m.release(a);
    m.release(top);
    const again = m.allocate(32);
    expect(again).toBe(a);
    expect(heap().subarray(a, a + 32).every((x) => x === 0)).toBe(true);
    expect(heap().subarray(a + 32, a + 64).every((x) => x === 0xab)).toBe(true); // still free: not cleared
    // From the top again, extending past it: the old bytes are cleared.
    const extended = m.allocate(96);
    expect(extended).toBe(top);
    expect(heap().subarray(top, top + 96).every((x) => x === 0)).toBe(true);
    expect(fence).toBe(a + 64);
  });
});
