// The wasm linear memory, its allocator and the Float32Array views into it. Together with
// instance.ts this is the only code that touches wasm memory.
//
// Why a shared memory: growing a plain WebAssembly.Memory detaches its ArrayBuffer and with it
// every view a user holds. A shared memory's SharedArrayBuffer is never detached — after growth,
// `memory.buffer` is a new, longer SharedArrayBuffer over the same bytes, and every earlier view
// stays valid. Where shared memory is unavailable (a page that is not cross-origin isolated) we
// fall back to a plain memory: getters re-view after growth, but views obtained earlier detach;
// `init(undefined, { initialMemoryMiB })` reserves memory up front so growth need not happen.

const PAGE_BYTES = 65536;
/** Every block starts on a 16-byte boundary (one v128) and spans whole v128s. */
export const ALIGNMENT = 16;
/** A 32-bit memory holds at most 4 GiB. */
const MAX_BYTES = 2 ** 32;

interface FreeBlock { start: number; bytes: number }

let memory: WebAssembly.Memory | null = null;
let shared = false;
let buffer: ArrayBuffer | SharedArrayBuffer = new ArrayBuffer(0);
let heapTop = 0;      // end of the highest live block: everything above is free
let highWater = 0;    // end of the highest block ever handed out: everything above is still zero
// Every buffer object the memory has had: after growth a shared memory's views made earlier keep
// the older SharedArrayBuffer object (still valid, same bytes), so identity with the current one
// is not enough to recognise a library view.
let ownBuffers = new WeakSet<object>();
const freeBlocks: FreeBlock[] = [];           // sorted by start, coalesced
const liveBlocks = new Map<number, number>(); // start → bytes

export function attachMemory(mem: WebAssembly.Memory, isShared: boolean, heapBase: number): void {
  memory = mem;
  shared = isShared;
  buffer = mem.buffer;
  ownBuffers = new WeakSet([buffer]);
  stepScalarsView = new Float64Array(0);
  heapTop = alignUp(Math.max(heapBase, ALIGNMENT));
  highWater = heapTop;
  freeBlocks.length = 0;
  liveBlocks.clear();
}

export function memoryIsShared(): boolean {
  return shared;
}

/**
 * The byte offset in wasm memory of a view into it (a library view: used zero-copy), or −1 for an
 * array elsewhere (copied in and out). With a plain memory only views of the current buffer
 * count: older ones were detached by growth.
 */
export function wasmOffset(view: ArrayBufferView): number {
  const viewBuffer = view.buffer;
  if (viewBuffer === buffer || (shared && ownBuffers.has(viewBuffer))) return view.byteOffset;
  return -1;
}

/** The current buffer of the wasm memory (replaced on growth; see the note above). */
export function currentBuffer(): ArrayBuffer | SharedArrayBuffer {
  return buffer;
}

function alignUp(bytes: number): number {
  return Math.ceil(bytes / ALIGNMENT) * ALIGNMENT;
}

/** Heap top in bytes: the end of the highest live block (for soak tests of fragmentation). @internal */
export function heapTopBytes(): number {
  return heapTop;
}

/**
 * Sizes and pointers reach the allocator from arithmetic on user input; a NaN, fraction or
 * negative value that slipped through would corrupt heapTop or the free list for good, so the
 * allocator refuses them itself rather than trusting every caller.
 */
function checkByteValue(name: string, value: unknown, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`simdopt: internal error: ${name} must be an integer in [0, ${max}], got ${String(value)}`);
  }
  return value;
}

function outOfMemory(minTop: number): RangeError {
  return new RangeError(
    `simdopt: out of wasm memory: cannot grow to ${Math.ceil(minTop / 2 ** 20)} MiB ` +
      `(the memory's maximum is set by init(source, { maximumMemoryMiB }))`,
  );
}

// ---- fault injection (tests only): make one allocation fail as if the memory could not grow ----
let allocationCounter = 0;
let failingAllocation = 0;

/** Allocations made since the module loaded (for fault-injection tests). @internal */
export function allocationCount(): number {
  return allocationCounter;
}

/**
 * Makes the `n`-th allocation from now (1 = the next one) throw the out-of-memory RangeError,
 * once; 0 cancels. For tests that check every allocation point leaves state as it was. @internal
 */
export function failNthAllocation(n: number): void {
  checkByteValue("n", n, Number.MAX_SAFE_INTEGER);
  failingAllocation = n === 0 ? 0 : allocationCounter + n;
}

