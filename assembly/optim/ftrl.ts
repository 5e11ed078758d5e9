import { scalar } from "../scratch";
import { elementwise, setConstant, ld, st } from "./common";

// keras.optimizers.Ftrl (FTRL-Proximal, McMahan et al. 2013), one fused pass: read p, g, n, z
// once; write p, n, z once. With P(x) = x^(−lrPower) (√x for the default lrPower −0.5):
//   n' ← n + g²
//   z  ← z + (g + 2·l2Shrinkage·p) − (P(n') − P(n))/lr · p
//   p  ← (clip(z, −l1, l1) − z) / (P(n')/lr + 2·l2 + beta/lr)
//   n  ← n'
// p is exactly 0 wherever |z| ≤ l1.
//
// Constants: k0 1/lr, k1 2·l2Shrinkage, k2 2·l2 + beta/lr, k3 l1, k4 −l1, k5 −lrPower.
// Flags: f0 l2Shrinkage ≠ 0; f2 lrPower 0 or −1 (in the generic loop; the default square root,
// lrPower −0.5, is the vector loop). lrPower must be −0.5, 0 or −1 here.

// @ts-ignore: decorator
@inline function power(x: v128, exponent: f32): v128 {
  // The two other exponents with a name: lrPower 0 (a fixed rate: x⁰ = 1, as pow(0, 0) = 1)
  // and −1 (x¹). Any other lrPower never reaches the module (src/optim/ftrl.ts runs it as a
  // scalar loop): a pow per lane would add about 3.5 KB of code to every build for a setting
  // hardly anyone uses.
  return exponent == 0 ? f32x4.splat(1) : x;
}

class FtrlRule {
  // No division worth splitting at: front does it all.
  // @ts-ignore: decorator
  @inline front(
    param: usize, grad: usize, accumulator: usize, linear: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasShrinkage: bool, f1: bool, generalPower: bool, f3: bool, next: i32,
  ): v128 {
    const p = ld(param, next);
    const g = ld(grad, next);
    const n = ld(accumulator, next);
    const z = ld(linear, next);
    const nNew = f32x4.add(n, f32x4.mul(g, g));
    const exponent = f32x4.extract_lane(k5, 0);
    const powNew = generalPower ? power(nNew, exponent) : f32x4.sqrt(nNew);
    const powOld = generalPower ? power(n, exponent) : f32x4.sqrt(n);
    const sigma = f32x4.mul(f32x4.sub(powNew, powOld), k0);
    const gradToUse = hasShrinkage ? f32x4.add(g, f32x4.mul(k1, p)) : g;
    const zNew = f32x4.add(z, f32x4.sub(gradToUse, f32x4.mul(sigma, p)));
    const quadratic = f32x4.add(f32x4.mul(powNew, k0), k2);
    // pmin/pmax: one instruction each on x64 (min/max carry wasm's NaN rules); a NaN z passes on.
    const clipped = f32x4.pmin(f32x4.pmax(zNew, k4), k3);
    st(accumulator, nNew, next);
    st(linear, zNew, next);
    st(param, f32x4.div(f32x4.sub(clipped, zNew), quadratic), next);
    return k0;
  }

  // @ts-ignore: decorator
  @inline back(
    param: usize, grad: usize, accumulator: usize, linear: usize, s2: usize,
    k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128,
    k6: v128, k7: v128, k8: v128, k9: v128, k10: v128, k11: v128,
    hasShrinkage: bool, f1: bool, generalPower: bool, f3: bool, next: i32, pending: v128,
  ): void {}
}

/** Scalars (see scratch.ts): lr, lrPower, l1, l2, l2Shrinkage, beta. */
export function ftrlStep(param: usize, grad: usize, accumulator: usize, linear: usize, length: i32): void {
  const lr = scalar(0), lrPower = scalar(1), l1 = <f32>scalar(2), l2 = scalar(3), l2Shrinkage = scalar(4), beta = scalar(5);
  // The scalar combinations are formed in f64 and rounded once.
  setConstant(0, <f32>(1 / lr));
  setConstant(1, <f32>(2 * l2Shrinkage));
  setConstant(2, <f32>(2 * l2 + beta / lr));
  setConstant(3, l1);
  setConstant(4, -l1);
  setConstant(5, <f32>(-lrPower));
  elementwise<FtrlRule>(length, param, grad, accumulator, linear, 0, l2Shrinkage != 0, false, lrPower != -0.5, false);
}
