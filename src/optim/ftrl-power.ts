import { heapF32, stepScalars } from "../bindings/memory.js";

const f = Math.fround;

/**
 * Ftrl's update for an lrPower other than −0.5, 0 and −1, as a scalar loop over wasm memory (the
 * slow path: about as fast as plain JavaScript). The kernel (assembly/optim/ftrl.ts) covers the
 * three common powers; a pow per lane there would add some 3.5 KB of code to every build for a
 * setting hardly anyone uses. Every operation is the kernel's, in its order, each rounded to f32
 * as the kernel rounds it, with the power taken in f64 and rounded once (at least as accurate as
 * an f32 pow). Pointers are byte offsets; the scalars are those of ftrlStep, read from the same slots.
 */
export function ftrlGeneralPower(param: number, grad: number, accumulator: number, linear: number, length: number): void {
  const scalars = stepScalars();
  const lr = scalars[0]!, lrPower = scalars[1]!, l1 = scalars[2]!, l2 = scalars[3]!, l2Shrinkage = scalars[4]!, beta = scalars[5]!;
  const heap = heapF32();
  const invLr = f(1 / lr);
  const shrinkage = f(2 * l2Shrinkage);
  const fixed = f(2 * l2 + beta / lr);
  const upper = f(l1);
  const lower = -upper;
  const exponent = f(-lrPower);
  const p0 = param >>> 2, g0 = grad >>> 2, n0 = accumulator >>> 2, z0 = linear >>> 2;
  for (let i = 0; i < length; i++) {
    const p = heap[p0 + i]!;
    const g = heap[g0 + i]!;
    const n = heap[n0 + i]!;
    const nNew = f(n + f(g * g));
    const powNew = f(nNew ** exponent);
    const sigma = f(f(powNew - f(n ** exponent)) * invLr);
    const gradToUse = shrinkage !== 0 ? f(g + f(shrinkage * p)) : g;
    const zNew = f(heap[z0 + i]! + f(gradToUse - f(sigma * p)));
    // The kernel's pmax/pmin: a NaN z passes through.
    const atLeast = zNew < lower ? lower : zNew;
    const clipped = upper < atLeast ? upper : atLeast;
    heap[n0 + i] = nNew;
    heap[z0 + i] = zNew;
    heap[p0 + i] = f(f(clipped - zNew) / f(f(powNew * invLr) + fixed));
  }
}
