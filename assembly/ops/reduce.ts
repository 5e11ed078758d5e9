import { tailIn } from "../tail";

// Reductions over a float32 array, shared by gradient clipping and the non-finite guard.

/** 1 when every element is finite, 0 if any is NaN or ±Inf. x·0 is 0 for finite x and NaN otherwise. */
export function allFinite(data: usize, length: i32): i32 {
  const zero = f32x4.splat(0);
  let probe = zero;
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    probe = f32x4.add(probe, f32x4.mul(v128.load(data + offset), zero));
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) probe = f32x4.add(probe, f32x4.mul(v128.load(tailIn(0, data + body, tailBytes)), zero));
  return i32(v128.all_true<i32>(f32x4.eq(probe, zero)));
}
