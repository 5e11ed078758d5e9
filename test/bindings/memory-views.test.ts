// The views of src/bindings/memory.ts over a stand-in memory (test/support/fake-memory.ts): which
// arrays count as library views before and after growth (shared and plain), the cached heap
// views, live and overlapping views, F32Block, the scratch, and injected allocation failures.
import { afterEach, describe, expect, it, vi } from "vitest";
import { attached, PAGE } from "../support/fake-memory.js";

const outOfMemory = (mib: number) => new RangeError(
  `simdopt: out of wasm memory: cannot grow to ${mib} MiB (the memory's maximum is set by init(source, { maximumMemoryMiB }))`);

afterEach(() => {
  vi.resetModules();
});

describe("library views across growth", () => {
  it("shared: views of every earlier buffer stay library views; plain: only views of the current one", async () => {
    for (const shared of [true, false]) {
      const { m, memory } = await attached(1, { shared });
      expect(m.memoryIsShared()).toBe(shared);
      const first = memory.buffer;
      const old = new Float32Array(first, 32, 4);
      expect(m.wasmOffset(old)).toBe(32);
      expect(m.wasmOffset(new Float32Array(first, 0, 1))).toBe(0);
      m.allocate(PAGE); // grows
      expect(m.currentBuffer()).toBe(memory.buffer);
      expect(m.wasmOffset(new Uint8Array(memory.buffer, 48, 4))).toBe(48);
      expect(m.wasmOffset(old)).toBe(shared ? 32 : -1);
      // Another buffer of the same kind is never a library view.
      const foreign = shared ? new SharedArrayBuffer(PAGE) : new ArrayBuffer(PAGE);
      expect(m.wasmOffset(new Float32Array(foreign, 32, 4))).toBe(-1);
    }
  });

  it("heapU8 and heapF32 are cached until the memory grows, then cover the new buffer", async () => {
    const { m, memory } = await attached(1);
    const u8 = m.heapU8();
    const f32 = m.heapF32();
    expect(m.heapU8()).toBe(u8);
    expect(m.heapF32()).toBe(f32);
    expect([u8.buffer, u8.byteOffset, u8.length]).toEqual([memory.buffer, 0, PAGE]);
    expect([f32.buffer, f32.byteOffset, f32.length]).toEqual([memory.buffer, 0, PAGE / 4]);
    m.allocate(PAGE);
    const u8After = m.heapU8();
    const f32After = m.heapF32();
    expect(u8After).not.toBe(u8);
    expect(f32After).not.toBe(f32);
    expect([u8After.buffer, u8After.length]).toEqual([memory.buffer, 17 * PAGE]);
    expect([f32After.buffer, f32After.length]).toEqual([memory.buffer, (17 * PAGE) / 4]);
  });

  it("liveF32View: the view itself while it is a library view of that length, else a new one over the current buffer", async () => {
    const { m, memory } = await attached(1);
    const view = new Float32Array(memory.buffer, 64, 4);
    view.set([1, 2, 3, 4]);
    expect(m.liveF32View(view, 64, 4)).toBe(view);
    const atZero = new Float32Array(memory.buffer, 0, 2);
    expect(m.liveF32View(atZero, 0, 2)).toBe(atZero);
    const shorter = m.liveF32View(view, 64, 3);
    expect(shorter).not.toBe(view);
    expect([shorter.buffer, shorter.byteOffset, Array.from(shorter)]).toEqual([memory.buffer, 64, [1, 2, 3]]);
    m.allocate(PAGE); // grows: `view` is of an old plain buffer now
    const live = m.liveF32View(view, 64, 4);
    expect(live).not.toBe(view);
    expect([live.buffer, live.byteOffset, Array.from(live)]).toEqual([memory.buffer, 64, [1, 2, 3, 4]]);
    const foreign = new Float32Array(4);
    expect(m.liveF32View(foreign, 16, 4).buffer).toBe(memory.buffer);
  });

  it("viewsOverlap: wasm views by offset (across buffers), other arrays only within one buffer; touching is not overlapping", async () => {
    const { m, memory } = await attached(1, { shared: true });
    const wasm = (byteOffset: number, length: number, buffer = memory.buffer) => new Float32Array(buffer, byteOffset, length);
    expect(m.viewsOverlap(wasm(64, 4), wasm(72, 4))).toBe(true);
    expect(m.viewsOverlap(wasm(72, 4), wasm(64, 4))).toBe(true);
    expect(m.viewsOverlap(wasm(64, 4), wasm(64, 4))).toBe(true);
    expect(m.viewsOverlap(wasm(64, 4), wasm(80, 4))).toBe(false);
    expect(m.viewsOverlap(wasm(80, 4), wasm(64, 4))).toBe(false);
    expect(m.viewsOverlap(wasm(64, 4), new Uint8Array(memory.buffer, 79, 1))).toBe(true);
    // Offset 0 of the memory is a wasm view like any other.
    expect(m.viewsOverlap(wasm(0, 4), wasm(8, 4))).toBe(true);
    expect(m.viewsOverlap(wasm(8, 4), wasm(0, 4))).toBe(true);
    const old = memory.buffer;
    m.allocate(PAGE); // grows: views of the old buffer share bytes with views of the new one
    expect(m.viewsOverlap(wasm(64, 4, old), wasm(76, 2))).toBe(true);
    expect(m.viewsOverlap(wasm(64, 4, old), wasm(80, 2))).toBe(false);
    // A wasm view and a foreign array never overlap, whatever their offsets.
    const host = new ArrayBuffer(256);
    expect(m.viewsOverlap(wasm(64, 4), new Float32Array(host, 64, 4))).toBe(false);
    expect(m.viewsOverlap(new Float32Array(host, 64, 4), wasm(64, 4))).toBe(false);
    // Foreign arrays: by offset within one buffer, never across two.
    expect(m.viewsOverlap(new Float32Array(host, 0, 8), new Float32Array(host, 28, 2))).toBe(true);
    expect(m.viewsOverlap(new Float32Array(host, 0, 8), new Float32Array(host, 32, 2))).toBe(false);
    expect(m.viewsOverlap(new Float32Array(host, 0, 8), new Float32Array(new ArrayBuffer(256), 0, 8))).toBe(false);
  });

  it("attachMemory starts over: no step scalars until they are placed, an empty heap, only the new buffer", async () => {
    const { m, memory } = await attached(1, { shared: true });
    m.setStepScalarsAt(32);
    expect(m.stepScalars().length).toBe(8);
    m.allocate(100);
    const old = new Float32Array(memory.buffer, 16, 4);
    const next = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    m.attachMemory(next, true, 16);
    expect(m.stepScalars().length).toBe(0);
    expect(m.allocatedBytes()).toBe(0);
    expect(m.wasmOffset(old)).toBe(-1);
    expect(m.allocate(16)).toBe(16);
    m.setStepScalarsAt(48);
    m.stepScalars().set([1.5, -2]);
    expect(Array.from(new Float64Array(next.buffer, 48, 2))).toEqual([1.5, -2]);
  });
});

