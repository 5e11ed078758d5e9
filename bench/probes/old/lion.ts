// The optimizer kernels as they were before the shared elementwise driver (a frozen copy, used
// by the bench as the "old kernel" baseline).
import { tailIn, tailOut } from "./tail";
import { movingAverage } from "./common";

// Lion (Chen et al. 2023, as in lion-pytorch), one fused pass: read p, g, m once; write p, m once.
//   g ← ±g
//   p ← paramScale·p                         (decoupled weight decay: 1 − lr·wd)
//   p ← p − lr · sign(β1·m + (1−β1)·g)       (sign(0) = 0; NaN stays NaN)
//   m ← β2·m + (1−β2)·g
// The interpolation that picks the sign uses β1; the stored momentum uses β2.

// @ts-ignore: decorator
@inline function lionLanes(
  param: usize, grad: usize, expAvg: usize,
  gradSign: v128, paramScale: v128, lr: v128, beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128,
  hasDecoupled: bool,
): void {
  let p = v128.load(param);
  const g = f32x4.mul(v128.load(grad), gradSign);
  const m = v128.load(expAvg);
  if (hasDecoupled) p = f32x4.mul(p, paramScale);
  const direction = movingAverage(m, g, beta1, oneMinusBeta1);
  // ±1 carrying the direction's sign bit, zeroed where the direction is ±0, the NaN kept.
  const unit = v128.or(v128.and(direction, i32x4.splat(0x80000000)), f32x4.splat(1));
  let sign = v128.and(unit, f32x4.ne(direction, f32x4.splat(0)));
  sign = v128.bitselect(direction, sign, f32x4.ne(direction, direction));
  v128.store(param, f32x4.sub(p, f32x4.mul(lr, sign)));
  v128.store(expAvg, movingAverage(m, g, beta2, oneMinusBeta2));
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
export function lionStep(
  param: usize, grad: usize, expAvg: usize, length: i32,
  lr: f32, beta1: f64, beta2: f64, paramScale: f32, maximize: bool,
): void {
  const gradSignV = f32x4.splat(maximize ? -1 : 1);
  const paramScaleV = f32x4.splat(paramScale);
  const lrV = f32x4.splat(lr);
  const beta1V = f32x4.splat(<f32>beta1);
  const oneMinusBeta1V = f32x4.splat(<f32>(1 - beta1));
  const beta2V = f32x4.splat(<f32>beta2);
  const oneMinusBeta2V = f32x4.splat(<f32>(1 - beta2));
  const hasDecoupled = paramScale != 1;
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    lionLanes(param + offset, grad + offset, expAvg + offset,
      gradSignV, paramScaleV, lrV, beta1V, oneMinusBeta1V, beta2V, oneMinusBeta2V, hasDecoupled);
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    lionLanes(tailIn(0, param + body, tailBytes), tailIn(1, grad + body, tailBytes), tailIn(2, expAvg + body, tailBytes),
      gradSignV, paramScaleV, lrV, beta1V, oneMinusBeta1V, beta2V, oneMinusBeta2V, hasDecoupled);
    tailOut(0, param + body, tailBytes);
    tailOut(2, expAvg + body, tailBytes);
  }
}
