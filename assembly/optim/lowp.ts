import { elementwise } from "./common";

// Reduced-precision optimizer state: moments stored as bfloat16 or as 8-bit blockwise dynamic
// codes (8-bit Adam, Dettmers et al.), updated by the optimizers' own float32 rules.
//
// `lowp` walks a tensor in chunks of CHUNK elements: it widens each state stream's chunk into a
// float32 scratch (which stays in L1), runs the rule's `elementwise` loop on the chunk with the
// scratch as its state, and narrows the scratch back. So Adam, AdamW and Lion share these loops
// and their f32 update code; only the storage differs. Stream 0 (a first moment: signed) and
// stream 1 (a second moment: non-negative, or absent) each come with a scale stream (int8 only).
//
// bfloat16: the upper half of the float32 bits; stored with round-to-nearest-even (NaN stays
// NaN, quietened). int8: blocks of 256 elements, each with its absmax as a float32 scale; an
// element is stored as the index of the nearest value of a 256-entry code map times that scale.
// The maps are bitsandbytes' create_dynamic_map: for exponent i = 0…6 the means of
// linspace(0.1, 1, K + 1) scaled by 10^(i−6), K = 2^i (signed map, both signs) or 2^(i+1)
// (unsigned), plus 0 and 1, sorted.

export const BLOCK = 256;
const CHUNK = 2048; // 8 blocks; two f32 scratch chunks = 16 KiB, in L1
// The work area sits just above the module's static data (zero-filled static data would be
// shipped in the module); the allocator's heap starts after it (`heapBase`). It holds two f32
// scratch chunks, then per map (unsigned, signed): the 256 code values; the thresholds UPPER[c]
// above which a value is nearer code c + 1 than c (rounded up to float32, so that y ≥ UPPER[c]
// in float32 is exactly y ≥ the midpoint); and a bucket table that maps the top 16 bits of a
// normalised magnitude y ∈ [0, 1] (exponent and 7 mantissa bits: buckets no wider than 1/128 of
// y, narrower than the gap between two thresholds) to the code nearest the bucket's start.
// Quantising is then one table load and one comparison per element: exact nearest-code search.
const KEY_BASE = 103 << 7; // the top 16 bits of 2^-24: everything below is nearest to 0
const KEYS = (127 << 7) - KEY_BASE + 1; // through the top 16 bits of 1.0
// @ts-ignore: decorator
@inline function work(): usize { return (__heap_base + 15) & ~15; }
// @ts-ignore: decorator
@inline function scratch0(): usize { return work(); }
// @ts-ignore: decorator
@inline function scratch1(): usize { return work() + CHUNK * 4; }
// @ts-ignore: decorator
@inline function maps(): usize { return work() + CHUNK * 8; }
// @ts-ignore: decorator
@inline function uppers(): usize { return work() + CHUNK * 8 + 2048; }
// @ts-ignore: decorator
@inline function buckets(): usize { return work() + CHUNK * 8 + 4096; }
/** The end of the work area: the first byte the allocator may hand out. */
export function workEnd(): usize { return buckets() + 2 * KEYS; }

function buildMap(signed: bool): void {
  const map = maps() + (signed ? 1024 : 0);
  const zero = signed ? 127 : 0;
  store<f32>(map + (<usize>zero << 2), 0);
  store<f32>(map + 1020, 1);
  let rank = 0; // index among the positive codes
  for (let i = 0; i < 7; i++) {
    const k = signed ? 1 << i : 2 << i;
    let d: f64 = 1; // 10^(i−6) by division, exactly as the reference builds it
    for (let e = i; e < 6; e++) d /= 10;
    const step = 0.9 / <f64>k;
    for (let j = 0; j < k; j++) {
      const value = <f32>(d * (0.1 + (<f64>j + 0.5) * step));
      store<f32>(map + (<usize>(zero + 1 + rank + j) << 2), value);
      if (signed) store<f32>(map + (<usize>(126 - rank - j) << 2), -value);
    }
    rank += k;
  }
  const upper = uppers() + (signed ? 1024 : 0);
  for (let c = zero; c < 255; c++) {
    const middle = (<f64>load<f32>(map + (<usize>c << 2)) + <f64>load<f32>(map + (<usize>(c + 1) << 2))) / 2;
    let t = <f32>middle;
    if (<f64>t < middle) t = reinterpret<f32>(reinterpret<u32>(t) + 1);
    store<f32>(upper + (<usize>c << 2), t);
  }
  store<f32>(upper + 1020, Infinity);
  const bucket = buckets() + (signed ? KEYS : 0);
  let c = zero;
  for (let key = 0; key < KEYS; key++) {
    const start: f32 = key == 0 ? <f32>0 : reinterpret<f32>(<u32>(key + KEY_BASE) << 16);
    while (load<f32>(upper + (<usize>c << 2)) <= start) c++;
    store<u8>(bucket + key, <u8>c);
  }
}

