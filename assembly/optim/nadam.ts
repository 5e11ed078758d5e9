import { scalar } from "../scratch";
import { decoupled, elementwise, gradient, movingAverage, setConstant, setSignMask, ld, st } from "./common";

// torch.optim.NAdam, one fused pass: read p, g, m, v once; write each once.
//   g ← ±g + l2WeightDecay·p                 (L2 form; 0 with decoupledWeightDecay)
//   p ← paramScale·p                         (decoupled form 1 − lr·wd; 1 otherwise)
//   m ← β1·m + (1−β1)·g
//   v ← β2·v + (1−β2)·g²
//   p ← p − (gradCoeff·g + momentCoeff·m) / (√v · invBiasCorrection2Sqrt + ε)
// with, computed once per step in TypeScript from μ_t, μ_{t+1} and Π μ_i:
//   gradCoeff = lr·(1 − μ_t) / (1 − Π_{i≤t} μ_i),  momentCoeff = lr·μ_{t+1} / (1 − Π_{i≤t+1} μ_i).
// PyTorch applies the two terms by two addcdivs over the same denominator; one division here.
//
// Constants: k0 the f32 sign bit, k1 l2WeightDecay, k2 paramScale, k3 β1, k4 1−β1, k5 β2, k6 1−β2,
// k7 invBiasCorrection2Sqrt, k8 ε, k9 gradCoeff, k10 momentCoeff. Flags: f0 L2, f1 decoupled, f2 maximize.

class NadamRule {
  // Splitting at the division (front: up to the denominator; back: the rest) measured no faster
  // here, as back would need the gradient again: front does it all.
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, firstMoments: usize, secondMoments: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasL2: bool, hasDecoupled: bool, maximize: bool, f3: bool, next: i32,
  ): v128 {
    const p = ld(param, next);
    const g = gradient(grad, next, p, maximize, k0, k1, hasL2);
    // Adam's moments as in adamMoments, but m stays in a register (NAdam needs it at once;
    // reading it back measured slower).
    const m = movingAverage(ld(firstMoments, next), g, k3, k4);
    const v = movingAverage(ld(secondMoments, next), f32x4.mul(g, g), k5, k6);
    st(firstMoments, m, next);
    st(secondMoments, v, next);
    const denom = f32x4.add(f32x4.mul(f32x4.sqrt(v), k7), k8);
    const numer = f32x4.add(f32x4.mul(k9, g), f32x4.mul(k10, m));
    st(param, f32x4.sub(decoupled(p, k2, hasDecoupled), f32x4.div(numer, denom)), next);
    return k0;
  }

  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, firstMoments: usize, secondMoments: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasL2: bool, hasDecoupled: bool, maximize: bool, f3: bool, next: i32, pending: v128,
  ): void {}
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
/** Scalars (see scratch.ts): beta1, beta2, eps, l2WeightDecay, paramScale, invBiasCorrection2Sqrt, gradCoeff, momentCoeff. */
export function nadamStep(param: usize, grad: usize, firstMoment: usize, secondMoment: usize, length: i32, maximize: bool): void {
  const beta1 = scalar(0), beta2 = scalar(1), eps = <f32>scalar(2), l2WeightDecay = <f32>scalar(3), paramScale = <f32>scalar(4);
  const invBiasCorrection2Sqrt = <f32>scalar(5), gradCoeff = <f32>scalar(6), momentCoeff = <f32>scalar(7);
  setSignMask(0, true);
  setConstant(1, l2WeightDecay);
  setConstant(2, paramScale);
  setConstant(3, <f32>beta1);
  setConstant(4, <f32>(1 - beta1));
  setConstant(5, <f32>beta2);
  setConstant(6, <f32>(1 - beta2));
  setConstant(7, invBiasCorrection2Sqrt);
  setConstant(8, eps);
  setConstant(9, gradCoeff);
  setConstant(10, momentCoeff);
  elementwise<NadamRule>(length, param, grad, firstMoment, secondMoment, 0,
    l2WeightDecay != 0, paramScale != 1, maximize, false);
}
