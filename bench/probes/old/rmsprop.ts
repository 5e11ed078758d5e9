// The optimizer kernels as they were before the shared elementwise driver (a frozen copy, used
// by the bench as the "old kernel" baseline).
import { tailIn, tailOut } from "./tail";
import { movingAverage } from "./common";

// torch.optim.RMSprop, one fused pass: read p, g, squareAvg (, gradAvg, momentumBuffer) once;
// write each of them once.
//   g ← ±g + weightDecay·p
//   squareAvg ← α·squareAvg + (1−α)·g²
//   gradAvg ← α·gradAvg + (1−α)·g                       (centered)
//   avg ← √(squareAvg − gradAvg²) + ε   (centered)   or   √squareAvg + ε
//   buf ← momentum·buf + g/avg;  p ← p − lr·buf        (momentum > 0)
//   p ← p − lr·g/avg                                   (otherwise)
// gradAvg is 0 when not centered, momentumBuffer 0 when momentum is 0 (no such state then).

// @ts-ignore: decorator
@inline function rmspropLanes(
  param: usize, grad: usize, squareAvg: usize, gradAvg: usize, momentumBuffer: usize,
  gradSign: v128, weightDecay: v128, lr: v128, alpha: v128, oneMinusAlpha: v128, eps: v128, momentum: v128,
  hasWeightDecay: bool, centered: bool, hasMomentum: bool,
): void {
  const p = v128.load(param);
  let g = f32x4.mul(v128.load(grad), gradSign);
  if (hasWeightDecay) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  const square = movingAverage(v128.load(squareAvg), f32x4.mul(g, g), alpha, oneMinusAlpha);
  v128.store(squareAvg, square);
  let variance = square;
  if (centered) {
    const mean = movingAverage(v128.load(gradAvg), g, alpha, oneMinusAlpha);
    v128.store(gradAvg, mean);
    variance = f32x4.sub(square, f32x4.mul(mean, mean));
  }
  const scaled = f32x4.div(g, f32x4.add(f32x4.sqrt(variance), eps));
  if (hasMomentum) {
    const buf = f32x4.add(f32x4.mul(momentum, v128.load(momentumBuffer)), scaled);
    v128.store(momentumBuffer, buf);
    v128.store(param, f32x4.sub(p, f32x4.mul(lr, buf)));
  } else {
    v128.store(param, f32x4.sub(p, f32x4.mul(lr, scaled)));
  }
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
export function rmspropStep(
  param: usize, grad: usize, squareAvg: usize, gradAvg: usize, momentumBuffer: usize, length: i32,
  lr: f32, alpha: f64, eps: f32, weightDecay: f32, momentum: f32, maximize: bool,
): void {
  const gradSignV = f32x4.splat(maximize ? -1 : 1);
  const weightDecayV = f32x4.splat(weightDecay);
  const lrV = f32x4.splat(lr);
  const alphaV = f32x4.splat(<f32>alpha);
  const oneMinusAlphaV = f32x4.splat(<f32>(1 - alpha));
  const epsV = f32x4.splat(eps);
  const momentumV = f32x4.splat(momentum);
  const hasWeightDecay = weightDecay != 0;
  const centered = gradAvg != 0;
  const hasMomentum = momentumBuffer != 0;
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    rmspropLanes(param + offset, grad + offset, squareAvg + offset,
      centered ? gradAvg + offset : 0, hasMomentum ? momentumBuffer + offset : 0,
      gradSignV, weightDecayV, lrV, alphaV, oneMinusAlphaV, epsV, momentumV, hasWeightDecay, centered, hasMomentum);
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    const gradAvgTail = centered ? gradAvg + body : 0;
    const momentumTail = hasMomentum ? momentumBuffer + body : 0;
    rmspropLanes(tailIn(0, param + body, tailBytes), tailIn(1, grad + body, tailBytes), tailIn(2, squareAvg + body, tailBytes),
      tailIn(3, gradAvgTail, tailBytes), tailIn(4, momentumTail, tailBytes),
      gradSignV, weightDecayV, lrV, alphaV, oneMinusAlphaV, epsV, momentumV, hasWeightDecay, centered, hasMomentum);
    tailOut(0, param + body, tailBytes);
    tailOut(2, squareAvg + body, tailBytes);
    tailOut(3, gradAvgTail, tailBytes);
    tailOut(4, momentumTail, tailBytes);
  }
}
