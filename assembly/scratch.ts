// Per-instance scratch for the tail slots, the broadcast loop constants and the GEMM edge tile.
//
// Threads instantiate this module once each over one shared memory. Globals are per instance,
// memory is not: scratch at a fixed static address would be written by two threads at once. So
// the scratch lives wherever the global below points; the first instance uses the static block,
// and every worker's instance is pointed at a block of its own before it runs any kernel.

/** Bytes of scratch one instance needs: 8 tail slots, 12 constants, a 6×8 f32 tile. */
export const SCRATCH_BYTES: usize = 16 * 8 + 16 * 12 + 6 * 8 * 4;
export const TAIL_SLOTS_AT: usize = 0;
export const CONSTANTS_AT: usize = 16 * 8;
export const TILE_AT: usize = 16 * 8 + 16 * 12;

export let scratchBase: usize = memory.data(<i32>SCRATCH_BYTES, 16);

/** Points this instance's scratch at `ptr` (16-byte aligned, SCRATCH_BYTES long). */
export function setThreadScratch(ptr: usize): void {
  scratchBase = ptr;
}

/** Bytes of scratch one instance needs (for the allocator on the TypeScript side). */
export function threadScratchBytes(): i32 {
  return <i32>SCRATCH_BYTES;
}
