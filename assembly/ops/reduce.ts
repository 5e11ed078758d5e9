import { tailIn, tailOut } from "../tail";

// Reductions over a float32 array and the in-place passes of gradient clipping, shared by
// clipGradNorm/clipGradValue and the optimizers' non-finite guard.
//
// Precision of the norms: sums run in f64 lanes (f64x2). A float32 widened to float64 and
// squared is exact (24 + 24 significant bits < 53), so the only error is the f64 additions,
// ≤ n·2⁻⁵³ relative — for any n that fits in wasm memory that is far below one float32 ulp,
// i.e. the result is the float64 reference rounded. The alternative (f32x4 partial sums flushed
// to f64 every block) loses up to block·2⁻²⁴ per block and saves nothing measurable: both
// read 16 bytes per 4 elements, and one promote + mul + add per two lanes keeps up with memory.
// Four independent accumulators hide the add latency. Lanes past the end are zeros (tail.ts),
// which add nothing to a sum and nothing to a maximum of absolute values.

/**
 * Per-lane unsigned maximum of (bits & mask) over all elements: the one scan behind allFinite
 * (mask = exponent field) and maxAbs (mask = all but the sign). Integer and/max have 1-cycle
 * latency, so with two accumulators the scan is memory bound. Tail lanes are zeros (tail.ts),
 * which never raise a maximum.
 */
// @ts-ignore: decorator
@inline function maxMaskedBits(data: usize, length: i32, mask: v128): v128 {
  let a = i32x4.splat(0);
  let b = a;
  const body = <usize>(length & ~7) << 2;
  let offset: usize = 0;
  for (; offset < body; offset += 32) {
    a = i32x4.max_u(a, v128.and(v128.load(data + offset), mask));
    b = i32x4.max_u(b, v128.and(v128.load(data + offset, 16), mask));
  }
  if (length & 4) {
    a = i32x4.max_u(a, v128.and(v128.load(data + offset), mask));
    offset += 16;
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) b = i32x4.max_u(b, v128.and(v128.load(tailIn(0, data + offset, tailBytes)), mask));
  return i32x4.max_u(a, b);
}

/** 1 when every element is finite, 0 if any is NaN or ±Inf (its exponent bits are all ones). */
export function allFinite(data: usize, length: i32): i32 {
  const exponent = i32x4.splat(0x7f800000);
  return i32(!v128.any_true(i32x4.eq(maxMaskedBits(data, length, exponent), exponent)));
}

// @ts-ignore: decorator
@inline function highHalf(x: v128): v128 {
  return v128.shuffle<i32>(x, x, 2, 3, 0, 1);
}

/** Σ x², accumulated in f64 lanes (exact products; see the note at the top). */
export function sumSquares(data: usize, length: i32): f64 {
  let a = f64x2.splat(0);
  let b = a;
  let c = a;
  let d = a;
  const body = <usize>(length & ~7) << 2;
  let offset: usize = 0;
  for (; offset < body; offset += 32) {
    const x = v128.load(data + offset);
    const y = v128.load(data + offset, 16);
    const x0 = f64x2.promote_low_f32x4(x);
    const x1 = f64x2.promote_low_f32x4(highHalf(x));
    const y0 = f64x2.promote_low_f32x4(y);
    const y1 = f64x2.promote_low_f32x4(highHalf(y));
    a = f64x2.add(a, f64x2.mul(x0, x0));
    b = f64x2.add(b, f64x2.mul(x1, x1));
    c = f64x2.add(c, f64x2.mul(y0, y0));
    d = f64x2.add(d, f64x2.mul(y1, y1));
  }
  if (length & 4) {
    const x = v128.load(data + offset);
    const x0 = f64x2.promote_low_f32x4(x);
    const x1 = f64x2.promote_low_f32x4(highHalf(x));
    a = f64x2.add(a, f64x2.mul(x0, x0));
    b = f64x2.add(b, f64x2.mul(x1, x1));
    offset += 16;
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    const x = v128.load(tailIn(0, data + offset, tailBytes));
    const x0 = f64x2.promote_low_f32x4(x);
    const x1 = f64x2.promote_low_f32x4(highHalf(x));
    c = f64x2.add(c, f64x2.mul(x0, x0));
    d = f64x2.add(d, f64x2.mul(x1, x1));
  }
  const total = f64x2.add(f64x2.add(a, b), f64x2.add(c, d));
  return f64x2.extract_lane(total, 0) + f64x2.extract_lane(total, 1);
}

