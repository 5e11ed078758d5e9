import { scalar } from "../scratch";
import { elementwise, setConstant, ld, st } from "./common";

// Schedule-Free AdamW (schedulefree.AdamWScheduleFree), one fused pass over y (the parameter in
// train mode), g, z, v:
//   v ← β2·v + (1−β2)·g²
//   u ← g / (√v·invBiasCorrection2Sqrt + ε) + wd·y
//   y ← y + ckp1·(z − y) + c·u                   (c = lr·(β1·(1 − ckp1) − 1))
//   z ← z − lr·u
// On a parameter's first step z starts as a copy of y.
//
// Constants: k0 β2, k1 1−β2, k2 invBiasCorrection2Sqrt, k3 ε, k4 wd, k5 ckp1, k6 c, k7 lr.
// Flags: f0 weight decay, f2 first step (z ← y).

class ScheduleFreeRule {
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, z: usize, secondMoment: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasDecay: bool, f1: bool, first: bool, f3: bool, next: i32,
  ): v128 {
    const g = ld(grad, next);
    const v = f32x4.add(f32x4.mul(k0, ld(secondMoment, next)), f32x4.mul(k1, f32x4.mul(g, g)));
    st(secondMoment, v, next);
    return f32x4.add(f32x4.mul(f32x4.sqrt(v), k2), k3);
  }

  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, z: usize, secondMoment: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasDecay: bool, f1: bool, first: bool, f3: bool, next: i32, pending: v128,
  ): void {
    const y = ld(param, next);
    const zOld = first ? y : ld(z, next);
    let u = f32x4.div(ld(grad, next), pending);
    if (hasDecay) u = f32x4.add(u, f32x4.mul(k4, y));
    st(param, f32x4.add(f32x4.add(y, f32x4.mul(k5, f32x4.sub(zOld, y))), f32x4.mul(k6, u)), next);
    st(z, f32x4.sub(zOld, f32x4.mul(k7, u)), next);
  }
}

// β2 crosses as f64 so that 1 − β2 is rounded once.
/** Scalars (see scratch.ts): beta2, eps, weightDecay, invBiasCorrection2Sqrt, ckp1, yStep, lr. */
export function scheduleFreeStep(param: usize, grad: usize, z: usize, secondMoment: usize, length: i32, first: bool): void {
  const beta2 = scalar(0), eps = <f32>scalar(1), weightDecay = <f32>scalar(2), invBiasCorrection2Sqrt = <f32>scalar(3);
  const ckp1 = <f32>scalar(4), yStep = <f32>scalar(5), lr = <f32>scalar(6);
  setConstant(0, <f32>beta2);
  setConstant(1, <f32>(1 - beta2));
  setConstant(2, invBiasCorrection2Sqrt);
  setConstant(3, eps);
  setConstant(4, weightDecay);
  setConstant(5, ckp1);
  setConstant(6, yStep);
  setConstant(7, lr);
  elementwise<ScheduleFreeRule>(length, param, grad, z, secondMoment, 0, weightDecay != 0, false, first, false);
}
