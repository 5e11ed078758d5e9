// Tails of the batch-norm kernels, handled in one place. (The optimizer kernels run their tails
// in place with partial loads and stores: see assembly/optim/common.ts.)
//
// Kernels run their math on four f32 lanes at a time. For the last `length % 4` elements a
// kernel copies each stream into a zeroed 16-byte slot here, runs the very same vector body on
// the slots, and copies the written streams back. So each kernel's math is written once, the
// tail gets bit-identical arithmetic, and no access strays past the end of a caller's buffer
// (row-sparse steps point kernels into the middle of a table, so over-reading would be wrong).
// Inactive lanes compute on zeros; their results are discarded.

import { scratchBase, TAIL_SLOTS_AT } from "./scratch";

// The slots are per instance (see scratch.ts): each thread stages its own tails.

/** Copies `bytes` (< 16) from `source` into slot `stream`; returns the slot, or 0 for a null stream. */
// @ts-ignore: decorator
@inline export function tailIn(stream: i32, source: usize, bytes: usize): usize {
  if (source == 0) return 0;
  const slot = scratchBase + TAIL_SLOTS_AT + (<usize>stream << 4);
  v128.store(slot, i32x4.splat(0));
  memory.copy(slot, source, bytes);
  return slot;
}

/** Copies the first `bytes` of slot `stream` back to `destination` (no-op for a null stream). */
// @ts-ignore: decorator
@inline export function tailOut(stream: i32, destination: usize, bytes: usize): void {
  if (destination == 0) return;
  memory.copy(destination, scratchBase + TAIL_SLOTS_AT + (<usize>stream << 4), bytes);
}
