// In a worker thread: the module the main thread loaded, instantiated over its shared memory.
// Kept out of instance.ts so that the entries' module graph does not carry it.

import type { Kernels } from "./kernels.js";

/**
 * In a worker thread: instantiates the module the main thread loaded over its shared
 * memory and points the instance's scratch at `scratch` (see assembly/scratch.ts). The main
 * thread's allocator state is not touched: workers only run kernels on pointers they are given.
 */
export function instantiateForWorker(module: WebAssembly.Module, memory: WebAssembly.Memory, scratch: number): Kernels {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as Kernels;
  if (typeof exports.setThreadScratch !== "function") throw new TypeError("simdopt: the module has no setThreadScratch export");
  exports.setThreadScratch(scratch);
  return exports;
}

