// Telling library views (Float32Arrays over wasm memory, used zero-copy) from any other array
// (copied in and out), and staging the latter through scratch.
//
// A view is a library view when its buffer is the wasm memory's. With a shared memory that is
// not a plain identity test: each growth gives `memory.buffer` a new SharedArrayBuffer object
// over the same bytes, and views made before the growth keep the old object (and stay valid).
// An unknown SharedArrayBuffer is therefore probed once — flip a byte through the current
// memory, see whether the candidate sees it, restore it — and the answer is cached per object.

import { currentBuffer, heapF32, heapU8 } from "./memory.js";

const knownBuffers = new WeakMap<object, boolean>();

function sharesWasmMemory(candidate: SharedArrayBuffer): boolean {
  const heap = heapU8();
  if (candidate.byteLength === 0 || candidate.byteLength > heap.length) return false;
  const probe = new Uint8Array(candidate, 0, 1);
  const saved = heap[0]!;
  try {
    heap[0] = saved ^ 0xa5;
    if (probe[0] !== heap[0]) return false;
    heap[0] = saved ^ 0x5a;
    return probe[0] === heap[0];
  } finally {
    heap[0] = saved;
  }
}

/** The byte offset in wasm memory of a view into it, or −1 for an array elsewhere. */
export function wasmOffset(view: ArrayBufferView): number {
  const buffer = view.buffer;
  if (buffer === currentBuffer()) return view.byteOffset;
  if (typeof SharedArrayBuffer !== "function" || !(buffer instanceof SharedArrayBuffer)) return -1;
  let shares = knownBuffers.get(buffer);
  if (shares === undefined) {
    shares = sharesWasmMemory(buffer);
    knownBuffers.set(buffer, shares);
  }
  return shares ? view.byteOffset : -1;
}

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
