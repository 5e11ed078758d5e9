// Per-instance scratch for the tail slots, the broadcast loop constants, the GEMM edge tile and
// the step kernels' scalar arguments.
//
// Threads instantiate this module once each over one shared memory. Globals are per instance,
// memory is not: scratch at a fixed static address would be written by two threads at once. So
// the scratch lives wherever the global below points; the first instance uses the static block,
// and every worker's instance is pointed at a block of its own before it runs any kernel.

/** Bytes of scratch one instance needs: 8 tail slots, 12 constants, a 6×8 f32 tile, 8 scalars. */
export const SCRATCH_BYTES: usize = 16 * 8 + 16 * 12 + 6 * 8 * 4 + 8 * 8;
export const TAIL_SLOTS_AT: usize = 0;
export const CONSTANTS_AT: usize = 16 * 8;
export const TILE_AT: usize = 16 * 8 + 16 * 12;
export const SCALARS_AT: usize = 16 * 8 + 16 * 12 + 6 * 8 * 4;

export let scratchBase: usize = memory.data(<i32>SCRATCH_BYTES, 16);

/** Points this instance's scratch at `ptr` (16-byte aligned, SCRATCH_BYTES long). */
export function setThreadScratch(ptr: usize): void {
  scratchBase = ptr;
}

/** Bytes of scratch one instance needs (for the allocator on the TypeScript side). */
export function threadScratchBytes(): i32 {
  return <i32>SCRATCH_BYTES;
}

/** Where this instance's step kernels read their scalar arguments (8 f64; see `scalar`). */
export function scalarsAt(): usize {
  return scratchBase + SCALARS_AT;
}

/**
 * Scalar argument `i` of a step kernel. The step kernels take only integers (pointers, lengths,
 * flags) and read their floats here, written by the caller just before the call: JavaScript
 * passes an integer to wasm without allocating, while a float argument is boxed whenever V8 does
 * not inline the call, which would make an optimizer step allocate.
 */
// @ts-ignore: decorator
@inline export function scalar(i: i32): f64 {
  return load<f64>(scratchBase + SCALARS_AT + (<usize>i << 3));
}
