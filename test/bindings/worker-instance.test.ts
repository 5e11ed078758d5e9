// instantiateForWorker in this thread: what a worker does with the module and shared memory the
// main thread hands it. Its instance must read its scalars from the scratch it is given (not the
// main instance's), run kernels over the same memory, and refuse a module that cannot be pointed
// at a scratch of its own.
import { beforeAll, describe, expect, it } from "vitest";
import { initSync } from "../../src/index.js";
import { F32Block, heapF32, stepScalars } from "../../src/bindings/memory.js";
import { kernels, moduleForThreads } from "../../src/bindings/instance.js";
import { instantiateForWorker } from "../../src/bindings/worker-instance.js";

beforeAll(() => initSync());

describe("instantiateForWorker", () => {
  it("points the new instance's scratch at the given block and runs its kernels over the shared memory", () => {
    const shared = moduleForThreads();
    expect(shared).not.toBeNull();
    const main = kernels();
    const scratch = new F32Block(Math.ceil(main.threadScratchBytes() / 4));
    const worker = instantiateForWorker(shared!.module, shared!.memory, scratch.ptr);
    // Scalars live at the end of the scratch (assembly/scratch.ts): the worker reads its own.
    expect(worker.scalarsAt()).toBe(scratch.ptr + main.threadScratchBytes() - 8 * 8);
    expect(main.scalarsAt()).not.toBe(worker.scalarsAt());

    // An SGD step by the worker instance: lr from the worker's scalar slots, while the main
    // instance's slots hold a different lr that must not be used.
    const param = new F32Block(5);
    const grad = new F32Block(5);
    param.view.set([1, 2, 3, 4, 5]);
    grad.view.set([1, -1, 2, -2, 0.5]);
    stepScalars().set([100, 0, 0, 0, 0]);
    const workerScalars = new Float64Array(shared!.memory.buffer, worker.scalarsAt(), 8);
    workerScalars.set([0.5, 0, 0, 0, 0]);
    worker.sgdStep(param.ptr, grad.ptr, 0, 5, false, false, true);
    expect(Array.from(param.view)).toEqual([0.5, 2.5, 2, 5, 4.75]);
    expect(Array.from(heapF32().subarray(param.ptr >>> 2, (param.ptr >>> 2) + 5))).toEqual([0.5, 2.5, 2, 5, 4.75]);
    for (const block of [param, grad, scratch]) block.free();
  });

  it("a module without setThreadScratch is refused by name", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    // A module that only imports env.memory (shared) and exports nothing.
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 2, 16, 1, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 3, 1, 1]);
    const module = new WebAssembly.Module(bytes);
    expect(() => instantiateForWorker(module, memory, 16)).toThrow(new TypeError("simdopt: the module has no setThreadScratch export"));
  });
});
