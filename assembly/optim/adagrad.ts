import { scalar } from "../scratch";
import { elementwise, elementwiseSingle, gradient, setConstant, setSignMask, ld, st, shrink, FlagOn, FlagOff } from "./common";

// torch.optim.Adagrad, one fused pass: read p, g, stateSum once; write p, stateSum once.
//   g ← ±g + weightDecay·p
//   stateSum ← stateSum + g²
//   p ← p − clr · g / (√stateSum + ε)
// with clr = lr / (1 + (t−1)·lrDecay) computed once per step in TypeScript. ε is added after
// the square root, as in PyTorch. With l1 > 0 (TensorFlow's ProximalAdagrad, with PyTorch's
// per-element step size lr_eff = clr/(√stateSum + ε)):
//   p ← sign(p)·max(|p| − lr_eff·l1, 0)
//
// Constants: k0 the f32 sign bit, k1 weightDecay, k2 clr, k3 ε, k4 l1. Flags: f0 weight
// decay, f1 maximize; l1 is the class's type argument (AdagradRule<FlagOn>), so the l1 = 0 loops
// are unchanged.

class AdagradRule<L1> {
  // Splitting at the division (front: up to the denominator; back: the rest) measured no faster
  // here, as back would need the gradient again: front does it all.
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, stateSum: usize, s1: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasWeightDecay: bool, maximize: bool, f2: bool, f3: bool, next: i32,
  ): v128 {
    const p = ld(param, next);
    const g = gradient(grad, next, p, maximize, k0, k1, hasWeightDecay);
    const sum = f32x4.add(ld(stateSum, next), f32x4.mul(g, g));
    st(stateSum, sum, next);
    const denom = f32x4.add(f32x4.sqrt(sum), k3);
    if (sizeof<L1>() == sizeof<FlagOn>()) {
      // One division: the element's step size lr_eff = clr/(√sum + ε) scales both g and l1.
      const lrEff = f32x4.div(k2, denom);
      st(param, shrink(f32x4.sub(p, f32x4.mul(lrEff, g)), f32x4.mul(lrEff, k4), k0), next);
    } else {
      st(param, f32x4.sub(p, f32x4.mul(k2, f32x4.div(g, denom))), next);
    }
    return k0;
  }

  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, stateSum: usize, s1: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasWeightDecay: bool, maximize: bool, f2: bool, f3: bool, next: i32, pending: v128,
  ): void {}
}

/** Scalars (see scratch.ts): clr, eps, weightDecay, l1. */
export function adagradStep(param: usize, grad: usize, stateSum: usize, length: i32, maximize: bool): void {
  const clr = <f32>scalar(0), eps = <f32>scalar(1), weightDecay = <f32>scalar(2), l1 = scalar(3);
  setSignMask(0, true);
  setConstant(1, weightDecay);
  setConstant(2, clr);
  setConstant(3, eps);
  setConstant(4, <f32>l1);
  if (l1 != 0) elementwiseSingle<AdagradRule<FlagOn>>(length, param, grad, stateSum, 0, 0, weightDecay != 0, maximize, false, false);
  else elementwise<AdagradRule<FlagOff>>(length, param, grad, stateSum, 0, 0, weightDecay != 0, maximize, false, false);
}
