import { scalar } from "../scratch";
import { decoupled, elementwise, gradient, setConstant, ld, st } from "./common";

// ADOPT (Taniguchi et al. 2024, as its reference adopt.py), one fused pass over p, g, m, v:
//   g ← g + l2·p                                    (coupled decay; 0 when decoupled)
//   first step: v ← v + g², nothing else changes
//   otherwise:  p ← paramScale·p                    (decoupled decay: 1 − lr·wd)
//               n ← clamp(g / max(√v, ε), ±clip)    (v of the previous step)
//               m ← m + (1−β1)·(n − m)              (torch lerp_)
//               p ← p − lr·m
//               v ← β2·v + (1−β2)·g²
//
// Constants: k0 l2, k1 paramScale, k2 ε, k3 clip, k4 −clip, k5 1−β1, k6 lr, k7 β2, k8 1−β2.
// Flags: f0 L2, f1 decoupled, f2 first step.
//
// max and clamp use pmin/pmax (one minps/maxps each; f32x4.min/max's NaN and ±0 rules cost V8
// several instructions): with the bound as the second operand a NaN still comes out NaN.

class AdoptRule {
  // front: the new v (stored) and the old one's denominator; back: the normalised step.
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, firstMoment: usize, secondMoment: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasL2: bool, hasDecoupled: bool, first: bool, f3: bool, next: i32,
  ): v128 {
    const g = gradient(grad, next, hasL2 ? ld(param, next) : k0, false, k0, k0, hasL2);
    const v = ld(secondMoment, next);
    const g2 = f32x4.mul(g, g);
    if (first) {
      st(secondMoment, f32x4.add(v, g2), next);
      return k0;
    }
    st(secondMoment, f32x4.add(f32x4.mul(k7, v), f32x4.mul(k8, g2)), next);
    return f32x4.pmax(f32x4.sqrt(v), k2);
  }

  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, firstMoment: usize, secondMoment: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasL2: bool, hasDecoupled: bool, first: bool, f3: bool, next: i32, pending: v128,
  ): void {
    if (first) return;
    const raw = ld(param, next);
    const g = gradient(grad, next, raw, false, k0, k0, hasL2);
    const n = f32x4.pmax(f32x4.pmin(f32x4.div(g, pending), k3), k4);
    const m0 = ld(firstMoment, next);
    const m = f32x4.add(m0, f32x4.mul(k5, f32x4.sub(n, m0)));
    st(firstMoment, m, next);
    st(param, f32x4.sub(decoupled(raw, k1, hasDecoupled), f32x4.mul(k6, m)), next);
  }
}

// β crosses as f64 so that 1 − β is rounded once (1 − f32(0.9999) would be off by 1e-4 relative).
/** Scalars (see scratch.ts): lr, beta1, beta2, eps, l2WeightDecay, paramScale, clip. */
export function adoptStep(param: usize, grad: usize, firstMoment: usize, secondMoment: usize, length: i32, first: bool): void {
  const lr = <f32>scalar(0), beta1 = scalar(1), beta2 = scalar(2), eps = <f32>scalar(3);
  const l2WeightDecay = <f32>scalar(4), paramScale = <f32>scalar(5), clip = <f32>scalar(6);
  setConstant(0, l2WeightDecay);
  setConstant(1, paramScale);
  setConstant(2, eps);
  setConstant(3, clip);
  setConstant(4, -clip);
  setConstant(5, <f32>(1 - beta1));
  setConstant(6, lr);
  setConstant(7, <f32>beta2);
  setConstant(8, <f32>(1 - beta2));
  elementwise<AdoptRule>(length, param, grad, firstMoment, secondMoment, 0,
    l2WeightDecay != 0, paramScale != 1, first, false);
}
