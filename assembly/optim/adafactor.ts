import { addF64, sumF64 } from "./common";

// torch.optim.Adafactor (torch/optim/_adafactor.py), in passes because the update is clipped by
// its own RMS, a per-tensor value known only after every element's update has been formed:
//
//   factored (≥ 2-D: `matrices` stacked [rows, cols] matrices, one statistic per row and column)
//     1. adafactorFactors: r ← lerp(r, mean_j g², w), c ← lerp(c, mean_i g², w)
//     2. adafactorFactoredNorm: Σ u², u = g / √max(r_i·c_j / max(mean_i r, ε1), ε1²)
//     3. adafactorFactoredApply: p ← paramScale·p − stepScale·u
//   unfactored (0-D, 1-D)
//     1. adafactorVariance: v ← lerp(v, g², w), returns Σ u², u = g / √max(v, ε1²)
//     2. adafactorVectorApply: p ← paramScale·p − stepScale·u
//
// w = t^beta2Decay; paramScale = 1 − lr·weightDecay; stepScale = ±α/max(1, RMS(u)/d) is formed in
// TypeScript from the norms (the sign is maximize's: only u's sign changes, never a norm). The
// norm Σ u² is summed as g²/max(·, ε1²), which needs no square root. Row and vector leftovers
// (length % 4) run the same arithmetic on scalars: IEEE rounding makes them bit-identical, and
// zero-padded lanes would divide 0/0 when ε1 = 0. The clamps are f32x4.pmax (one maxps; see
// rmsprop.ts), which keeps a NaN estimate NaN as torch.clamp does.

// torch's lerp (ATen Lerp.h): start + w·(end − start) for w < 0.5, else end − (end − start)·(1 − w),
// so that w = 1 (every first step, and beta2Decay = 0) gives exactly `end`: the first form
// would cancel catastrophically when start ≫ end.
// @ts-ignore: decorator
@inline function lerp(start: f32, end: f32, w: f32, oneMinusW: f32, high: bool): f32 {
  return high ? end - (end - start) * oneMinusW : start + w * (end - start);
}

// @ts-ignore: decorator
@inline function horizontalSum(x: v128): f32 {
  return f32x4.extract_lane(x, 0) + f32x4.extract_lane(x, 1) + f32x4.extract_lane(x, 2) + f32x4.extract_lane(x, 3);
}

/** max(mean of the matrix's row statistics, ε1): the variance estimate's denominator. */
// @ts-ignore: decorator
@inline function rowMean(rowVar: usize, rows: i32, eps1: f32): f32 {
  let sum: f64 = 0;
  for (let i = 0; i < rows; i++) sum += <f64>load<f32>(rowVar + (<usize>i << 2));
  return max(<f32>(sum / rows), eps1);
}

export function adafactorFactors(grad: usize, rowVar: usize, colVar: usize, matrices: i32, rows: i32, cols: i32, weight: f64): void {
  // c ← (1 − w)·c + Σ_i (w/rows)·g²_ij: the lerp with the mean's division folded into w (every term
  // ≥ 0, so neither form of the lerp can cancel).
  const keep = <f32>(1 - weight);
  const w = <f32>weight;
  const high = weight >= 0.5;
  const colWeight = <f32>(weight / rows);
  const keepV = f32x4.splat(keep);
  const colWeightV = f32x4.splat(colWeight);
  const body = <usize>(cols & ~3) << 2;
  const rowBytes = <usize>cols << 2;
  for (let b = 0; b < matrices; b++) {
    const c = colVar + <usize>b * rowBytes;
    let at: usize = 0;
    for (; at < body; at += 16) v128.store(c + at, f32x4.mul(v128.load(c + at), keepV));
    for (; at < rowBytes; at += 4) store<f32>(c + at, load<f32>(c + at) * keep);
    for (let i = 0; i < rows; i++) {
      const row = <usize>b * rows + i;
      const g = grad + row * rowBytes;
      let acc = f32x4.splat(0);
      at = 0;
      for (; at < body; at += 16) {
        const x = v128.load(g + at);
        const sq = f32x4.mul(x, x);
        acc = f32x4.add(acc, sq);
        v128.store(c + at, f32x4.add(v128.load(c + at), f32x4.mul(colWeightV, sq)));
      }
      let sum = horizontalSum(acc);
      for (; at < rowBytes; at += 4) {
        const x = load<f32>(g + at);
        const sq = x * x;
        sum += sq;
        store<f32>(c + at, load<f32>(c + at) + colWeight * sq);
      }
      const r = rowVar + (row << 2);
      store<f32>(r, lerp(load<f32>(r), sum / <f32>cols, w, keep, high));
    }
  }
}