function grow(minTop: number): void {
  const mem = memory!;
  const have = buffer.byteLength;
  // Grow by at least an eighth of what we have, so that many small allocations cost few grows.
  const wantBytes = Math.max(minTop - have, have / 8, 16 * PAGE_BYTES);
  const pages = Math.ceil(wantBytes / PAGE_BYTES);
  const neededPages = Math.ceil((minTop - have) / PAGE_BYTES);
  try {
    mem.grow(pages);
  } catch {
    try {
      mem.grow(neededPages);
    } catch {
      throw outOfMemory(minTop);
    }
  }
  buffer = mem.buffer;
  ownBuffers.add(buffer);
  stepScalarsView = new Float64Array(buffer, stepScalarsAt, STEP_SCALARS);
}

/**
 * Allocates `bytes` (rounded up to whole v128s) of zeroed wasm memory, 16-byte aligned.
 * Returns the byte offset. May grow the memory; never moves a live block.
 */
export function allocate(bytes: number): number {
  if (memory === null) throw new Error("simdopt: call `await init()` (or initSync()) first");
  checkByteValue("allocation size", bytes, MAX_BYTES);
  const size = alignUp(Math.max(bytes, 1));
  allocationCounter++;
  if (allocationCounter === failingAllocation) {
    failingAllocation = 0;
    throw outOfMemory(heapTop + size);
  }
  // Best fit over the free list keeps large holes for large tensors.
  let best = -1;
  for (let i = 0; i < freeBlocks.length; i++) {
    const block = freeBlocks[i]!;
    if (block.bytes >= size && (best < 0 || block.bytes < freeBlocks[best]!.bytes)) best = i;
  }
  let start: number;
  if (best >= 0) {
    const block = freeBlocks[best]!;
    start = block.start;
    if (block.bytes === size) freeBlocks.splice(best, 1);
    else { block.start += size; block.bytes -= size; }
    new Uint8Array(buffer, start, size).fill(0);
  } else {
    // From the top (release() keeps no free block there). Nothing changes before the memory has
    // grown: a failed growth leaves the free list and heapTop as they were.
    start = heapTop;
    if (start + size > MAX_BYTES) throw outOfMemory(start + size);
    if (start + size > buffer.byteLength) grow(start + size);
    // Bytes never handed out are still zero (fresh memory): only reused ones are cleared.
    if (start < highWater) new Uint8Array(buffer, start, Math.min(size, highWater - start)).fill(0);
    heapTop = start + size;
    highWater = Math.max(highWater, heapTop);
  }
  liveBlocks.set(start, size);
  return start;
}

/** Returns a block to the free list; neighbours are merged. */
export function release(start: number): void {
  checkByteValue("pointer", start, MAX_BYTES);
  const size = liveBlocks.get(start);
  if (size === undefined) throw new Error(`simdopt: internal error: freeing unknown block ${start}`);
  liveBlocks.delete(start);
  let index = freeBlocks.findIndex((block) => block.start > start);
  if (index < 0) index = freeBlocks.length;
  freeBlocks.splice(index, 0, { start, bytes: size });
  const next = freeBlocks[index + 1];
  if (next !== undefined && start + size === next.start) {
    freeBlocks[index]!.bytes += next.bytes;
    freeBlocks.splice(index + 1, 1);
  }
  const previous = freeBlocks[index - 1];
  if (previous !== undefined && previous.start + previous.bytes === start) {
    previous.bytes += freeBlocks[index]!.bytes;
    freeBlocks.splice(index, 1);
  }
  // A free block ending at the top lowers the top: the heap shrinks back as blocks are freed,
  // so a failed call that frees what it allocated leaves heapTop exactly as it was.
  const last = freeBlocks[freeBlocks.length - 1]!;
  if (last.start + last.bytes === heapTop) {
    heapTop = last.start;
    freeBlocks.pop();
  }
}

let heapU8View: Uint8Array = new Uint8Array(0);
let heapF32View: Float32Array = new Float32Array(0);

/** A Uint8Array over all of wasm memory (cached; re-made after growth). Index = byte offset. */
export function heapU8(): Uint8Array {
  if (heapU8View.buffer !== buffer) heapU8View = new Uint8Array(buffer);
  return heapU8View;
}

/** A Float32Array over all of wasm memory (cached; re-made after growth). Index = byte offset / 4. */
export function heapF32(): Float32Array {
  if (heapF32View.buffer !== buffer) heapF32View = new Float32Array(buffer, 0, buffer.byteLength >>> 2);
  return heapF32View;
}

/** Scalar slots of the step kernels (see kernels.ts): 8 float64, in the calling thread's scratch. */
const STEP_SCALARS = 8;
let stepScalarsAt = 0;
let stepScalarsView: Float64Array = new Float64Array(0);

/** Records where the main instance's kernels read their scalars (at load; when threads move its scratch). */
export function setStepScalarsAt(byteOffset: number): void {
  stepScalarsAt = byteOffset;
  stepScalarsView = new Float64Array(buffer, stepScalarsAt, STEP_SCALARS);
}

/**
 * The scalar slots a step kernel reads (re-made by grow(), so no check here: a typed array's
 * `buffer` getter is not free on the step path): write a kernel's scalars here, in the order
 * kernels.ts lists, then call it.
 */