let built = false;

function ensureMaps(): void {
  if (built) return;
  buildMap(false);
  buildMap(true);
  built = true;
}

/** The 256 float32 values of the signed (first-moment) or unsigned (second-moment) code map. */
export function int8Map(signed: bool): usize {
  ensureMaps();
  return maps() + (signed ? 1024 : 0);
}

// ---- bfloat16 ----

function widenBf16(source: usize, target: usize, length: i32): void {
  let i = 0;
  for (; i + 8 <= length; i += 8) {
    const x = v128.load(source + (<usize>i << 1));
    v128.store(target + (<usize>i << 2), i32x4.shl(i32x4.extend_low_i16x8_u(x), 16));
    v128.store(target + (<usize>i << 2), i32x4.shl(i32x4.extend_high_i16x8_u(x), 16), 16);
  }
  for (; i < length; i++) store<u32>(target + (<usize>i << 2), <u32>load<u16>(source + (<usize>i << 1)) << 16);
}

/** Round to nearest even on the top 16 bits; a NaN keeps its sign and becomes quiet. */
// @ts-ignore: decorator
@inline function roundBf16(bits: v128): v128 {
  const lsb = v128.and(i32x4.shr_u(bits, 16), i32x4.splat(1));
  const rounded = i32x4.shr_u(i32x4.add(i32x4.add(bits, i32x4.splat(0x7fff)), lsb), 16);
  const nan = v128.or(i32x4.shr_u(bits, 16), i32x4.splat(0x40));
  return v128.bitselect(nan, rounded, f32x4.ne(bits, bits));
}

function narrowBf16(source: usize, target: usize, length: i32): void {
  let i = 0;
  for (; i + 8 <= length; i += 8) {
    const lo = roundBf16(v128.load(source + (<usize>i << 2)));
    const hi = roundBf16(v128.load(source + (<usize>i << 2), 16));
    v128.store(target + (<usize>i << 1), i16x8.narrow_i32x4_u(lo, hi));
  }
  for (; i < length; i++) {
    const x = roundBf16(v128.load32_zero(source + (<usize>i << 2)));
    store<u16>(target + (<usize>i << 1), <u16>i32x4.extract_lane(x, 0));
  }
}

// ---- int8 blockwise ----

function dequantize(codes: usize, scales: usize, target: usize, length: i32, signed: bool): void {
  const map = maps() + (signed ? 1024 : 0);
  for (let block = 0; block < length; block += BLOCK) {
    const scale = load<f32>(scales + (<usize>block >> 6));
    const end = min(block + BLOCK, length);
    for (let i = block; i < end; i++) {
      store<f32>(target + (<usize>i << 2), load<f32>(map + (<usize>load<u8>(codes + i) << 2)) * scale);
    }
  }
}

