// The optimizer kernels as they were before the shared elementwise driver (a frozen copy, used
// by the bench as the "old kernel" baseline).
import { tailIn, tailOut } from "./tail";

// torch.optim.Adagrad, one fused pass: read p, g, stateSum once; write p, stateSum once.
//   g ← ±g + weightDecay·p
//   stateSum ← stateSum + g²
//   p ← p − clr · g / (√stateSum + ε)
// with clr = lr / (1 + (t−1)·lrDecay) computed once per step in TypeScript. ε is added after
// the square root, as in PyTorch.

// @ts-ignore: decorator
@inline function adagradLanes(
  param: usize, grad: usize, stateSum: usize,
  gradSign: v128, weightDecay: v128, clr: v128, eps: v128, hasWeightDecay: bool,
): void {
  const p = v128.load(param);
  let g = f32x4.mul(v128.load(grad), gradSign);
  if (hasWeightDecay) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  const sum = f32x4.add(v128.load(stateSum), f32x4.mul(g, g));
  v128.store(stateSum, sum);
  const denom = f32x4.add(f32x4.sqrt(sum), eps);
  v128.store(param, f32x4.sub(p, f32x4.mul(clr, f32x4.div(g, denom))));
}

export function adagradStep(
  param: usize, grad: usize, stateSum: usize, length: i32,
  clr: f32, eps: f32, weightDecay: f32, maximize: bool,
): void {
  const gradSignV = f32x4.splat(maximize ? -1 : 1);
  const weightDecayV = f32x4.splat(weightDecay);
  const clrV = f32x4.splat(clr);
  const epsV = f32x4.splat(eps);
  const hasWeightDecay = weightDecay != 0;
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    adagradLanes(param + offset, grad + offset, stateSum + offset, gradSignV, weightDecayV, clrV, epsV, hasWeightDecay);
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    adagradLanes(tailIn(0, param + body, tailBytes), tailIn(1, grad + body, tailBytes), tailIn(2, stateSum + body, tailBytes),
      gradSignV, weightDecayV, clrV, epsV, hasWeightDecay);
    tailOut(0, param + body, tailBytes);
    tailOut(2, stateSum + body, tailBytes);
  }
}
