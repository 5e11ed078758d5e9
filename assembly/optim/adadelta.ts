import { scalar } from "../scratch";
import { elementwise, gradient, movingAverage, setConstant, setSignMask, ld, st } from "./common";

// torch.optim.Adadelta, one fused pass: read p, g, squareAvg, accDelta once; write each once.
//   g ← ±g + weightDecay·p
//   squareAvg ← ρ·squareAvg + (1−ρ)·g²
//   delta ← √(accDelta + ε) / √(squareAvg + ε) · g
//   accDelta ← ρ·accDelta + (1−ρ)·delta²
//   p ← p − lr·delta
// Here ε sits inside both square roots, as in Zeiler's paper and PyTorch.
//
// Constants: k0 the f32 sign bit, k1 weightDecay, k2 lr, k3 ρ, k4 1−ρ, k5 ε. Flags: f0 weight decay, f1 maximize.

class AdadeltaRule {
  // Splitting at the division (front: up to the denominator; back: the rest) measured no faster
  // here, as back would need the gradient again: front does it all.
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, squareAvg: usize, accDelta: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasWeightDecay: bool, maximize: bool, f2: bool, f3: bool, next: i32,
  ): v128 {
    const p = ld(param, next);
    const g = gradient(grad, next, p, maximize, k0, k1, hasWeightDecay);
    // Both state streams loaded before either is stored (a store would order the later load).
    const square = movingAverage(ld(squareAvg, next), f32x4.mul(g, g), k3, k4);
    const accumulated = ld(accDelta, next);
    st(squareAvg, square, next);
    const delta = f32x4.mul(f32x4.div(f32x4.sqrt(f32x4.add(accumulated, k5)), f32x4.sqrt(f32x4.add(square, k5))), g);
    st(accDelta, movingAverage(accumulated, f32x4.mul(delta, delta), k3, k4), next);
    st(param, f32x4.sub(p, f32x4.mul(k2, delta)), next);
    return k0;
  }

  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, squareAvg: usize, accDelta: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasWeightDecay: bool, maximize: bool, f2: bool, f3: bool, next: i32, pending: v128,
  ): void {}
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
/** Scalars (see scratch.ts): lr, rho, eps, weightDecay. */
export function adadeltaStep(param: usize, grad: usize, squareAvg: usize, accDelta: usize, length: i32, maximize: bool): void {
  const lr = <f32>scalar(0), rho = scalar(1), eps = <f32>scalar(2), weightDecay = <f32>scalar(3);
  setSignMask(0, true);
  setConstant(1, weightDecay);
  setConstant(2, lr);
  setConstant(3, <f32>rho);
  setConstant(4, <f32>(1 - rho));
  setConstant(5, eps);
  elementwise<AdadeltaRule>(length, param, grad, squareAvg, accDelta, 0, weightDecay != 0, maximize, false, false);
}
