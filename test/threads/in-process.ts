// Helpers of the in-process thread tests (pool, parallel, step-batch): seeded blocks in wasm
// memory, and a stand-in worker that acts on the shared control block while the calling thread
// runs a batch (the moment it publishes the batch, or the moment it sleeps waiting for one).
import { vi } from "vitest";
import { F32Block, stepScalars } from "../../src/bindings/memory.js";
import { CTRL, PIECE_STRIDE, runPiece } from "../../src/threads/shared.js";
import { batchArrays, ownKernels } from "../../src/threads/pool.js";
import { seededRandom } from "../reference/random.js";

/** A block of `length` seeded values in [-1, 1). */
export function randomBlock(length: number, seed: number): F32Block {
  const block = new F32Block(length);
  const random = seededRandom(seed);
  const view = block.view;
  for (let i = 0; i < length; i++) view[i] = 2 * random() - 1;
  return block;
}

export function randomF32(length: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length }, () => 2 * random() - 1);
}

/** The bits of each element (so that −0, NaN payloads and last-bit changes all count). */
export function bits(values: ArrayLike<number>): number[] {
  return Array.from(new Uint32Array(Float32Array.from(values).buffer));
}

const realAdd = Atomics.add.bind(Atomics) as (array: Int32Array, index: number, value: number) => number;

/** Claims the next task as a worker would: its index, or −1 when none is left. */
export function claim(ctrl: Int32Array): number {
  const t = realAdd(ctrl, CTRL.NEXT, 1);
  return t < Atomics.load(ctrl, CTRL.COUNT) ? t : -1;
}

/** Runs task t's pieces as a worker would (on the main instance's kernels), and reports it done. */
export function runTask(t: number): void {
  const { ctrl, bounds, pieces, results } = batchArrays();
  for (let p = bounds[t]!; p < bounds[t + 1]!; p++) results[p] = runPiece(ownKernels(), stepScalars(), pieces, p * PIECE_STRIDE);
  realAdd(ctrl, CTRL.WORKER_TASKS, 1);
  realAdd(ctrl, CTRL.DONE, 1);
}

/** Calls `act` once, right after the calling thread publishes its next batch. */
export function onNextPublish(act: (ctrl: Int32Array) => void): { restore(): void } {
  let armed = true;
  const spy = vi.spyOn(Atomics, "add").mockImplementation(((array: Int32Array, index: number, value: number) => {
    const before = realAdd(array, index, value);
    if (armed && index === CTRL.GEN && array === (batchArrays() as ReturnType<typeof batchArrays> | null)?.ctrl) {
      armed = false;
      act(array);
    }
    return before;
  }) as typeof Atomics.add);
  return { restore: () => spy.mockRestore() };
}
