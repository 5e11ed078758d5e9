// The optimizer kernels as they were before the shared elementwise driver (a frozen copy, used
// by the bench as the "old kernel" baseline).
// Lane math shared by the optimizer kernels.

/**
 * decay·average + (1 − decay)·x: the exponential moving average behind every adaptive optimizer's
 * state (Adam's moments, RMSprop's and Adadelta's square averages, Lion's momentum). 1 − decay
 * is passed in, rounded once from the f64 decay by the kernel's driver.
 */
// @ts-ignore: decorator
@inline export function movingAverage(average: v128, x: v128, decay: v128, oneMinusDecay: v128): v128 {
  return f32x4.add(f32x4.mul(decay, average), f32x4.mul(oneMinusDecay, x));
}
