// The optimizer kernels as they were before the shared elementwise driver (a frozen copy, used
// by the bench as the "old kernel" baseline).
import { tailIn, tailOut } from "./tail";
import { movingAverage } from "./common";

// torch.optim.Adadelta, one fused pass: read p, g, squareAvg, accDelta once; write each once.
//   g ← ±g + weightDecay·p
//   squareAvg ← ρ·squareAvg + (1−ρ)·g²
//   delta ← √(accDelta + ε) / √(squareAvg + ε) · g
//   accDelta ← ρ·accDelta + (1−ρ)·delta²
//   p ← p − lr·delta
// Here ε sits inside both square roots, as in Zeiler's paper and PyTorch.

// @ts-ignore: decorator
@inline function adadeltaLanes(
  param: usize, grad: usize, squareAvg: usize, accDelta: usize,
  gradSign: v128, weightDecay: v128, lr: v128, rho: v128, oneMinusRho: v128, eps: v128, hasWeightDecay: bool,
): void {
  const p = v128.load(param);
  let g = f32x4.mul(v128.load(grad), gradSign);
  if (hasWeightDecay) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  const square = movingAverage(v128.load(squareAvg), f32x4.mul(g, g), rho, oneMinusRho);
  v128.store(squareAvg, square);
  const accumulated = v128.load(accDelta);
  const delta = f32x4.mul(f32x4.div(f32x4.sqrt(f32x4.add(accumulated, eps)), f32x4.sqrt(f32x4.add(square, eps))), g);
  v128.store(accDelta, movingAverage(accumulated, f32x4.mul(delta, delta), rho, oneMinusRho));
  v128.store(param, f32x4.sub(p, f32x4.mul(lr, delta)));
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
export function adadeltaStep(
  param: usize, grad: usize, squareAvg: usize, accDelta: usize, length: i32,
  lr: f32, rho: f64, eps: f32, weightDecay: f32, maximize: bool,
): void {
  const gradSignV = f32x4.splat(maximize ? -1 : 1);
  const weightDecayV = f32x4.splat(weightDecay);
  const lrV = f32x4.splat(lr);
  const rhoV = f32x4.splat(<f32>rho);
  const oneMinusRhoV = f32x4.splat(<f32>(1 - rho));
  const epsV = f32x4.splat(eps);
  const hasWeightDecay = weightDecay != 0;
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    adadeltaLanes(param + offset, grad + offset, squareAvg + offset, accDelta + offset,
      gradSignV, weightDecayV, lrV, rhoV, oneMinusRhoV, epsV, hasWeightDecay);
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    adadeltaLanes(tailIn(0, param + body, tailBytes), tailIn(1, grad + body, tailBytes),
      tailIn(2, squareAvg + body, tailBytes), tailIn(3, accDelta + body, tailBytes),
      gradSignV, weightDecayV, lrV, rhoV, oneMinusRhoV, epsV, hasWeightDecay);
    tailOut(0, param + body, tailBytes);
    tailOut(2, squareAvg + body, tailBytes);
    tailOut(3, accDelta + body, tailBytes);
  }
}