/** Σ |x|, accumulated in f64 lanes. */
export function sumAbs(data: usize, length: i32): f64 {
  let a = f64x2.splat(0);
  let b = a;
  let c = a;
  let d = a;
  const body = <usize>(length & ~7) << 2;
  let offset: usize = 0;
  for (; offset < body; offset += 32) {
    const x = f32x4.abs(v128.load(data + offset));
    const y = f32x4.abs(v128.load(data + offset, 16));
    a = f64x2.add(a, f64x2.promote_low_f32x4(x));
    b = f64x2.add(b, f64x2.promote_low_f32x4(highHalf(x)));
    c = f64x2.add(c, f64x2.promote_low_f32x4(y));
    d = f64x2.add(d, f64x2.promote_low_f32x4(highHalf(y)));
  }
  if (length & 4) {
    const x = f32x4.abs(v128.load(data + offset));
    a = f64x2.add(a, f64x2.promote_low_f32x4(x));
    b = f64x2.add(b, f64x2.promote_low_f32x4(highHalf(x)));
    offset += 16;
  }
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    const x = f32x4.abs(v128.load(tailIn(0, data + offset, tailBytes)));
    c = f64x2.add(c, f64x2.promote_low_f32x4(x));
    d = f64x2.add(d, f64x2.promote_low_f32x4(highHalf(x)));
  }
  const total = f64x2.add(f64x2.add(a, b), f64x2.add(c, d));
  return f64x2.extract_lane(total, 0) + f64x2.extract_lane(total, 1);
}

/**
 * max |x|; NaN if any element is NaN (as torch.max). With the sign bit cleared, float bit patterns
 * order like the values and every NaN pattern (> 0x7f800000) sorts above +Inf, so one unsigned
 * integer max per vector computes max |x| with NaN propagation; f32x4.max would need a
 * NaN-fixing instruction sequence on x86 (measured 4× slower here).
 */
export function maxAbs(data: usize, length: i32): f32 {
  const m = maxMaskedBits(data, length, i32x4.splat(0x7fffffff));
  const m2 = i32x4.max_u(m, highHalf(m));
  return reinterpret<f32>(max<u32>(<u32>i32x4.extract_lane(m2, 0), <u32>i32x4.extract_lane(m2, 1)));
}

// @ts-ignore: decorator
@inline function scaleLanes(at: usize, factor: v128): void {
  v128.store(at, f32x4.mul(v128.load(at), factor));
}

/** x ← factor·x (clipGradNorm's multiplication by the clip coefficient). */
export function scaleInPlace(data: usize, length: i32, factor: f32): void {
  const factorV = f32x4.splat(factor);
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) scaleLanes(data + offset, factorV);
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    scaleLanes(tailIn(0, data + body, tailBytes), factorV);
    tailOut(0, data + body, tailBytes);
  }
}

// @ts-ignore: decorator
@inline function clampLanes(at: usize, low: v128, high: v128): void {
  // pmax(x, low) = x < low ? low : x and pmin(x, high) = high < x ? high : x: a NaN x fails both
  // comparisons and passes through, as torch.clamp propagates NaN; each is a single minps/maxps.
  v128.store(at, f32x4.pmin(f32x4.pmax(v128.load(at), low), high));
}

/** x ← clamp(x, −bound, bound) (clipGradValue). NaN stays NaN. */
export function clampInPlace(data: usize, length: i32, bound: f32): void {
  const lowV = f32x4.splat(-bound);
  const highV = f32x4.splat(bound);
  const body = <usize>(length & ~3) << 2;
  for (let offset: usize = 0; offset < body; offset += 16) clampLanes(data + offset, lowV, highV);
  const tailBytes = <usize>(length & 3) << 2;
  if (tailBytes) {
    clampLanes(tailIn(0, data + body, tailBytes), lowV, highV);
    tailOut(0, data + body, tailBytes);
  }
}
