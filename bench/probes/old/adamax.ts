// The optimizer kernels as they were before the shared elementwise driver (a frozen copy, used
// by the bench as the "old kernel" baseline).
import { tailIn, tailOut } from "./tail";
import { movingAverage } from "./common";

// torch.optim.Adamax, one fused pass: read p, g, expAvg, expInf once; write each once.
//   g ← ±g + weightDecay·p
//   expAvg ← β1·expAvg + (1−β1)·g
//   expInf ← max(β2·expInf, |g| + ε)          (PyTorch's current form: ε inside the max)
//   p ← p − clr · expAvg / expInf
// with clr = lr / (1 − β1^t) computed once per step in TypeScript.

// @ts-ignore: decorator
@inline function adamaxLanes(
  param: usize, grad: usize, expAvg: usize, expInf: usize,
  gradSign: v128, weightDecay: v128, beta1: v128, oneMinusBeta1: v128, beta2: v128, eps: v128, clr: v128,
  hasWeightDecay: bool,
): void {
  const p = v128.load(param);
  let g = f32x4.mul(v128.load(grad), gradSign);
  if (hasWeightDecay) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  const m = movingAverage(v128.load(expAvg), g, beta1, oneMinusBeta1);
  const u = f32x4.max(f32x4.mul(beta2, v128.load(expInf)), f32x4.add(f32x4.abs(g), eps));
  v128.store(expAvg, m);
  v128.store(expInf, u);
  v128.store(param, f32x4.sub(p, f32x4.mul(clr, f32x4.div(m, u))));
}

// The decay coefficients cross as f64 so that 1 − β is formed before rounding: rounding β = 0.999
// to float32 first would leave 1 − β off by 1.3e-5 relative, a bias in every moment update.
export function adamaxStep(
  param: usize, grad: usize, expAvg: usize, expInf: usize, length: i32,
  beta1: f64, beta2: f64, eps: f32, weightDecay: f32, clr: f32, maximize: bool,
): void {
  const gradSignV = f32x4.splat(maximize ? -1 : 1);
  const weightDecayV = f32x4.splat(weightDecay);
  const beta1V = f32x4.splat(<f32>beta1);
  const oneMinusBeta1V = f32x4.splat(<f32>(1 - beta1));
  const beta2V = f32x4.splat(<f32>beta2);
  const epsV = f32x4.splat(eps);
  const clrV = f32x4.splat(clr);
  const hasWeightDecay = weightDecay != 0;
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    adamaxLanes(param + offset, grad + offset, expAvg + offset, expInf + offset,
      gradSignV, weightDecayV, beta1V, oneMinusBeta1V, beta2V, epsV, clrV, hasWeightDecay);
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    adamaxLanes(tailIn(0, param + body, tailBytes), tailIn(1, grad + body, tailBytes),
      tailIn(2, expAvg + body, tailBytes), tailIn(3, expInf + body, tailBytes),
      gradSignV, weightDecayV, beta1V, oneMinusBeta1V, beta2V, epsV, clrV, hasWeightDecay);
    tailOut(0, param + body, tailBytes);
    tailOut(2, expAvg + body, tailBytes);
    tailOut(3, expInf + body, tailBytes);
  }
}
