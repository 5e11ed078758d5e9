import { scalar } from "../scratch";
import { adamMoments, decoupled, elementwise, gradient, movingAverage, setConstant, setSignMask, ld, st, FlagOn, FlagOff } from "./common";
import { lowp } from "./lowp";

// torch.optim.Adam and AdamW (one kernel: they differ only in where weight decay enters),
// one fused pass: read p, g, m, v (, vMax) once; write p, m, v (, vMax) once.
//   g ← ±g + l2WeightDecay·p              (Adam's L2 form; 0 for AdamW)
//   p ← paramScale·p                      (AdamW's decoupled form 1 − lr·wd; 1 for Adam)
//   m ← β1·m + (1−β1)·g
//   v ← β2·v + (1−β2)·g²
//   vMax ← max(vMax, v)                   (amsgrad)
//   p ← p − stepSize · m / (√v̂ · invBiasCorrection2Sqrt + ε)
// with stepSize = lr / (1 − β1^t) and invBiasCorrection2Sqrt = 1 / √(1 − β2^t), both computed
// once per step in TypeScript. ε is added after the square root, as in PyTorch.
//
// Constants: k0 the f32 sign bit, k1 l2WeightDecay, k2 paramScale, k3 β1, k4 1−β1, k5 β2, k6 1−β2,
// k7 stepSize, k8 invBiasCorrection2Sqrt, k9 ε. Flags: f0 L2, f1 decoupled, f2 amsgrad, f3 maximize.

class AdamRule {
  // front: the moments and the denominator √v̂·invBiasCorrection2Sqrt + ε; back: the division and
  // the parameter (m is read back from where front stored it).
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, firstMoments: usize, secondMoments: usize, maxSecondMoments: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasL2: bool, hasDecoupled: bool, amsgrad: bool, maximize: bool, next: i32,
  ): v128 {
    const g = gradient(grad, next, hasL2 ? ld(param, next) : k1, maximize, k0, k1, hasL2);
    let v = adamMoments(firstMoments, secondMoments, next, g, k3, k4, k5, k6);
    if (amsgrad) {
      v = f32x4.max(ld(maxSecondMoments, next), v);
      st(maxSecondMoments, v, next);
    }
    return f32x4.add(f32x4.mul(f32x4.sqrt(v), k8), k9);
  }

  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, firstMoments: usize, secondMoments: usize, maxSecondMoments: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasL2: bool, hasDecoupled: bool, amsgrad: bool, maximize: bool, next: i32, pending: v128,
  ): void {
    const p = decoupled(ld(param, next), k2, hasDecoupled);
    st(param, f32x4.sub(p, f32x4.mul(k7, f32x4.div(ld(firstMoments, next), pending))), next);
  }
}

/**
 * AdamRule's arithmetic on values, for the reduced-precision loops (see `lowp`): the same
 * operations in the same operand order (so even NaN payloads match), the flags as type
 * arguments, maximize as an xor with k10 (the sign mask, or 0).
 */
export class AdamLowpRule<L2, DECOUPLED> {
  // @ts-ignore: decorator
  @inline second(): bool { return true; }
  // @ts-ignore: decorator
  @inline grad(p: v128, raw: v128,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
  ): v128 {
    const g = v128.xor(raw, k10);
    return sizeof<L2>() == sizeof<FlagOn>() ? f32x4.add(g, f32x4.mul(k1, p)) : g;
  }
  /** The new first moment. */
  // @ts-ignore: decorator
  @inline first(m: v128, g: v128,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
  ): v128 {
    return movingAverage(m, g, k3, k4);
  }
  /** The new second moment. */
  // @ts-ignore: decorator
  @inline square(v: v128, g: v128,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
  ): v128 {
    return movingAverage(v, f32x4.mul(g, g), k5, k6);
  }
  /** The new parameter, from the old one, g, the old and new first and the new second moment. */
  // @ts-ignore: decorator
  @inline param(p: v128, g: v128, m: v128, mNew: v128, vNew: v128,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
  ): v128 {
    const pending = f32x4.add(f32x4.mul(f32x4.sqrt(vNew), k8), k9);
    return f32x4.sub(decoupled(p, k2, sizeof<DECOUPLED>() == sizeof<FlagOn>()), f32x4.mul(k7, f32x4.div(mNew, pending)));
  }
}

function adamConstants(
  beta1: f64, beta2: f64, eps: f32, l2WeightDecay: f32, paramScale: f32, stepSize: f32, invBiasCorrection2Sqrt: f32,
): void {
  // β arrives in f64 so that 1 − β is rounded once: 1 − f32(0.999) would be off by 1.3e-5.
  setSignMask(0, true);
  setConstant(1, l2WeightDecay);
  setConstant(2, paramScale);
  setConstant(3, <f32>beta1);
  setConstant(4, <f32>(1 - beta1));
  setConstant(5, <f32>beta2);
  setConstant(6, <f32>(1 - beta2));
  setConstant(7, stepSize);
  setConstant(8, invBiasCorrection2Sqrt);
  setConstant(9, eps);
}

/** Scalars (see scratch.ts): beta1, beta2, eps, l2WeightDecay, paramScale, stepSize, invBiasCorrection2Sqrt. */
export function adamStep(
  param: usize, grad: usize, firstMoment: usize, secondMoment: usize, maxSecondMoment: usize, length: i32, maximize: bool,
): void {
  const l2WeightDecay = <f32>scalar(3), paramScale = <f32>scalar(4);
  adamConstants(scalar(0), scalar(1), <f32>scalar(2), l2WeightDecay, paramScale, <f32>scalar(5), <f32>scalar(6));
  elementwise<AdamRule>(length, param, grad, firstMoment, secondMoment, maxSecondMoment,
    l2WeightDecay != 0, paramScale != 1, maxSecondMoment != 0, maximize);
}

/** adamStep with the moments stored in `format` (1 bfloat16, 2 int8 codes with absmax scales); the same scalars. */
export function adamStepLowp(
  param: usize, grad: usize, firstMoment: usize, firstScales: usize, secondMoment: usize, secondScales: usize,
  length: i32, format: i32, maximize: bool,
): void {
  const l2WeightDecay = <f32>scalar(3), paramScale = <f32>scalar(4);
  adamConstants(scalar(0), scalar(1), <f32>scalar(2), l2WeightDecay, paramScale, <f32>scalar(5), <f32>scalar(6));
  setSignMask(10, maximize);
  if (l2WeightDecay != 0) {
    if (paramScale != 1) lowp<AdamLowpRule<FlagOn, FlagOn>>(format, length, param, grad, firstMoment, firstScales, secondMoment, secondScales);
    else lowp<AdamLowpRule<FlagOn, FlagOff>>(format, length, param, grad, firstMoment, firstScales, secondMoment, secondScales);
  } else {
    if (paramScale != 1) lowp<AdamLowpRule<FlagOff, FlagOn>>(format, length, param, grad, firstMoment, firstScales, secondMoment, secondScales);
    else lowp<AdamLowpRule<FlagOff, FlagOff>>(format, length, param, grad, firstMoment, firstScales, secondMoment, secondScales);
  }
}
