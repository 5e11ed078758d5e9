// Staging helpers of src/bindings/views.ts: copies between caller-owned arrays and wasm memory at a
// byte offset, exactly as many floats as asked, into arrays that are the caller's own.
import { beforeAll, describe, expect, it } from "vitest";
import { initSync } from "../../src/index.js";
import { allocate, heapF32, release } from "../../src/bindings/memory.js";
import { copyIn, copyOut, copyToNew, wasmOffset } from "../../src/bindings/views.js";

beforeAll(() => initSync());

describe("copyIn, copyOut, copyToNew", () => {
  it("move exactly the floats asked for, at the byte offset given", () => {
    const ptr = allocate(64);
    const heap = () => heapF32().subarray(ptr >>> 2, (ptr >>> 2) + 16);
    copyIn(Float32Array.from([1.5, -2, 3]), ptr + 8);
    expect(Array.from(heap())).toEqual([0, 0, 1.5, -2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const out = new Float32Array([9, 9, 9, 9, 9]);
    copyOut(ptr + 4, out.subarray(1, 4));
    expect(Array.from(out)).toEqual([9, 0, 1.5, -2, 9]);
    const copy = copyToNew(ptr + 8, 2);
    expect(Array.from(copy)).toEqual([1.5, -2]);
    // The caller's own array: not a view of wasm memory, and not shared.
    expect(copy.buffer).toBeInstanceOf(ArrayBuffer);
    expect(wasmOffset(copy)).toBe(-1);
    copy[0] = 7;
    expect(heap()[2]).toBe(1.5);
    release(ptr);
  });
});
