// Loads the relaxed-SIMD build in this process. Node 20 validates relaxed SIMD only behind a V8
// flag; the flag is switched on for the compile alone, since it is process-wide and other test
// files in the same process must go on loading the default build. Where relaxed SIMD is on by
// default, nothing is switched.
import v8 from "node:v8";
import { features, init } from "../../src/index.js";

// A function using i8x16.relaxed_swizzle (the probe src/bindings/instance.ts uses).
const RELAXED = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11]);

export async function initRelaxed(): Promise<void> {
  const switchOn = !WebAssembly.validate(RELAXED);
  if (switchOn) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  try {
    await init();
  } finally {
    if (switchOn) v8.setFlagsFromString("--no-experimental-wasm-relaxed-simd");
  }
  if (!features().relaxedSimd) throw new Error("the relaxed-SIMD build did not load");
}
