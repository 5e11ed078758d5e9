// The optimizer kernels as they were before the shared elementwise driver (a frozen copy, used
// by the bench as the "old kernel" baseline).
import { tailIn, tailOut } from "./tail";
import { movingAverage } from "./common";

// torch.optim.NAdam, one fused pass: read p, g, m, v once; write each once.
//   g ← ±g + l2WeightDecay·p                 (L2 form; 0 with decoupledWeightDecay)
//   p ← paramScale·p                         (decoupled form 1 − lr·wd; 1 otherwise)
//   m ← β1·m + (1−β1)·g
//   v ← β2·v + (1−β2)·g²
//   p ← p − (gradCoeff·g + momentCoeff·m) / (√v · invBiasCorrection2Sqrt + ε)
// with, computed once per step in TypeScript from μ_t, μ_{t+1} and Π μ_i:
//   gradCoeff = lr·(1 − μ_t) / (1 − Π_{i≤t} μ_i),  momentCoeff = lr·μ_{t+1} / (1 − Π_{i≤t+1} μ_i).
// PyTorch applies the two terms by two addcdivs over the same denominator; one division here.

// @ts-ignore: decorator
@inline function nadamLanes(
  param: usize, grad: usize, firstMoment: usize, secondMoment: usize,
  gradSign: v128, l2WeightDecay: v128, paramScale: v128, beta1: v128, oneMinusBeta1: v128,
  beta2: v128, oneMinusBeta2: v128, invBiasCorrection2Sqrt: v128, eps: v128, gradCoeff: v128, momentCoeff: v128,
  hasL2: bool, hasDecoupled: bool,
): void {
  let p = v128.load(param);
  let g = f32x4.mul(v128.load(grad), gradSign);
  if (hasL2) g = f32x4.add(g, f32x4.mul(l2WeightDecay, p));
  if (hasDecoupled) p = f32x4.mul(p, paramScale);
  const m = movingAverage(v128.load(firstMoment), g, beta1, oneMinusBeta1);
  const v = movingAverage(v128.load(secondMoment), f32x4.mul(g, g), beta2, oneMinusBeta2);
  v128.store(firstMoment, m);
  v128.store(secondMoment, v);
  const denom = f32x4.add(f32x4.mul(f32x4.sqrt(v), invBiasCorrection2Sqrt), eps);
  const numer = f32x4.add(f32x4.mul(gradCoeff, g), f32x4.mul(momentCoeff, m));
  v128.store(param, f32x4.sub(p, f32x4.div(numer, denom)));
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
export function nadamStep(
  param: usize, grad: usize, firstMoment: usize, secondMoment: usize, length: i32,
  beta1: f64, beta2: f64, eps: f32, l2WeightDecay: f32, paramScale: f32,
  invBiasCorrection2Sqrt: f32, gradCoeff: f32, momentCoeff: f32, maximize: bool,
): void {
  const gradSignV = f32x4.splat(maximize ? -1 : 1);
  const l2V = f32x4.splat(l2WeightDecay);
  const paramScaleV = f32x4.splat(paramScale);
  const beta1V = f32x4.splat(<f32>beta1);
  const oneMinusBeta1V = f32x4.splat(<f32>(1 - beta1));
  const beta2V = f32x4.splat(<f32>beta2);
  const oneMinusBeta2V = f32x4.splat(<f32>(1 - beta2));
  const invBc2V = f32x4.splat(invBiasCorrection2Sqrt);
  const epsV = f32x4.splat(eps);
  const gradCoeffV = f32x4.splat(gradCoeff);
  const momentCoeffV = f32x4.splat(momentCoeff);
  const hasL2 = l2WeightDecay != 0;
  const hasDecoupled = paramScale != 1;
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    nadamLanes(param + offset, grad + offset, firstMoment + offset, secondMoment + offset,
      gradSignV, l2V, paramScaleV, beta1V, oneMinusBeta1V, beta2V, oneMinusBeta2V, invBc2V, epsV, gradCoeffV, momentCoeffV,
      hasL2, hasDecoupled);
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    nadamLanes(tailIn(0, param + body, tailBytes), tailIn(1, grad + body, tailBytes),
      tailIn(2, firstMoment + body, tailBytes), tailIn(3, secondMoment + body, tailBytes),
      gradSignV, l2V, paramScaleV, beta1V, oneMinusBeta1V, beta2V, oneMinusBeta2V, invBc2V, epsV, gradCoeffV, momentCoeffV,
      hasL2, hasDecoupled);
    tailOut(0, param + body, tailBytes);
    tailOut(2, firstMoment + body, tailBytes);
    tailOut(3, secondMoment + body, tailBytes);
  }
}
