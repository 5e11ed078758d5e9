// The optimizer kernels as they were before the shared elementwise driver (a frozen copy, used
// by the bench as the "old kernel" baseline).
import { tailIn, tailOut } from "./tail";

// torch.optim.SGD, one fused pass: read p, g, buf once; write p, buf once.
//   g ← ±g (+ weightDecay·p)
//   buf ← g on the first step, else momentum·buf + (1−dampening)·g
//   g ← g + momentum·buf (nesterov) or buf
//   p ← p − lr·g
// momentumBuffer is 0 when momentum is 0 (no state is kept then).

// @ts-ignore: decorator
@inline function sgdLanes(
  param: usize, grad: usize, momentumBuffer: usize,
  lr: v128, momentum: v128, oneMinusDampening: v128, weightDecay: v128, gradSign: v128,
  hasWeightDecay: bool, nesterov: bool, firstStep: bool,
): void {
  const p = v128.load(param);
  let g = f32x4.mul(v128.load(grad), gradSign);
  if (hasWeightDecay) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  if (momentumBuffer) {
    let buf = g;
    if (!firstStep) buf = f32x4.add(f32x4.mul(momentum, v128.load(momentumBuffer)), f32x4.mul(oneMinusDampening, g));
    v128.store(momentumBuffer, buf);
    g = nesterov ? f32x4.add(g, f32x4.mul(momentum, buf)) : buf;
  }
  v128.store(param, f32x4.sub(p, f32x4.mul(lr, g)));
}

export function sgdStep(
  param: usize, grad: usize, momentumBuffer: usize, length: i32,
  lr: f32, momentum: f32, dampening: f64, weightDecay: f32, maximize: bool, nesterov: bool, firstStep: bool,
): void {
  // dampening arrives in f64 so that 1 − dampening is rounded once.
  const lrV = f32x4.splat(lr);
  const momentumV = f32x4.splat(momentum);
  const oneMinusDampeningV = f32x4.splat(<f32>(1 - dampening));
  const weightDecayV = f32x4.splat(weightDecay);
  const gradSignV = f32x4.splat(maximize ? -1 : 1);
  const hasWeightDecay = weightDecay != 0;
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    sgdLanes(param + offset, grad + offset, momentumBuffer ? momentumBuffer + offset : 0,
      lrV, momentumV, oneMinusDampeningV, weightDecayV, gradSignV, hasWeightDecay, nesterov, firstStep);
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    const p = tailIn(0, param + body, tailBytes);
    const g = tailIn(1, grad + body, tailBytes);
    const buf = tailIn(2, momentumBuffer ? momentumBuffer + body : 0, tailBytes);
    sgdLanes(p, g, buf, lrV, momentumV, oneMinusDampeningV, weightDecayV, gradSignV, hasWeightDecay, nesterov, firstStep);
    tailOut(0, param + body, tailBytes);
    tailOut(2, momentumBuffer ? momentumBuffer + body : 0, tailBytes);
  }
}
