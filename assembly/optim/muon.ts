// The elementwise passes of Muon (torch.optim.Muon) around its Newton–Schulz iteration, which
// runs on the GEMM kernel.

import { scaleInPlace } from "../ops/reduce";

/**
 * buf ← buf + (1−μ)·(g − buf) (torch lerp_), and the update to orthogonalise, out ←
 * g + μ·(buf − g) with Nesterov, else buf, divided by max(‖out‖_F, eps). (The norm stays in
 * wasm: an f64 returned to JavaScript would be boxed on every step.)
 */
export function muonMomentum(grad: usize, buf: usize, out: usize, length: i32, momentum: f64, nesterov: bool, eps: f64): void {
  const w = f32x4.splat(<f32>(1 - momentum));
  const mu = f32x4.splat(<f32>momentum);
  let sum = f64x2.splat(0);
  const body = <usize>(length & ~3) << 2;
  for (let at: usize = 0; at < body; at += 16) {
    const g = v128.load(grad + at);
    const b0 = v128.load(buf + at);
    const b = f32x4.add(b0, f32x4.mul(w, f32x4.sub(g, b0)));
    v128.store(buf + at, b);
    const u = nesterov ? f32x4.add(g, f32x4.mul(mu, f32x4.sub(b, g))) : b;
    v128.store(out + at, u);
    const sq = f32x4.mul(u, u);
    sum = f64x2.add(sum, f64x2.add(f64x2.promote_low_f32x4(sq), f64x2.promote_low_f32x4(i32x4.shuffle(sq, sq, 2, 3, 0, 1))));
  }
  let total = f64x2.extract_lane(sum, 0) + f64x2.extract_lane(sum, 1);
  const wS = <f32>(1 - momentum);
  const muS = <f32>momentum;
  for (let i = length & ~3; i < length; i++) {
    const at = <usize>i << 2;
    const g = load<f32>(grad + at);
    const b0 = load<f32>(buf + at);
    const b = b0 + wS * (g - b0);
    store<f32>(buf + at, b);
    const u = nesterov ? g + muS * (b - g) : b;
    store<f32>(out + at, u);
    total += <f64>(u * u);
  }
  scaleInPlace(out, length, <f32>(1 / max(sqrt(total), eps)));
}

/** p ← paramScale·p − alpha·update (decoupled weight decay, then the orthogonalised step). */
export function muonApply(param: usize, update: usize, length: i32, paramScale: f32, alpha: f32): void {
  const s = f32x4.splat(paramScale);
  const a = f32x4.splat(alpha);
  const body = <usize>(length & ~3) << 2;
  for (let at: usize = 0; at < body; at += 16) {
    v128.store(param + at, f32x4.sub(f32x4.mul(s, v128.load(param + at)), f32x4.mul(a, v128.load(update + at))));
  }
  for (let i = length & ~3; i < length; i++) {
    const at = <usize>i << 2;
    store<f32>(param + at, paramScale * load<f32>(param + at) - alpha * load<f32>(update + at));
  }
}
