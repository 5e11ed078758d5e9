import { scalar } from "../scratch";
import { decoupled, elementwise, movingAverage, setConstant, setSignMask, ld, st, FlagOn, FlagOff } from "./common";
import { lowp } from "./lowp";

// Lion (Chen et al. 2023, as in lion-pytorch), one fused pass: read p, g, m once; write p, m once.
//   g ← ±g
//   p ← paramScale·p                         (decoupled weight decay: 1 − lr·wd)
//   p ← p − lr · sign(β1·m + (1−β1)·g)       (sign(0) = 0; NaN stays NaN)
//   m ← β2·m + (1−β2)·g
// The interpolation that picks the sign uses β1; the stored momentum uses β2.
//
// Constants: k1 paramScale, k2 lr, k3 β1, k4 1−β1, k5 β2, k6 1−β2, k7 the f32 sign
// bit (also flips g for maximize), k8 1.0, k9 0.0 (bit patterns kept out of the loop like the rest). Flags: f0 decoupled, f1 maximize.

class LionRule {
  // No division to wait for: front does it all; back has nothing left.
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, firstMoment: usize, s1: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasDecoupled: bool, maximize: bool, f2: bool, f3: bool, next: i32,
  ): v128 {
    const p = decoupled(ld(param, next), k1, hasDecoupled);
    const g = maximize ? v128.xor(ld(grad, next), k7) : ld(grad, next);
    const m = ld(firstMoment, next);
    const direction = movingAverage(m, g, k3, k4);
    // ±1 carrying the direction's sign bit, zeroed where the direction is ±0, the NaN kept.
    const unit = v128.or(v128.and(direction, k7), k8);
    let sign = v128.and(unit, f32x4.ne(direction, k9));
    sign = v128.bitselect(direction, sign, f32x4.ne(direction, direction));
    st(param, f32x4.sub(p, f32x4.mul(k2, sign)), next);
    st(firstMoment, movingAverage(m, g, k5, k6), next);
    return k0;
  }
  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, firstMoment: usize, s1: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasDecoupled: bool, maximize: bool, f2: bool, f3: bool, next: i32, pending: v128,
  ): void {}

}

/** LionRule's arithmetic on values (see AdamLowpRule); maximize is an xor with k10. */
export class LionLowpRule<DECOUPLED> {
  // @ts-ignore: decorator
  @inline second(): bool { return false; }
  // @ts-ignore: decorator
  @inline grad(p: v128, raw: v128,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
  ): v128 {
    return v128.xor(raw, k10);
  }
  // @ts-ignore: decorator
  @inline first(m: v128, g: v128,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
  ): v128 {
    return movingAverage(m, g, k5, k6);
  }
  // @ts-ignore: decorator
  @inline square(v: v128, g: v128,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
  ): v128 {
    return v;
  }
  // @ts-ignore: decorator
  @inline param(p: v128, g: v128, m: v128, mNew: v128, vNew: v128,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
  ): v128 {
    const direction = movingAverage(m, g, k3, k4);
    const unit = v128.or(v128.and(direction, k7), k8);
    // LionRule's select of a NaN direction as an or: a NaN's bits already hold ±1.0's.
    const sign = v128.or(v128.and(unit, f32x4.ne(direction, k9)), v128.and(direction, f32x4.ne(direction, direction)));
    return f32x4.sub(decoupled(p, k1, sizeof<DECOUPLED>() == sizeof<FlagOn>()), f32x4.mul(k2, sign));
  }
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
/** Scalars (see scratch.ts): lr, beta1, beta2, paramScale. */
export function lionStep(param: usize, grad: usize, firstMoment: usize, length: i32, maximize: bool): void {
  const paramScale = <f32>scalar(3);
  lionConstants(<f32>scalar(0), scalar(1), scalar(2), paramScale);
  elementwise<LionRule>(length, param, grad, firstMoment, 0, 0, paramScale != 1, maximize, false, false);
}

/** lionStep with the momentum stored in `format` (1 bfloat16, 2 int8 codes with absmax scales); the same scalars. */
export function lionStepLowp(
  param: usize, grad: usize, firstMoment: usize, firstScales: usize, length: i32, format: i32, maximize: bool,
): void {
  const paramScale = <f32>scalar(3);
  lionConstants(<f32>scalar(0), scalar(1), scalar(2), paramScale);
  setSignMask(10, maximize);
  if (paramScale != 1) lowp<LionLowpRule<FlagOn>>(format, length, param, grad, firstMoment, firstScales, 0, 0);
  else lowp<LionLowpRule<FlagOff>>(format, length, param, grad, firstMoment, firstScales, 0, 0);
}

function lionConstants(lr: f32, beta1: f64, beta2: f64, paramScale: f32): void {
  setConstant(1, paramScale);
  setConstant(2, lr);
  setConstant(3, <f32>beta1);
  setConstant(4, <f32>(1 - beta1));
  setConstant(5, <f32>beta2);
  setConstant(6, <f32>(1 - beta2));
  setSignMask(7, true);
  setConstant(8, 1);
  setConstant(9, 0);
}
