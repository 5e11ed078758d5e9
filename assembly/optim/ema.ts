import { scalar } from "../scratch";
// Exponential moving average of weights (torch.optim.swa_utils.get_ema_multi_avg_fn, which
// calls torch._foreach_lerp_(average, param, 1 − decay)):
//   average ← average + (1 − decay)·(param − average)
// and the in-place exchange of weights and averages for evaluation.

// The weight crosses as f64 so that 1 − decay is formed before rounding (decay = 0.999 rounded
// to float32 first would leave 1 − decay off by 1.3e-5 relative).
/** average ← average + (1 − decay)·(param − average). Scalar (see scratch.ts): decay. */
export function emaUpdate(average: usize, param: usize, length: i32): void {
  const weight = <f32>(1 - scalar(0));
  const w = f32x4.splat(weight);
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    const a = v128.load(average + offset);
    v128.store(average + offset, f32x4.add(a, f32x4.mul(w, f32x4.sub(v128.load(param + offset), a))));
  }
  for (let i = length & ~3; i < length; i++) {
    const at = <usize>i << 2;
    const a = load<f32>(average + at);
    store<f32>(average + at, a + weight * (load<f32>(param + at) - a));
  }
}

export function swapF32(a: usize, b: usize, length: i32): void {
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    const x = v128.load(a + offset);
    v128.store(a + offset, v128.load(b + offset));
    v128.store(b + offset, x);
  }
  for (let i = length & ~3; i < length; i++) {
    const at = <usize>i << 2;
    const x = load<f32>(a + at);
    store<f32>(a + at, load<f32>(b + at));
    store<f32>(b + at, x);
  }
}