function quantize(source: usize, codes: usize, scales: usize, length: i32, signed: bool): void {
  const bucket = buckets() + (signed ? KEYS : 0);
  const upper = uppers() + (signed ? 1024 : 0);
  // Negative values have no −1 code: their largest magnitude is the map's top below 1.
  const top = signed ? load<f32>(maps() + 2040) : 1;
  for (let block = 0; block < length; block += BLOCK) {
    const end = min(block + BLOCK, length);
    // Four running maxima (pmax: one instruction; a NaN is skipped); lengths are multiples of 16
    // except in a tensor's last block.
    let i = block;
    let p0 = f32x4.splat(0), p1 = p0, p2 = p0, p3 = p0;
    for (; i + 16 <= end; i += 16) {
      const at = source + (<usize>i << 2);
      p0 = f32x4.pmax(p0, f32x4.abs(v128.load(at)));
      p1 = f32x4.pmax(p1, f32x4.abs(v128.load(at, 16)));
      p2 = f32x4.pmax(p2, f32x4.abs(v128.load(at, 32)));
      p3 = f32x4.pmax(p3, f32x4.abs(v128.load(at, 48)));
    }
    const peak = f32x4.pmax(f32x4.pmax(p0, p1), f32x4.pmax(p2, p3));
    let absmax = max(max(f32x4.extract_lane(peak, 0), f32x4.extract_lane(peak, 1)), max(f32x4.extract_lane(peak, 2), f32x4.extract_lane(peak, 3)));
    for (; i < end; i++) absmax = max(absmax, abs(load<f32>(source + (<usize>i << 2))));
    store<f32>(scales + (<usize>block >> 6), absmax);
    // Multiplying by the reciprocal (bitsandbytes divides): y may differ by an ulp.
    const inverse: f32 = absmax > 0 ? 1 / absmax : 0;
    for (i = block; i < end; i++) {
      const x = load<f32>(source + (<usize>i << 2));
      let y = abs(x) * inverse;
      const negative = signed && x < 0;
      if (negative) y = min(y, top);
      // Clamped at both ends: a NaN (from a NaN or infinite moment) must not index past the table.
      const key = min(max(<i32>(reinterpret<u32>(y) >> 16) - KEY_BASE, 0), KEYS - 1);
      let c = <i32>load<u8>(bucket + key);
      c += <i32>(y >= load<f32>(upper + (<usize>c << 2)));
      store<u8>(codes + i, <u8>(negative ? 254 - c : c));
    }
  }
}

/** Format codes shared with the TypeScript side. */
export const BFLOAT16 = 1;

/** Widens stream `state` (+ `scales`) from element `at` into `scratch` (n elements). */
function widen(format: i32, state: usize, scales: usize, at: i32, n: i32, scratch: usize, signed: bool): void {
  if (format == BFLOAT16) widenBf16(state + (<usize>at << 1), scratch, n);
  else dequantize(state + at, scales + (<usize>at >> 6), scratch, n, signed);
}

/** Narrows `scratch` back into stream `state` (+ `scales`) from element `at`. */
function narrow(format: i32, state: usize, scales: usize, at: i32, n: i32, scratch: usize, signed: bool): void {
  if (format == BFLOAT16) narrowBf16(scratch, state + (<usize>at << 1), n);
  else quantize(scratch, state + at, scales + (<usize>at >> 6), n, signed);
}

/**
 * Runs rule R (constants already set) over `length` elements whose state streams s0 (signed)
 * and s1 (non-negative; 0 when absent) are stored in `format` (1 bfloat16, 2 int8 with scale
 * streams q0, q1). Flags as for `elementwise`.
 */
// @ts-ignore: decorator
@inline export function lowp<R>(
  format: i32, length: i32, param: usize, grad: usize, s0: usize, q0: usize, s1: usize, q1: usize,
  f0: bool, f1: bool, f2: bool, f3: bool,
): void {
  if (format != BFLOAT16) ensureMaps();
  for (let at = 0; at < length; at += CHUNK) {
    const n = min(CHUNK, length - at);
    widen(format, s0, q0, at, n, scratch0(), true);
    if (s1) widen(format, s1, q1, at, n, scratch1(), false);
    elementwise<R>(n, param + (<usize>at << 2), grad + (<usize>at << 2), scratch0(), s1 ? scratch1() : 0, 0, f0, f1, f2, f3);
    narrow(format, s0, q0, at, n, scratch0(), true);
    if (s1) narrow(format, s1, q1, at, n, scratch1(), false);
  }
}
