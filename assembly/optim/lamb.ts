import { addSquaresF64, adamMoments, sumF64 } from "./common";

// LAMB as Keras 3 writes it (keras/src/optimizers/lamb.py), in two passes because the trust
// ratio ‖p‖/‖u‖ is per tensor:
//   1. lambMoments: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², returns Σ u² with
//      u = m·invBiasCorrection1 / (√v·invBiasCorrection2Sqrt + ε)   (ε outside the root)
//   2. lambApply: p ← paramScale·p − stepScale·u, u recomputed from the stored m and v
// paramScale = 1 − lr·weightDecay (Keras decays before the update); ‖p‖ of the decayed parameter
// is |paramScale|·‖p‖, and stepScale = lr·ratio, both formed in TypeScript. Leftovers
// (length % 4) run the same arithmetic on scalars (bit-identical; zero-padded lanes would give
// 0/0 when ε = 0).

export function lambMoments(
  grad: usize, firstMoment: usize, secondMoment: usize, length: i32,
  beta1: f64, beta2: f64, eps: f32, invBiasCorrection1: f32, invBiasCorrection2Sqrt: f32,
): f64 {
  const b1 = <f32>beta1, c1 = <f32>(1 - beta1), b2 = <f32>beta2, c2 = <f32>(1 - beta2);
  const b1V = f32x4.splat(b1), c1V = f32x4.splat(c1), b2V = f32x4.splat(b2), c2V = f32x4.splat(c2);
  const epsV = f32x4.splat(eps);
  const bc1V = f32x4.splat(invBiasCorrection1);
  const bc2V = f32x4.splat(invBiasCorrection2Sqrt);
  const body = <usize>(length & ~3) << 2;
  const end = <usize>length << 2;
  let acc = f64x2.splat(0);
  let at: usize = 0;
  for (; at < body; at += 16) {
    const v = adamMoments(firstMoment + at, secondMoment + at, false, v128.load(grad + at), b1V, c1V, b2V, c2V);
    const u = f32x4.div(f32x4.mul(v128.load(firstMoment + at), bc1V), f32x4.add(f32x4.mul(f32x4.sqrt(v), bc2V), epsV));
    acc = addSquaresF64(acc, u);
  }
  let total: f64 = 0;
  for (; at < end; at += 4) {
    const g = load<f32>(grad + at);
    const m = b1 * load<f32>(firstMoment + at) + c1 * g;
    const v = b2 * load<f32>(secondMoment + at) + c2 * (g * g);
    store<f32>(firstMoment + at, m);
    store<f32>(secondMoment + at, v);
    const u = <f64>(m * invBiasCorrection1 / (sqrt<f32>(v) * invBiasCorrection2Sqrt + eps));
    total += u * u;
  }
  return total + sumF64(acc);
}

export function lambApply(
  param: usize, firstMoment: usize, secondMoment: usize, length: i32,
  eps: f32, invBiasCorrection1: f32, invBiasCorrection2Sqrt: f32, paramScale: f32, stepScale: f32,
): void {
  const epsV = f32x4.splat(eps);
  const bc1V = f32x4.splat(invBiasCorrection1);
  const bc2V = f32x4.splat(invBiasCorrection2Sqrt);
  const paramScaleV = f32x4.splat(paramScale);
  const stepScaleV = f32x4.splat(stepScale);
  const body = <usize>(length & ~3) << 2;
  const end = <usize>length << 2;
  let at: usize = 0;
  for (; at < body; at += 16) {
    const u = f32x4.div(f32x4.mul(v128.load(firstMoment + at), bc1V),
      f32x4.add(f32x4.mul(f32x4.sqrt(v128.load(secondMoment + at)), bc2V), epsV));
    v128.store(param + at, f32x4.sub(f32x4.mul(v128.load(param + at), paramScaleV), f32x4.mul(stepScaleV, u)));
  }
  for (; at < end; at += 4) {
    const u = load<f32>(firstMoment + at) * invBiasCorrection1 / (sqrt<f32>(load<f32>(secondMoment + at)) * invBiasCorrection2Sqrt + eps);
    store<f32>(param + at, load<f32>(param + at) * paramScale - stepScale * u);
  }
}
