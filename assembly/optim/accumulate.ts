// Gradient accumulation (optax MultiSteps): sum ← sum + grad, once per step() until the k-th.

export function accumulateGrad(sum: usize, grad: usize, length: i32): void {
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) {
    v128.store(sum + offset, f32x4.add(v128.load(sum + offset), v128.load(grad + offset)));
  }
  for (let i = length & ~3; i < length; i++) {
    const at = <usize>i << 2;
    store<f32>(sum + at, load<f32>(sum + at) + load<f32>(grad + at));
  }
}
