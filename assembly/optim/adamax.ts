import { scalar } from "../scratch";
import { elementwise, gradient, movingAverage, setConstant, setSignMask, ld, st } from "./common";

// torch.optim.Adamax, one fused pass: read p, g, firstMoment, infinityNorm once; write each once.
//   g ← ±g + weightDecay·p
//   firstMoment ← β1·firstMoment + (1−β1)·g
//   infinityNorm ← max(β2·infinityNorm, |g| + ε)          (PyTorch's current form: ε inside the max)
//   p ← p − clr · firstMoment / infinityNorm
// with clr = lr / (1 − β1^t) computed once per step in TypeScript.
//
// Constants: k0 the f32 sign bit, k1 weightDecay, k2 β1, k3 1−β1, k4 β2, k5 ε, k6 clr.
// Flags: f0 weight decay, f1 maximize.

class AdamaxRule {
  // front: the moment and the infinity norm u; back: the division and p.
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, firstMoment: usize, infinityNorm: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasWeightDecay: bool, maximize: bool, f2: bool, f3: bool, next: i32,
  ): v128 {
    const g = gradient(grad, next, hasWeightDecay ? ld(param, next) : k1, maximize, k0, k1, hasWeightDecay);
    // Both state streams loaded before either is stored (a store would order the later load).
    const m = movingAverage(ld(firstMoment, next), g, k2, k3);
    const u = f32x4.max(f32x4.mul(k4, ld(infinityNorm, next)), f32x4.add(f32x4.abs(g), k5));
    st(firstMoment, m, next);
    st(infinityNorm, u, next);
    return u;
  }

  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, firstMoment: usize, infinityNorm: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasWeightDecay: bool, maximize: bool, f2: bool, f3: bool, next: i32, pending: v128,
  ): void {
    const p = ld(param, next);
    st(param, f32x4.sub(p, f32x4.mul(k6, f32x4.div(ld(firstMoment, next), pending))), next);
  }
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
/** Scalars (see scratch.ts): beta1, beta2, eps, weightDecay, clr. */
export function adamaxStep(param: usize, grad: usize, firstMoment: usize, infinityNorm: usize, length: i32, maximize: bool): void {
  const beta1 = scalar(0), beta2 = scalar(1), eps = <f32>scalar(2), weightDecay = <f32>scalar(3), clr = <f32>scalar(4);
  setSignMask(0, true);
  setConstant(1, weightDecay);
  setConstant(2, <f32>beta1);
  setConstant(3, <f32>(1 - beta1));
  setConstant(4, <f32>beta2);
  setConstant(5, eps);
  setConstant(6, clr);
  elementwise<AdamaxRule>(length, param, grad, firstMoment, infinityNorm, 0, weightDecay != 0, maximize, false, false);
}