export function stepScalars(): Float64Array {
  return stepScalarsView;
}

/** Bytes currently handed out (for tests and diagnostics). */
export function allocatedBytes(): number {
  let total = 0;
  for (const size of liveBlocks.values()) total += size;
  return total;
}

/**
 * A library view that is still attached: `view` itself while it is over wasm memory (always, with
 * a shared memory), else a new view of `length` floats at `byteOffset` over the current buffer —
 * a plain memory detaches its views when it grows. `byteOffset` must be read before any growth.
 */
export function liveF32View(view: Float32Array, byteOffset: number, length: number): Float32Array {
  if (wasmOffset(view) >= 0 && view.length === length) return view;
  return new Float32Array(buffer, byteOffset, length);
}

/**
 * Whether two arrays share any byte: views of the wasm memory by their offsets in it (views made
 * before a growth keep an older buffer object over the same bytes), other arrays only within one
 * buffer. Exact aliasing (same offset and length) counts as overlap; callers that allow it test
 * for it first.
 */
export function viewsOverlap(x: ArrayBufferView, y: ArrayBufferView): boolean {
  const xInWasm = wasmOffset(x) >= 0;
  if (xInWasm !== wasmOffset(y) >= 0) return false;
  if (!xInWasm && x.buffer !== y.buffer) return false;
  return x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

// ---- reclaiming blocks nobody can reach ----
// A block is released when the F32Block object and every view it handed out are garbage: a view
// a caller still holds (`const w = p.data`) keeps the bytes allocated even after the Parameter is
// dropped, so such a view never aliases a later allocation. Arrays derived from a view
// (`subarray`, `new Float32Array(view.buffer, ...)`) are not tracked: keep the view or its owner
// alive while using them, or dispose explicitly.
interface Holder { ptr: number; refs: number; freed: boolean }
const reclaimer: FinalizationRegistry<Holder> | null = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry<Holder>((holder) => {
    holder.refs -= 1;
    if (holder.refs === 0 && !holder.freed && liveBlocks.get(holder.ptr) !== undefined) {
      holder.freed = true;
      release(holder.ptr);
    }
  })
  : null;

function track(target: object, holder: Holder): void {
  if (reclaimer === null) return;
  holder.refs += 1;
  reclaimer.register(target, holder, holder);
}

/**
 * A float32 array living in wasm memory. `.view` is a live Float32Array over it: with a shared
 * memory the view made first stays valid forever; with a plain memory it is re-made after growth.
 * `free()` releases it at once; a block that becomes unreachable (with its views) is released by
 * the garbage collector.
 */
export class F32Block {
  readonly ptr: number;
  readonly length: number;
  #view: Float32Array;
  readonly #holder: Holder;

  constructor(length: number) {
    checkByteValue("block length", length, MAX_BYTES / 4);
    this.length = length;
    this.ptr = allocate(length * 4);
    this.#view = new Float32Array(buffer, this.ptr, length);
    this.#holder = { ptr: this.ptr, refs: 0, freed: false };
    track(this, this.#holder);
    track(this.#view, this.#holder);
  }

  get view(): Float32Array {
    if (this.#view.buffer !== buffer) {
      this.#view = new Float32Array(buffer, this.ptr, this.length);
      if (!this.#holder.freed) track(this.#view, this.#holder);
    }
    return this.#view;
  }

  get freed(): boolean {
    return this.#holder.freed;
  }

  free(): void {
    if (this.#holder.freed) return;
    this.#holder.freed = true;
    reclaimer?.unregister(this.#holder);
    release(this.ptr);
  }
}

/**
 * Scratch space reused across calls (mask staging, copy-in of foreign arrays, GEMM packing):
 * grows to the largest request seen, never shrinks, never allocates on a call that fits.
 */
export class Scratch {
  #block: F32Block | null = null;

  /**
   * Pointer to at least `length` floats of scratch (contents unspecified). The old block is
   * freed first, so that the larger one may reuse its bytes (a scratch at the top of the heap
   * only grows by the difference); if the larger one cannot be had, a block of the old size is
   * taken again — it fits where the old one was — so the scratch and the bytes allocated are as
   * before, and the error is rethrown.
   */
  floats(length: number): number {
    if (this.#block === null || this.#block.length < length) {
      const old = this.#block;
      this.#block = null;
      old?.free();
      try {
        this.#block = new F32Block(Math.max(length, 4));
      } catch (error) {
        if (old !== null) this.#block = new F32Block(old.length);
        throw error;
      }
    }
    return this.#block.ptr;
  }

  /** Pointer to at least `bytes` bytes of scratch (contents unspecified). */
  bytes(bytes: number): number {
    return this.floats(Math.ceil(bytes / 4));
  }
}
