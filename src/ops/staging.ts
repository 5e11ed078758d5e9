// Staging of the arrays of one call (matmul, batch norm, scalers) through wasm memory: library
// views are used in place, other arrays (and written views that overlap an input) go through
// one reused scratch block, taken before anything is written.

import { heapF32, liveF32View, Scratch, viewsOverlap } from "../bindings/memory.js";
import { copyIn, copyOut, copyToNew, wasmOffset } from "../bindings/views.js";

const scratch = new Scratch();

/**
 * Stages the arrays of one call. `bind` classifies an array before any scratch is taken (a
 * library view keeps its offset even if taking scratch grows the memory); `separate` gives a
 * written library view that overlaps another array of the call its own scratch (the kernels
 * would read bytes they already overwrote); `commit` takes one scratch block for every staged
 * array and internal buffer; afterwards `ptr` resolves them.
 */
export class Staging {
  #floats = 0;
  // Slot records are reused across calls (no garbage per call); #count of them are live.
  // offset: byte offset of a library view in wasm memory, else −1; at: float index of the
  // slot's scratch, or −1 when the kernels use the library view in place.
  #slots: { array: Float32Array | null; name: string; offset: number; at: number; length: number; read: boolean; write: boolean }[] = [];
  #count = 0;
  #base = 0;

  /** Starts a new call (the object is reused: one per module, calls do not nest). */
  reset(): this {
    for (let i = 0; i < this.#count; i++) this.#slots[i]!.array = null; // drop references to caller arrays
    this.#floats = 0;
    this.#count = 0;
    this.#base = 0;
    return this;
  }

  #add(array: Float32Array | null, name: string, offset: number, at: number, read: boolean, write: boolean): number {
    if (this.#count === this.#slots.length) this.#slots.push({ array: null, name: "", offset: -1, at: -1, length: 0, read: false, write: false });
    const slot = this.#slots[this.#count]!;
    slot.array = array;
    slot.name = name;
    slot.offset = offset;
    slot.at = at;
    slot.length = array === null ? 0 : array.length;
    slot.read = read;
    slot.write = write;
    return this.#count++;
  }

  /**
   * A caller array (or null → pointer 0). `read`: its contents are input (copied in when
   * staged); `write`: the kernels write it (copied back when staged).
   */
  bind(array: Float32Array | null, name: string, read: boolean, write: boolean): number {
    const offset = array === null ? -1 : wasmOffset(array);
    const staged = array !== null && offset < 0;
    return this.#add(array, name, offset, staged ? this.#reserve(array.length) : -1, read, write);
  }

  /** Internal scratch of `floats` floats (16-byte aligned). */
  scratch(floats: number): number {
    return this.#add(null, "", -1, this.#reserve(floats), true, true);
  }

  #reserve(floats: number): number {
    const at = this.#floats;
    this.#floats += Math.ceil(floats / 4) * 4;
    return at;
  }

  /**
   * Two written arrays that share bytes throw RangeError (no order of writes is right); a written
   * library view that shares bytes with an input is staged through scratch and copied back at
   * the end — except exact aliasing of the slots `aliasOut` and `aliasIn` (y = x, dx = dy),
   * which the kernels support in place (they read each element before writing it).
   */
  separate(fn: string, aliasOut: number, aliasIn: number): void {
    for (let i = 0; i < this.#count; i++) {
      const slot = this.#slots[i]!;
      if (!slot.write || slot.array === null) continue;
      for (let j = 0; j < this.#count; j++) {
        const other = this.#slots[j]!;
        if (j === i || other.array === null || !viewsOverlap(slot.array, other.array)) continue;
        if (other.write) {
          throw new RangeError(`simdopt: ${fn}: ${slot.name} and ${other.name} share memory; outputs must not overlap`);
        }
        const exactAlias = i === aliasOut && j === aliasIn && slot.offset === other.offset && slot.length === other.length;
        if (!exactAlias && slot.at < 0) slot.at = this.#reserve(slot.length);
      }
    }
  }

  /** Takes the scratch and copies the staged inputs in. */
  commit(): void {
    this.#base = scratch.floats(Math.max(this.#floats, 4));
    for (let i = 0; i < this.#count; i++) {
      const slot = this.#slots[i]!;
      if (slot.at < 0 || !slot.read || slot.array === null) continue;
      const ptr = this.#base + slot.at * 4;
      // A library view is copied from its offset: the scratch's growth may have detached it.
      if (slot.offset >= 0) heapF32().copyWithin(ptr >>> 2, slot.offset >>> 2, (slot.offset >>> 2) + slot.length);
      else copyIn(slot.array, ptr);
    }
  }

  ptr(slot: number): number {
    const s = this.#slots[slot]!;
    if (s.at >= 0) return this.#base + s.at * 4;
    return s.array === null ? 0 : s.offset;
  }

  /** Copies a written staged array back to the caller's array. */
  writeBack(slot: number): void {
    const s = this.#slots[slot]!;
    if (s.at < 0 || s.array === null) return;
    const ptr = this.#base + s.at * 4;
    if (s.offset >= 0) heapF32().copyWithin(s.offset >>> 2, ptr >>> 2, (ptr >>> 2) + s.length);
    else copyOut(ptr, s.array);
  }

  /** The written array: the caller's (a live view of it if it is a library view), or a new copy of the scratch. */
  result(slot: number, length: number): Float32Array {
    const s = this.#slots[slot]!;
    if (s.array !== null) {
      this.writeBack(slot);
      return s.offset >= 0 ? liveF32View(s.array, s.offset, length) : s.array;
    }
    return copyToNew(this.#base + s.at * 4, length);
  }
}

