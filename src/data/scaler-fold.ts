// The per-feature scalar steps of the scalers, over wasm memory: laying out a period pattern and
// folding period statistics back to features. They touch O(period) values, so they gain nothing
// from the module and cost it code; the arithmetic is the same (f64 where the kernels used f64,
// every f32 result rounded once with Math.fround; Math.min/max follow wasm's NaN and ±0 rules).
import { heapF32, heapU8 } from "../bindings/memory.js";

/** dst[k] = src[k mod channels] for k < period (f32; byte pointers). */
export function scalerExpand(src: number, channels: number, period: number, dst: number): void {
  const heap = heapF32();
  for (let k = 0; k < period; k++) heap[(dst >>> 2) + k] = heap[(src >>> 2) + (k % channels)]!;
}

/**
 * Folds the f64 period sums to `channels` features and writes offset = shift + mean and scale =
 * population standard deviation (1 where it is 0 or rounds to 0 in f32). `count` = samples per
 * feature. sum and sumSq must be 8-byte aligned (staging slots are).
 */
export function scalerFinishStandard(shift: number, sum: number, sumSq: number, channels: number, period: number,
  count: number, offset: number, scale: number): void {
  const f32 = heapF32();
  const f64 = new Float64Array(heapU8().buffer, 0, heapU8().byteLength >>> 3);
  for (let c = 0; c < channels; c++) {
    let s = 0;
    let q = 0;
    for (let k = c; k < period; k += channels) {
      s += f64[(sum >>> 3) + k]!;
      q += f64[(sumSq >>> 3) + k]!;
    }
    const std = Math.fround(Math.sqrt(Math.max((q - s * s / count) / count, 0)));
    f32[(offset >>> 2) + c] = f32[(shift >>> 2) + c]! + s / count;
    f32[(scale >>> 2) + c] = std > 0 ? std : 1;
  }
}

/** Folds period minima/maxima to `channels` features: offset = min, scale = max − min (1 where 0). */
export function scalerFinishMinMax(lo: number, hi: number, channels: number, period: number, offset: number, scale: number): void {
  const f32 = heapF32();
  for (let c = 0; c < channels; c++) {
    let a = f32[(lo >>> 2) + c]!;
    let b = f32[(hi >>> 2) + c]!;
    for (let k = c + channels; k < period; k += channels) {
      a = Math.min(a, f32[(lo >>> 2) + k]!);
      b = Math.max(b, f32[(hi >>> 2) + k]!);
    }
    const range = Math.fround(b - a);
    f32[(offset >>> 2) + c] = a;
    f32[(scale >>> 2) + c] = range > 0 ? range : 1;
  }
}
