// The optimizer kernels as they were before the shared elementwise driver (a frozen copy, used
// by the bench as the "old kernel" baseline).
import { tailIn, tailOut } from "./tail";
import { movingAverage } from "./common";

// torch.optim.RAdam, one fused pass: read p, g, m, v once; write each once.
//   g ← ±g + l2WeightDecay·p                 (L2 form; 0 with decoupledWeightDecay)
//   p ← paramScale·p                         (decoupled form 1 − lr·wd; 1 otherwise)
//   m ← β1·m + (1−β1)·g
//   v ← β2·v + (1−β2)·g²
//   p ← p − stepSize · m / (√v + ε)          (rectified: ρ_t > 5)
//   p ← p − stepSize · m                     (otherwise: the un-adapted step)
// TypeScript decides ρ_t > 5 once per step and passes stepSize = lr·r_t·√(1−β2^t) / (1−β1^t)
// when rectified (r_t the rectification term), lr / (1−β1^t) otherwise. PyTorch's adaptive
// term is √(1−β2^t) / (√v + ε): ε is added to √v, not to the bias-corrected √v̂.

// @ts-ignore: decorator
@inline function radamLanes(
  param: usize, grad: usize, firstMoment: usize, secondMoment: usize,
  gradSign: v128, l2WeightDecay: v128, paramScale: v128, beta1: v128, oneMinusBeta1: v128,
  beta2: v128, oneMinusBeta2: v128, eps: v128, stepSize: v128,
  hasL2: bool, hasDecoupled: bool, rectified: bool,
): void {
  let p = v128.load(param);
  let g = f32x4.mul(v128.load(grad), gradSign);
  if (hasL2) g = f32x4.add(g, f32x4.mul(l2WeightDecay, p));
  if (hasDecoupled) p = f32x4.mul(p, paramScale);
  const m = movingAverage(v128.load(firstMoment), g, beta1, oneMinusBeta1);
  const v = movingAverage(v128.load(secondMoment), f32x4.mul(g, g), beta2, oneMinusBeta2);
  v128.store(firstMoment, m);
  v128.store(secondMoment, v);
  let update = m;
  if (rectified) update = f32x4.div(m, f32x4.add(f32x4.sqrt(v), eps));
  v128.store(param, f32x4.sub(p, f32x4.mul(stepSize, update)));
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
export function radamStep(
  param: usize, grad: usize, firstMoment: usize, secondMoment: usize, length: i32,
  beta1: f64, beta2: f64, eps: f32, l2WeightDecay: f32, paramScale: f32, stepSize: f32,
  rectified: bool, maximize: bool,
): void {
  const gradSignV = f32x4.splat(maximize ? -1 : 1);
  const l2V = f32x4.splat(l2WeightDecay);
  const paramScaleV = f32x4.splat(paramScale);
  const beta1V = f32x4.splat(<f32>beta1);
  const oneMinusBeta1V = f32x4.splat(<f32>(1 - beta1));
  const beta2V = f32x4.splat(<f32>beta2);
  const oneMinusBeta2V = f32x4.splat(<f32>(1 - beta2));
  const epsV = f32x4.splat(eps);
  const stepSizeV = f32x4.splat(stepSize);
  const hasL2 = l2WeightDecay != 0;
  const hasDecoupled = paramScale != 1;
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    radamLanes(param + offset, grad + offset, firstMoment + offset, secondMoment + offset,
      gradSignV, l2V, paramScaleV, beta1V, oneMinusBeta1V, beta2V, oneMinusBeta2V, epsV, stepSizeV,
      hasL2, hasDecoupled, rectified);
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    radamLanes(tailIn(0, param + body, tailBytes), tailIn(1, grad + body, tailBytes),
      tailIn(2, firstMoment + body, tailBytes), tailIn(3, secondMoment + body, tailBytes),
      gradSignV, l2V, paramScaleV, beta1V, oneMinusBeta1V, beta2V, oneMinusBeta2V, epsV, stepSizeV,
      hasL2, hasDecoupled, rectified);
    tailOut(0, param + body, tailBytes);
    tailOut(2, firstMoment + body, tailBytes);
    tailOut(3, secondMoment + body, tailBytes);
  }
}