export function adafactorFactoredNorm(grad: usize, rowVar: usize, colVar: usize, matrices: i32, rows: i32, cols: i32, eps1: f32): f64 {
  const floor = eps1 * eps1;
  const floorV = f32x4.splat(floor);
  const body = <usize>(cols & ~3) << 2;
  const rowBytes = <usize>cols << 2;
  let acc = f64x2.splat(0);
  let total: f64 = 0;
  for (let b = 0; b < matrices; b++) {
    const r = rowVar + (<usize>b * rows << 2);
    const c = colVar + <usize>b * rowBytes;
    const mean = rowMean(r, rows, eps1);
    for (let i = 0; i < rows; i++) {
      const scale = load<f32>(r + (<usize>i << 2)) / mean;
      const scaleV = f32x4.splat(scale);
      const g = grad + (<usize>b * rows + i) * rowBytes;
      let at: usize = 0;
      for (; at < body; at += 16) {
        const x = v128.load(g + at);
        const variance = f32x4.pmax(f32x4.mul(scaleV, v128.load(c + at)), floorV);
        acc = addF64(acc, f32x4.div(f32x4.mul(x, x), variance));
      }
      for (; at < rowBytes; at += 4) {
        const x = load<f32>(g + at);
        total += <f64>(x * x / max(scale * load<f32>(c + at), floor));
      }
    }
  }
  return total + sumF64(acc);
}

export function adafactorFactoredApply(
  param: usize, grad: usize, rowVar: usize, colVar: usize, matrices: i32, rows: i32, cols: i32,
  eps1: f32, paramScale: f32, stepScale: f32,
): void {
  const floor = eps1 * eps1;
  const floorV = f32x4.splat(floor);
  const paramScaleV = f32x4.splat(paramScale);
  const stepScaleV = f32x4.splat(stepScale);
  const body = <usize>(cols & ~3) << 2;
  const rowBytes = <usize>cols << 2;
  for (let b = 0; b < matrices; b++) {
    const r = rowVar + (<usize>b * rows << 2);
    const c = colVar + <usize>b * rowBytes;
    const mean = rowMean(r, rows, eps1);
    for (let i = 0; i < rows; i++) {
      const scale = load<f32>(r + (<usize>i << 2)) / mean;
      const scaleV = f32x4.splat(scale);
      const offset = (<usize>b * rows + i) * rowBytes;
      const g = grad + offset;
      const p = param + offset;
      let at: usize = 0;
      for (; at < body; at += 16) {
        const u = f32x4.div(v128.load(g + at), f32x4.sqrt(f32x4.pmax(f32x4.mul(scaleV, v128.load(c + at)), floorV)));
        v128.store(p + at, f32x4.sub(f32x4.mul(v128.load(p + at), paramScaleV), f32x4.mul(stepScaleV, u)));
      }
      for (; at < rowBytes; at += 4) {
        const u = load<f32>(g + at) / sqrt<f32>(max(scale * load<f32>(c + at), floor));
        store<f32>(p + at, load<f32>(p + at) * paramScale - stepScale * u);
      }
    }
  }
}

export function adafactorVariance(grad: usize, variance: usize, length: i32, weight: f64, eps1: f32): f64 {
  const w = <f32>weight;
  const keep = <f32>(1 - weight);
  const high = weight >= 0.5;
  const wV = f32x4.splat(w);
  const keepV = f32x4.splat(keep);
  const floor = eps1 * eps1;
  const floorV = f32x4.splat(floor);
  const body = <usize>(length & ~3) << 2;
  const end = <usize>length << 2;
  let acc = f64x2.splat(0);
  let at: usize = 0;
  for (; at < body; at += 16) {
    const x = v128.load(grad + at);
    const sq = f32x4.mul(x, x);
    const previous = v128.load(variance + at);
    const difference = f32x4.sub(sq, previous);
    const v = high ? f32x4.sub(sq, f32x4.mul(difference, keepV)) : f32x4.add(previous, f32x4.mul(wV, difference));
    v128.store(variance + at, v);
    acc = addF64(acc, f32x4.div(sq, f32x4.pmax(v, floorV)));
  }
  let total: f64 = 0;
  for (; at < end; at += 4) {
    const x = load<f32>(grad + at);
    const sq = x * x;
    const previous = load<f32>(variance + at);
    const v = lerp(previous, sq, w, keep, high);
    store<f32>(variance + at, v);
    total += <f64>(sq / max(v, floor));
  }
  return total + sumF64(acc);
}

export function adafactorVectorApply(param: usize, grad: usize, variance: usize, length: i32, eps1: f32, paramScale: f32, stepScale: f32): void {
  const floor = eps1 * eps1;
  const floorV = f32x4.splat(floor);
  const paramScaleV = f32x4.splat(paramScale);
  const stepScaleV = f32x4.splat(stepScale);
  const body = <usize>(length & ~3) << 2;
  const end = <usize>length << 2;
  let at: usize = 0;
  for (; at < body; at += 16) {
    const u = f32x4.div(v128.load(grad + at), f32x4.sqrt(f32x4.pmax(v128.load(variance + at), floorV)));
    v128.store(param + at, f32x4.sub(f32x4.mul(v128.load(param + at), paramScaleV), f32x4.mul(stepScaleV, u)));
  }
  for (; at < end; at += 4) {
    const u = load<f32>(grad + at) / sqrt<f32>(max(load<f32>(variance + at), floor));
    store<f32>(param + at, load<f32>(param + at) * paramScale - stepScale * u);
  }
}
