// Staging arrays that are not library views (see wasmOffset in memory.ts) through wasm memory.

import { heapF32 } from "./memory.js";

export { wasmOffset } from "./memory.js";

/** Copies a foreign Float32Array into wasm memory at `ptr`. */
export function copyIn(source: Float32Array, ptr: number): void {
  heapF32().set(source, ptr >>> 2);
}

/** Copies `destination.length` floats from wasm memory at `ptr` into `destination`. */
export function copyOut(ptr: number, destination: Float32Array): void {
  const start = ptr >>> 2;
  destination.set(heapF32().subarray(start, start + destination.length));
}

/** A new (caller-owned, non-shared) Float32Array holding `length` floats from wasm memory at `ptr`. */
export function copyToNew(ptr: number, length: number): Float32Array {
  const start = ptr >>> 2;
  return heapF32().slice(start, start + length);
}