describe("F32Block", () => {
  it("a zeroed view at its pointer, re-made over the new buffer after a plain memory grows; free() once", async () => {
    const { m, memory } = await attached(1);
    const block = new m.F32Block(5);
    expect([block.ptr, block.length, block.freed]).toEqual([16, 5, false]);
    const view = block.view;
    expect(block.view).toBe(view);
    expect([view.buffer, view.byteOffset, view.length]).toEqual([memory.buffer, 16, 5]);
    view.set([1, 2, 3, 4, 5]);
    m.allocate(PAGE); // grows
    const after = block.view;
    expect(after).not.toBe(view);
    expect([after.buffer, after.byteOffset, Array.from(after)]).toEqual([memory.buffer, 16, [1, 2, 3, 4, 5]]);
    expect(block.view).toBe(after);
    const allocated = m.allocatedBytes();
    block.free();
    expect(block.freed).toBe(true);
    expect(m.allocatedBytes()).toBe(allocated - 32);
    block.free(); // no second release (it would throw "freeing unknown block")
    expect(m.allocatedBytes()).toBe(allocated - 32);
    expect(new m.F32Block(8).ptr).toBe(16);
  });
});

describe("Scratch", () => {
  it("grows to the largest request, at least 4 floats; a request that fits allocates nothing", async () => {
    const { m } = await attached(1);
    const scratch = new m.Scratch();
    expect(scratch.floats(1)).toBe(16);
    expect(m.allocatedBytes()).toBe(16);
    const count = m.allocationCount();
    expect(scratch.floats(4)).toBe(16);
    expect(m.allocationCount()).toBe(count);
    // The top block is freed first, so the larger one starts where it was.
    expect(scratch.floats(5)).toBe(16);
    expect(m.allocatedBytes()).toBe(32);
    expect(m.allocationCount()).toBe(count + 1);
    expect(scratch.floats(5)).toBe(16);
    expect(m.allocationCount()).toBe(count + 1);
    expect(scratch.floats(8)).toBe(16); // same v128s, but more floats than the block holds
    expect(m.allocationCount()).toBe(count + 2);
    expect(m.allocatedBytes()).toBe(32);
    expect(scratch.floats(100)).toBe(16);
    expect(m.allocatedBytes()).toBe(400);
    expect(scratch.floats(50)).toBe(16);
    expect(m.allocatedBytes()).toBe(400);
    expect(m.allocationCount()).toBe(count + 3);
    // bytes(): whole floats covering the bytes asked for.
    expect(scratch.bytes(401)).toBe(16);
    expect(m.allocatedBytes()).toBe(416);
    expect(m.allocationCount()).toBe(count + 4);
    expect(scratch.bytes(404)).toBe(16);
    expect(m.allocationCount()).toBe(count + 4);
  });

  it("when the larger block cannot be had, the old size is taken again and the error rethrown", async () => {
    const { m } = await attached(1);
    const scratch = new m.Scratch();
    const fence = m.allocate(16);
    const ptr = scratch.floats(10); // 48 bytes
    const top = m.heapTopBytes();
    m.failNthAllocation(1);
    expect(() => scratch.floats(1000)).toThrow(outOfMemory(1));
    expect(m.allocatedBytes()).toBe(16 + 48);
    expect(m.heapTopBytes()).toBe(top);
    expect(scratch.floats(10)).toBe(ptr);
    expect(fence).toBe(16);
    // With no block before, a failure leaves none.
    const empty = new m.Scratch();
    m.failNthAllocation(1);
    expect(() => empty.floats(4)).toThrow(outOfMemory(1));
    expect(m.allocatedBytes()).toBe(16 + 48);
  });
});

describe("injected allocation failures", () => {
  it("the n-th allocation from now fails once with the out-of-memory error for the top it would need; 0 cancels", async () => {
    const { m, memory } = await attached(1);
    expect(m.allocationCount()).toBe(0);
    m.allocate(16);
    m.failNthAllocation(2);
    expect(m.allocate(32)).toBe(32);
    // The top would be 64 + 2 MiB: ceil → 3 MiB. Nothing grows, nothing is allocated.
    expect(() => m.allocate(2 ** 21)).toThrow(outOfMemory(3));
    expect(memory.grows).toEqual([]);
    expect(m.allocatedBytes()).toBe(48);
    expect(m.allocationCount()).toBe(3);
    expect(m.allocate(32)).toBe(64); // once only
    m.failNthAllocation(1);
    m.failNthAllocation(0);
    expect(m.allocate(16)).toBe(96);
    expect(m.allocationCount()).toBe(5);
  });
});
