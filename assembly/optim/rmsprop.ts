import { scalar } from "../scratch";
import { elementwise, gradient, movingAverage, setConstant, setSignMask, ld, st } from "./common";

// torch.optim.RMSprop, one fused pass: read p, g, squareAvg (, gradAvg, momentumBuffer) once;
// write each of them once.
//   g ← ±g + weightDecay·p
//   squareAvg ← α·squareAvg + (1−α)·g²
//   gradAvg ← α·gradAvg + (1−α)·g                       (centered)
//   avg ← √max(squareAvg − gradAvg², 0) + ε   (centered)   or   √squareAvg + ε
// The clamp differs from PyTorch on purpose: for gradients so small that both averages underflow
// in float32, the difference can round below 0, and PyTorch's square root then gives NaN.
//   buf ← momentum·buf + g/avg;  p ← p − lr·buf        (momentum > 0)
//   p ← p − lr·g/avg                                   (otherwise)
// gradAvg is 0 when not centered, momentumBuffer 0 when momentum is 0 (no such state then).
//
// Constants: k0 the f32 sign bit, k1 weightDecay, k2 lr, k3 α, k4 1−α, k5 ε, k6 momentum.
// Flags: f0 momentum, f1 centered, f2 weight decay, f3 maximize.

class RmspropRule {
  // Splitting at the division (front: up to the denominator; back: the rest) measured no faster
  // here, as back would need the gradient again: front does it all.
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, squareAvg: usize, gradAvg: usize, momentumBuffer: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasMomentum: bool, centered: bool, hasWeightDecay: bool, maximize: bool, next: i32,
  ): v128 {
    const p = ld(param, next);
    const g = gradient(grad, next, p, maximize, k0, k1, hasWeightDecay);
    // Every state stream is loaded before any is stored (a store would order the later loads).
    const square = movingAverage(ld(squareAvg, next), f32x4.mul(g, g), k3, k4);
    const mean = centered ? movingAverage(ld(gradAvg, next), g, k3, k4) : k0;
    const buffer = hasMomentum ? ld(momentumBuffer, next) : k0;
    st(squareAvg, square, next);
    let variance = square;
    if (centered) {
      st(gradAvg, mean, next);
      // pmax (b < a ? a : b, one maxps on x86) rather than max, whose NaN and ±0 rules cost a
      // sequence of instructions: a NaN variance (from NaN/Inf gradients) still stays NaN.
      variance = f32x4.pmax(f32x4.sub(square, f32x4.mul(mean, mean)), f32x4.splat(0));
    }
    let update = f32x4.div(g, f32x4.add(f32x4.sqrt(variance), k5));
    if (hasMomentum) {
      update = f32x4.add(f32x4.mul(k6, buffer), update);
      st(momentumBuffer, update, next);
    }
    st(param, f32x4.sub(p, f32x4.mul(k2, update)), next);
    return k0;
  }

  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, squareAvg: usize, gradAvg: usize, momentumBuffer: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasMomentum: bool, centered: bool, hasWeightDecay: bool, maximize: bool, next: i32, pending: v128,
  ): void {}
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
/** Scalars (see scratch.ts): lr, alpha, eps, weightDecay, momentum. */
export function rmspropStep(
  param: usize, grad: usize, squareAvg: usize, gradAvg: usize, momentumBuffer: usize, length: i32, maximize: bool,
): void {
  const lr = <f32>scalar(0), alpha = scalar(1), eps = <f32>scalar(2), weightDecay = <f32>scalar(3), momentum = <f32>scalar(4);
  setSignMask(0, true);
  setConstant(1, weightDecay);
  setConstant(2, lr);
  setConstant(3, <f32>alpha);
  setConstant(4, <f32>(1 - alpha));
  setConstant(5, eps);
  setConstant(6, momentum);
  elementwise<RmspropRule>(length, param, grad, squareAvg, gradAvg, momentumBuffer,
    momentumBuffer != 0, gradAvg != 0, weightDecay != 0, maximize);
}
