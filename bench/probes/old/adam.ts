// The optimizer kernels as they were before the shared elementwise driver (a frozen copy, used
// by the bench as the "old kernel" baseline).
import { tailIn, tailOut } from "./tail";
import { movingAverage } from "./common";

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

// @ts-ignore: decorator
@inline function adamLanes(
  param: usize, grad: usize, firstMoment: usize, secondMoment: usize, maxSecondMoment: usize,
  gradSign: v128, l2WeightDecay: v128, paramScale: v128, beta1: v128, oneMinusBeta1: v128,
  beta2: v128, oneMinusBeta2: v128, stepSize: v128, invBiasCorrection2Sqrt: v128, eps: v128,
  hasL2: bool, hasDecoupled: bool, amsgrad: bool,
): void {
  let p = v128.load(param);
  let g = f32x4.mul(v128.load(grad), gradSign);
  if (hasL2) g = f32x4.add(g, f32x4.mul(l2WeightDecay, p));
  if (hasDecoupled) p = f32x4.mul(p, paramScale);
  const m = movingAverage(v128.load(firstMoment), g, beta1, oneMinusBeta1);
  const v = movingAverage(v128.load(secondMoment), f32x4.mul(g, g), beta2, oneMinusBeta2);
  v128.store(firstMoment, m);
  v128.store(secondMoment, v);
  let vHat = v;
  if (amsgrad) {
    vHat = f32x4.max(v128.load(maxSecondMoment), v);
    v128.store(maxSecondMoment, vHat);
  }
  const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vHat), invBiasCorrection2Sqrt), eps);
  v128.store(param, f32x4.sub(p, f32x4.mul(stepSize, f32x4.div(m, denom))));
}

export function adamStep(
  param: usize, grad: usize, firstMoment: usize, secondMoment: usize, maxSecondMoment: usize, length: i32,
  beta1: f64, beta2: f64, eps: f32, l2WeightDecay: f32, paramScale: f32,
  stepSize: f32, invBiasCorrection2Sqrt: f32, maximize: bool,
): void {
  // β arrives in f64 so that 1 − β is rounded once: 1 − f32(0.999) would be off by 1.3e-5.
  const gradSignV = f32x4.splat(maximize ? -1 : 1);
  const l2V = f32x4.splat(l2WeightDecay);
  const paramScaleV = f32x4.splat(paramScale);
  const beta1V = f32x4.splat(<f32>beta1);
  const oneMinusBeta1V = f32x4.splat(<f32>(1 - beta1));
  const beta2V = f32x4.splat(<f32>beta2);
  const oneMinusBeta2V = f32x4.splat(<f32>(1 - beta2));
  const stepSizeV = f32x4.splat(stepSize);
  const invBc2V = f32x4.splat(invBiasCorrection2Sqrt);
  const epsV = f32x4.splat(eps);
  const hasL2 = l2WeightDecay != 0;
  const hasDecoupled = paramScale != 1;
  const amsgrad = maxSecondMoment != 0;
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    adamLanes(param + offset, grad + offset, firstMoment + offset, secondMoment + offset,
      amsgrad ? maxSecondMoment + offset : 0,
      gradSignV, l2V, paramScaleV, beta1V, oneMinusBeta1V, beta2V, oneMinusBeta2V, stepSizeV, invBc2V, epsV,
      hasL2, hasDecoupled, amsgrad);
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    const maxTail = amsgrad ? maxSecondMoment + body : 0;
    adamLanes(tailIn(0, param + body, tailBytes), tailIn(1, grad + body, tailBytes),
      tailIn(2, firstMoment + body, tailBytes), tailIn(3, secondMoment + body, tailBytes), tailIn(4, maxTail, tailBytes),
      gradSignV, l2V, paramScaleV, beta1V, oneMinusBeta1V, beta2V, oneMinusBeta2V, stepSizeV, invBc2V, epsV,
      hasL2, hasDecoupled, amsgrad);
    tailOut(0, param + body, tailBytes);
    tailOut(2, firstMoment + body, tailBytes);
    tailOut(3, secondMoment + body, tailBytes);
    tailOut(4, maxTail, tailBytes);
  }
}
