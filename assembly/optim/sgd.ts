import { scalar } from "../scratch";
import { elementwise, elementwiseCompact, setConstant, setSignMask, ld, st, shrink, FlagOn, FlagOff } from "./common";

// torch.optim.SGD, one fused pass: read p, g, buf once; write p, buf once.
//   g ← ±g (+ weightDecay·p)
//   buf ← g on the first step, else momentum·buf + (1−dampening)·g
//   g ← g + momentum·buf (nesterov) or buf
//   p ← p − lr·g
//   p ← sign(p)·max(|p| − lr·l1, 0)        (l1 > 0: TensorFlow's ProximalGradientDescent)
// momentumBuffer is 0 when momentum is 0 (no state is kept then).
//
// Constants: k0 sign mask, k1 weightDecay, k2 lr, k3 momentum, k4 1−dampening, k5 lr·l1,
// k6 the f32 sign bit. The l1 flag is the class's type argument (SgdRule<FlagOn>): its four
// run-time flags are taken, and the l1 = 0 loops must stay as they were.
// Flags: f0 weight decay, f1 momentum, f2 nesterov, f3 first step.

class SgdRule<L1> {
  // No division to wait for: front does it all; back has nothing left.
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, momentumBuffer: usize, s1: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasWeightDecay: bool, hasMomentum: bool, nesterov: bool, firstStep: bool, next: i32,
  ): v128 {
    const p = ld(param, next);
    // Its four flags are taken, so SGD flips the sign for maximize with a mask (k0: −0 or +0).
    const signed = v128.xor(ld(grad, next), k0);
    let g = hasWeightDecay ? f32x4.add(signed, f32x4.mul(k1, p)) : signed;
    if (hasMomentum) {
      const buf = firstStep ? g : f32x4.add(f32x4.mul(k3, ld(momentumBuffer, next)), f32x4.mul(k4, g));
      st(momentumBuffer, buf, next);
      g = nesterov ? f32x4.add(g, f32x4.mul(k3, buf)) : buf;
    }
    const stepped = f32x4.sub(p, f32x4.mul(k2, g));
    st(param, sizeof<L1>() == sizeof<FlagOn>() ? shrink(stepped, k5, k6) : stepped, next);
    return k0;
  }
  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, momentumBuffer: usize, s1: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasWeightDecay: bool, hasMomentum: bool, nesterov: bool, firstStep: bool, next: i32, pending: v128,
  ): void {}

}

/** Scalars (see scratch.ts): lr, momentum, dampening, weightDecay, l1. */
export function sgdStep(
  param: usize, grad: usize, momentumBuffer: usize, length: i32, maximize: bool, nesterov: bool, firstStep: bool,
): void {
  const lr = <f32>scalar(0), momentum = <f32>scalar(1), dampening = scalar(2), weightDecay = <f32>scalar(3), l1 = scalar(4);
  // dampening arrives in f64 so that 1 − dampening is rounded once.
  setSignMask(0, maximize);
  setConstant(1, weightDecay);
  setConstant(2, lr);
  setConstant(3, momentum);
  setConstant(4, <f32>(1 - dampening));
  setConstant(5, <f32>(<f64>lr * l1));
  setSignMask(6, true);
  const hasMomentum = momentumBuffer != 0;
  if (l1 != 0) {
    elementwiseCompact<SgdRule<FlagOn>>(length, param, grad, momentumBuffer, 0, 0,
      weightDecay != 0, hasMomentum, hasMomentum && nesterov, hasMomentum && firstStep);
  } else {
    elementwise<SgdRule<FlagOff>>(length, param, grad, momentumBuffer, 0, 0,
      weightDecay != 0, hasMomentum, hasMomentum && nesterov, hasMomentum && firstStep);
  }
}
