import { scalar } from "../scratch";
import { adamMoments, decoupled, elementwise, gradient, setConstant, setSignMask, ld, st } from "./common";

// torch.optim.RAdam, one fused pass: read p, g, m, v once; write each once.
//   g ← ±g + l2WeightDecay·p                 (L2 form; 0 with decoupledWeightDecay)
//   p ← paramScale·p                         (decoupled form 1 − lr·wd; 1 otherwise)
//   m ← β1·m + (1−β1)·g
//   v ← β2·v + (1−β2)·g²
//   p ← p − stepSize · m / (√v + ε)          (rectified: ρ_t > 5)
//   p ← p − stepSize · m                     (otherwise: the un-adapted step)
// TypeScript decides ρ_t > 5 once per step and passes stepSize = lr·r_t·√(1−β2^t) / (1−β1^t)
// when rectified (r_t the rectification term), lr / (1−β1^t) otherwise. PyTorch's adaptive
// term is √(1−β2^t) / (√v + ε): ε is added to √v, not to the bias-corrected √v̂.
//
// Constants: k0 the f32 sign bit, k1 l2WeightDecay, k2 paramScale, k3 β1, k4 1−β1, k5 β2, k6 1−β2,
// k7 ε, k8 stepSize. Flags: f0 rectified (most steps), f1 decoupled, f2 L2, f3 maximize.

class RadamRule {
  // front: the moments and, rectified, the denominator √v + ε; back: the update and the parameter.
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, firstMoments: usize, secondMoments: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    rectified: bool, hasDecoupled: bool, hasL2: bool, maximize: bool, next: i32,
  ): v128 {
    const g = gradient(grad, next, hasL2 ? ld(param, next) : k1, maximize, k0, k1, hasL2);
    const v = adamMoments(firstMoments, secondMoments, next, g, k3, k4, k5, k6);
    return rectified ? f32x4.add(f32x4.sqrt(v), k7) : v;
  }

  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, firstMoments: usize, secondMoments: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    rectified: bool, hasDecoupled: bool, hasL2: bool, maximize: bool, next: i32, pending: v128,
  ): void {
    const m = ld(firstMoments, next);
    const update = rectified ? f32x4.div(m, pending) : m;
    st(param, f32x4.sub(decoupled(ld(param, next), k2, hasDecoupled), f32x4.mul(k8, update)), next);
  }
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
/** Scalars (see scratch.ts): beta1, beta2, eps, l2WeightDecay, paramScale, stepSize. */
export function radamStep(
  param: usize, grad: usize, firstMoment: usize, secondMoment: usize, length: i32, rectified: bool, maximize: bool,
): void {
  const beta1 = scalar(0), beta2 = scalar(1), eps = <f32>scalar(2), l2WeightDecay = <f32>scalar(3), paramScale = <f32>scalar(4), stepSize = <f32>scalar(5);
  setSignMask(0, true);
  setConstant(1, l2WeightDecay);
  setConstant(2, paramScale);
  setConstant(3, <f32>beta1);
  setConstant(4, <f32>(1 - beta1));
  setConstant(5, <f32>beta2);
  setConstant(6, <f32>(1 - beta2));
  setConstant(7, eps);
  setConstant(8, stepSize);
  elementwise<RadamRule>(length, param, grad, firstMoment, secondMoment, 0,
    rectified, paramScale != 1, l2WeightDecay != 0, maximize);
}
