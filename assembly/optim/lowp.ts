import { constantAt, FlagOn, FlagOff } from "./common";

// Reduced-precision optimizer state: moments stored as bfloat16 or as 8-bit blockwise dynamic
// codes (8-bit Adam, Dettmers et al.), updated by AdamLowpRule and LionLowpRule: AdamRule's and
// LionRule's float32 operations in the same order, on values in registers, so the stored state
// is exactly the float32 result, rounded. Stream 0 is a first moment (signed); stream 1 a second
// moment (non-negative), or absent.
//
// bfloat16: the upper half of the float32 bits; stored with round-to-nearest-even (NaN stays
// NaN, quietened). One fused loop per rule: 8 elements per iteration, widened from one vector
// per stream, updated in registers and narrowed back; the tail runs the same body on staged copies.
//
// int8: blocks of 256 elements, each with its absmax as a float32 scale; an element is stored as
// the index of the nearest value of a 256-entry code map times that scale. The maps are
// bitsandbytes' create_dynamic_map: for exponent i = 0…6 the means of linspace(0.1, 1, K + 1)
// scaled by 10^(i−6), K = 2^i (signed map, both signs) or 2^(i+1) (unsigned), plus 0 and 1,
// sorted. Per block: one pass decodes (a table load per element), updates, writes the
// parameters and keeps the new moments in float32 scratch (in L1) with their running absmax;
// a second pass encodes the scratch with the search table below. A tensor's last partial
// block is staged into full-size copies and runs the same two passes.

export const BLOCK = 256;
// The work area sits just above the module's static data (zero-filled static data would be
// shipped in the module); the allocator's heap starts after it (`heapBase`). Reduced-precision
// steps run on one thread, so one area serves every instance.
//
// Search table: the top 16 bits of a normalised magnitude y ∈ [0, 1] (exponent and 7 mantissa
// bits: buckets no wider than 1/128 of y, narrower than the gap between two thresholds) pick an
// entry holding the code c nearest the bucket's start and, when the threshold UPPER[c] (above
// which a value is nearer code c + 1; rounded up to float32, so that y ≥ UPPER[c] in float32 is
// exactly y ≥ the midpoint) lies in the same bucket, its low 16 bits minus one (else 0xFFFF):
// y is nearer c + 1 exactly when its own low 16 bits exceed that. One table load per element,
// and an exact nearest-code search.
const KEY_BASE = 103 << 7; // the top 16 bits of 2^-24: everything below is nearest to 0
const KEYS = (127 << 7) - KEY_BASE + 1; // through the top 16 bits of 1.0
const SCRATCH_M: usize = 0; // 256 f32: a block's new first moments
const SCRATCH_V: usize = 1024; // … and second moments
const STAGE_P: usize = 2048; // a staged tail: 256 f32 parameters,
const STAGE_G: usize = 3072; // 256 f32 gradients,
const STAGE_M: usize = 4096; // first-moment codes or bfloat16 (up to 512 bytes),
const STAGE_V: usize = 4608; // second-moment codes or bfloat16
const CONSTS: usize = 5120; // 16 vectors, C_* below
const MAPS: usize = CONSTS + 256; // unsigned map, signed map: 256 f32 each
const UPPERS: usize = MAPS + 2048; // their thresholds
const ENTRIES: usize = UPPERS + 2048; // their search tables: KEYS u32 each
const C_HALF = 0, C_KEY_BASE = 1, C_KEY_LAST = 2, C_LOW16 = 3, C_BYTE16 = 4, C_INF = 5, C_INF_XOR_TOP = 6;
const C_MAGNITUDE = 7, C_SCALE0 = 8, C_SCALE1 = 9, C_INVERSE = 10, C_PEAK0 = 11, C_PEAK1 = 12;
// @ts-ignore: decorator
@inline function work(): usize { return (__heap_base + 15) & ~15; }
// @ts-ignore: decorator
@inline function cv(slot: i32): v128 { return v128.load(work() + CONSTS + (<usize>slot << 4)); }
// @ts-ignore: decorator
@inline function setCv(slot: i32, value: v128): void { v128.store(work() + CONSTS + (<usize>slot << 4), value); }
/** The end of the work area: the first byte the allocator may hand out. */
export function workEnd(): usize { return work() + ENTRIES + 8 * KEYS; }

function buildMap(signed: bool): void {
  const map = work() + MAPS + (signed ? 1024 : 0);
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
  const upper = work() + UPPERS + (signed ? 1024 : 0);
  for (let c = zero; c < 255; c++) {
    const middle = (<f64>load<f32>(map + (<usize>c << 2)) + <f64>load<f32>(map + (<usize>(c + 1) << 2))) / 2;
    let t = <f32>middle;
    if (<f64>t < middle) t = reinterpret<f32>(reinterpret<u32>(t) + 1);
    store<f32>(upper + (<usize>c << 2), t);
  }
  store<f32>(upper + 1020, Infinity);
  const entries = work() + ENTRIES + (signed ? 4 * KEYS : 0);
  let c = zero;
  for (let key = 0; key < KEYS; key++) {
    const start: f32 = key == 0 ? <f32>0 : reinterpret<f32>(<u32>(key + KEY_BASE) << 16);
    while (load<f32>(upper + (<usize>c << 2)) <= start) c++;
    const t = reinterpret<u32>(load<f32>(upper + (<usize>c << 2)));
    // Bucket 0 also holds everything below 2^-24, but no threshold lies that low.
    const inside = key > 0 && (t >> 16) == <u32>(key + KEY_BASE);
    store<u32>(entries + (<usize>key << 2), <u32>c | ((inside ? (t & 0xffff) - 1 : 0xffff) << 16));
  }
}

let built = false;

function ensureBuilt(): void {
  if (built) return;
  buildMap(false);
  buildMap(true);
  setCv(C_HALF, i32x4.splat(0x7fff));
  setCv(C_KEY_BASE, i32x4.splat(KEY_BASE));
  setCv(C_KEY_LAST, i32x4.splat(KEYS - 1));
  setCv(C_LOW16, i32x4.splat(0xffff));
  setCv(C_BYTE16, i16x8.splat(0xff));
  // Negative values have no −1 code: their largest magnitude is the map's top below 1.
  const top = load<u32>(work() + MAPS + 1024 + 1016);
  setCv(C_INF, i32x4.splat(0x7f800000));
  setCv(C_INF_XOR_TOP, i32x4.splat(0x7f800000 ^ top));
  setCv(C_MAGNITUDE, i32x4.splat(0x7fffffff));
  built = true;
}

/** The 256 float32 values of the signed (first-moment) or unsigned (second-moment) code map. */
export function int8Map(signed: bool): usize {
  ensureBuilt();
  return work() + MAPS + (signed ? 1024 : 0);
}

/** Format codes shared with the TypeScript side. */
export const BFLOAT16 = 1;

/**
 * Runs rule R (constants already set) over `length` elements whose state streams s0 (signed)
 * and s1 (non-negative; unused when R has no second moment) are stored in `format` (1 bfloat16,
 * 2 int8 with scale streams q0, q1).
 */
// @ts-ignore: decorator
@inline export function lowp<R>(
  format: i32, length: i32, param: usize, grad: usize, s0: usize, q0: usize, s1: usize, q1: usize,
): void {
  ensureBuilt();
  // The loops are the rule's own; the drivers around them are shared (called through a table).
  if (!changetype<R>(0).second()) s1 = 0;
  if (format == BFLOAT16) {
    bf16Loop(length, param, grad, s0, s1, (n: usize, p: usize, g: usize, a: usize, b: usize): void => { bf16Run<R>(n, p, g, a, b); });
  } else {
    int8Loop(length, param, grad, s0, q0, s1, q1, (n: usize, p: usize, g: usize, a: usize, b: usize): void => { int8Update<R>(n, p, g, a, b); });
  }
}

// ---- bfloat16 ----

// Widening: the bfloat16 halves interleaved with zeros (one punpck{l,h}wd each).
// @ts-ignore: decorator
@inline function widenLow(x: v128, zero: v128): v128 { return v128.shuffle<i16>(zero, x, 0, 8, 1, 9, 2, 10, 3, 11); }
// @ts-ignore: decorator
@inline function widenHigh(x: v128, zero: v128): v128 { return v128.shuffle<i16>(zero, x, 4, 12, 5, 13, 6, 14, 7, 15); }

/** Round to nearest even on the top 16 bits, shifted down (a NaN is left to `exactBf16`). */
// @ts-ignore: decorator
@inline function roundBf16(bits: v128, half: v128): v128 {
  const lsb = i32x4.shr_u(i32x4.shl(bits, 15), 31);
  return i32x4.shr_u(i32x4.add(i32x4.add(bits, half), lsb), 16);
}

/** roundBf16, but a NaN keeps its sign and top bits and becomes quiet. */
// @ts-ignore: decorator
@inline function exactBf16(bits: v128, half: v128): v128 {
  const nan = f32x4.ne(bits, bits);
  return v128.bitselect(v128.or(i32x4.shr_u(bits, 16), i32x4.splat(0x40)), roundBf16(bits, half), nan);
}

/** Two vectors as 8 bfloat16; `nan`: whether either may hold a NaN (then the exact, slower path). */
// @ts-ignore: decorator
@inline function narrowBf16(a: v128, b: v128, half: v128, nan: bool): v128 {
  if (nan) return i16x8.narrow_i32x4_u(exactBf16(a, half), exactBf16(b, half));
  return i16x8.narrow_i32x4_u(roundBf16(a, half), roundBf16(b, half));
}

/**
 * The fused loop over `n` (a multiple of 8) elements: one vector of 8 bfloat16 per stream, each
 * half widened, updated and rounded in turn (two f32x4 of each stream at once would need more
 * than x64's 16 vector registers with the rule's constants held in them).
 */
function bf16Run<R>(n: usize, param: usize, grad: usize, s0: usize, s1: usize): void {
  const rule = changetype<R>(0);
  const two = rule.second();
  const k0 = constantAt(0), k1 = constantAt(1), k2 = constantAt(2), k3 = constantAt(3);
  const k4 = constantAt(4), k5 = constantAt(5), k6 = constantAt(6), k7 = constantAt(7);
  const k8 = constantAt(8), k9 = constantAt(9), k10 = constantAt(10), k11 = constantAt(11);
  const half = cv(C_HALF);
  const zero = i32x4.splat(0);
  for (let i: usize = 0; i < n; i += 8) {
    const pa = param + (i << 2), ga = grad + (i << 2), ma = s0 + (i << 1), va = s1 + (i << 1);
    const m0 = widenLow(v128.load(ma), zero);
    const p0 = v128.load(pa);
    const g0 = rule.grad(p0, v128.load(ga), k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11);
    const n0 = rule.first(m0, g0, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11);
    const w0 = two ? rule.square(widenLow(v128.load(va), zero), g0, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11) : zero;
    v128.store(pa, rule.param(p0, g0, m0, n0, w0, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11));
    const m1 = widenHigh(v128.load(ma), zero);
    const p1 = v128.load(pa, 16);
    const g1 = rule.grad(p1, v128.load(ga, 16), k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11);
    const n1 = rule.first(m1, g1, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11);
    const w1 = two ? rule.square(widenHigh(v128.load(va), zero), g1, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11) : zero;
    v128.store(pa, rule.param(p1, g1, m1, n1, w1, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11), 16);
    // One test for NaN per iteration: a NaN in any lane makes the sum NaN (so may ∞ − ∞: then
    // the exact path runs for nothing).
    const sum = f32x4.add(f32x4.add(n0, n1), two ? f32x4.add(w0, w1) : zero);
    if (i32x4.bitmask(f32x4.ne(sum, sum))) {
      v128.store(ma, narrowBf16(n0, n1, half, true));
      if (two) v128.store(va, narrowBf16(w0, w1, half, true));
    } else {
      v128.store(ma, narrowBf16(n0, n1, half, false));
      if (two) v128.store(va, narrowBf16(w0, w1, half, false));
    }
  }
}

type Run = (n: usize, param: usize, grad: usize, s0: usize, s1: usize) => void;

/** `run` (a bf16Run) over `length` elements; the last length % 8 through zeroed staging copies. */
function bf16Loop(length: i32, param: usize, grad: usize, s0: usize, s1: usize, run: Run): void {
  const i = <usize>(length & ~7), tail = <usize>(length & 7);
  run(i, param, grad, s0, s1);
  if (tail == 0) return;
  const p = stage(STAGE_P, param + (i << 2), tail << 2, 32);
  const m = stage(STAGE_M, s0 + (i << 1), tail << 1, 16);
  const v = s1 ? stage(STAGE_V, s1 + (i << 1), tail << 1, 16) : 0;
  run(8, p, stage(STAGE_G, grad + (i << 2), tail << 2, 32), m, v);
  memory.copy(param + (i << 2), p, tail << 2);
  memory.copy(s0 + (i << 1), m, tail << 1);
  if (s1) memory.copy(s1 + (i << 1), v, tail << 1);
}

/** Copies `bytes` from `source` into the staging area at `offset`, zeroed through `span` bytes; returns its address. */
function stage(offset: usize, source: usize, bytes: usize, span: usize): usize {
  const slot = work() + offset;
  memory.fill(slot, 0, span);
  memory.copy(slot, source, bytes);
  return slot;
}

// ---- int8 blockwise ----

/** Four map values by four code bytes at `codes`. */
// @ts-ignore: decorator
@inline function decode4(codes: usize, map: usize): v128 {
  let x = v128.load32_zero(map + (<usize>load<u8>(codes) << 2));
  x = v128.load32_lane(map + (<usize>load<u8>(codes, 1) << 2), x, 1);
  x = v128.load32_lane(map + (<usize>load<u8>(codes, 2) << 2), x, 2);
  return v128.load32_lane(map + (<usize>load<u8>(codes, 3) << 2), x, 3);
}

/**
 * Pass one over `n` (a multiple of 8) elements of a block: decodes the moments (scales in
 * C_SCALE0/1), runs the rule, writes the parameters, leaves the new moments in the scratch and
 * their running absmax (pmax: a NaN is skipped) in C_PEAK0/1.
 */
function int8Update<R>(n: usize, param: usize, grad: usize, c0: usize, c1: usize): void {
  const rule = changetype<R>(0);
  const two = rule.second();
  const k0 = constantAt(0), k1 = constantAt(1), k2 = constantAt(2), k3 = constantAt(3);
  const k4 = constantAt(4), k5 = constantAt(5), k6 = constantAt(6), k7 = constantAt(7);
  const k8 = constantAt(8), k9 = constantAt(9), k10 = constantAt(10), k11 = constantAt(11);
  const scale0 = cv(C_SCALE0), scale1 = cv(C_SCALE1);
  const signedMap = work() + MAPS + 1024, unsignedMap = work() + MAPS;
  const out0 = work() + SCRATCH_M, out1 = work() + SCRATCH_V;
  const zero = i32x4.splat(0), magnitude = cv(C_MAGNITUDE);
  let peak0 = zero, peak1 = zero;
  for (let i: usize = 0; i < n; i += 8) {
    const pa = param + (i << 2), ga = grad + (i << 2);
    const m0 = f32x4.mul(decode4(c0 + i, signedMap), scale0);
    const m1 = f32x4.mul(decode4(c0 + i + 4, signedMap), scale0);
    const p0 = v128.load(pa), p1 = v128.load(pa, 16);
    const g0 = rule.grad(p0, v128.load(ga), k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11);
    const g1 = rule.grad(p1, v128.load(ga, 16), k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11);
    const n0 = rule.first(m0, g0, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11);
    const n1 = rule.first(m1, g1, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11);
    let w0 = zero, w1 = zero;
    if (two) {
      w0 = rule.square(f32x4.mul(decode4(c1 + i, unsignedMap), scale1), g0, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11);
      w1 = rule.square(f32x4.mul(decode4(c1 + i + 4, unsignedMap), scale1), g1, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11);
    }
    v128.store(pa, rule.param(p0, g0, m0, n0, w0, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11));
    v128.store(pa, rule.param(p1, g1, m1, n1, w1, k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11), 16);
    v128.store(out0 + (i << 2), n0);
    v128.store(out0 + (i << 2), n1, 16);
    peak0 = f32x4.pmax(f32x4.pmax(peak0, v128.and(n0, magnitude)), v128.and(n1, magnitude));
    if (two) {
      v128.store(out1 + (i << 2), w0);
      v128.store(out1 + (i << 2), w1, 16);
      peak1 = f32x4.pmax(f32x4.pmax(peak1, v128.and(w0, magnitude)), v128.and(w1, magnitude));
    }
  }
  setCv(C_PEAK0, peak0);
  setCv(C_PEAK1, peak1);
}

/** The codes of four values x (C_INVERSE holds 1/absmax), as i32 lanes; `negative`: x < 0 (signed map). */
// @ts-ignore: decorator
@inline function encode4(x: v128, negative: v128, entries: usize, signed: bool, inverse: v128, keyBase: v128,
  keyLast: v128, low16: v128, inf: v128, infXorTop: v128, magnitude: v128, zero: v128,
): v128 {
  // |x| as an and with a mask held in a register (V8 rebuilds f32x4.abs's mask at every use).
  let y = f32x4.mul(v128.and(x, magnitude), inverse);
  // A negative value's magnitude is capped at the map's top below 1 (pmin passes a NaN on, as min does).
  if (signed) y = f32x4.pmin(y, v128.xor(inf, v128.and(negative, infXorTop)));
  // Clamped at both ends: a NaN (from a NaN or infinite moment) must not index past the table.
  const key = i32x4.min_s(i32x4.max_s(i32x4.sub(i32x4.shr_u(y, 16), keyBase), zero), keyLast);
  let e = v128.load32_zero(entries + (<usize>i32x4.extract_lane(key, 0) << 2));
  e = v128.load32_lane(entries + (<usize>i32x4.extract_lane(key, 1) << 2), e, 1);
  e = v128.load32_lane(entries + (<usize>i32x4.extract_lane(key, 2) << 2), e, 2);
  e = v128.load32_lane(entries + (<usize>i32x4.extract_lane(key, 3) << 2), e, 3);
  return i32x4.sub(v128.and(e, low16), i32x4.gt_s(v128.and(y, low16), i32x4.shr_u(e, 16)));
}

/** Pass two: encodes `n` (a multiple of 16) scratch values at `source` into `codes`. */
function int8Encode<SIGNED>(source: usize, codes: usize, n: usize): void {
  const signed = sizeof<SIGNED>() == sizeof<FlagOn>();
  const entries = work() + ENTRIES + (signed ? 4 * KEYS : 0);
  const inverse = cv(C_INVERSE), keyBase = cv(C_KEY_BASE), keyLast = cv(C_KEY_LAST), low16 = cv(C_LOW16);
  const inf = cv(C_INF), infXorTop = cv(C_INF_XOR_TOP), byte16 = cv(C_BYTE16), magnitude = cv(C_MAGNITUDE);
  const zero = i32x4.splat(0);
  for (let i: usize = 0; i < n; i += 16) {
    const at = source + (i << 2);
    const x0 = v128.load(at), x1 = v128.load(at, 16), x2 = v128.load(at, 32), x3 = v128.load(at, 48);
    if (signed) {
      const n0 = f32x4.lt(x0, zero), n1 = f32x4.lt(x1, zero), n2 = f32x4.lt(x2, zero), n3 = f32x4.lt(x3, zero);
      const c0 = encode4(x0, n0, entries, true, inverse, keyBase, keyLast, low16, inf, infXorTop, magnitude, zero);
      const c1 = encode4(x1, n1, entries, true, inverse, keyBase, keyLast, low16, inf, infXorTop, magnitude, zero);
      const c2 = encode4(x2, n2, entries, true, inverse, keyBase, keyLast, low16, inf, infXorTop, magnitude, zero);
      const c3 = encode4(x3, n3, entries, true, inverse, keyBase, keyLast, low16, inf, infXorTop, magnitude, zero);
      // Negative: code 254 − c, as a byte (wrapping: −1 is 255), in 16-bit lanes.
      const a = i16x8.narrow_i32x4_s(c0, c1), b = i16x8.narrow_i32x4_s(c2, c3);
      const na = i16x8.narrow_i32x4_s(n0, n1), nb = i16x8.narrow_i32x4_s(n2, n3);
      const fa = v128.and(i16x8.add(v128.xor(a, na), v128.and(na, byte16)), byte16);
      const fb = v128.and(i16x8.add(v128.xor(b, nb), v128.and(nb, byte16)), byte16);
      v128.store(codes + i, i8x16.narrow_i16x8_u(fa, fb));
    } else {
      const c0 = encode4(x0, zero, entries, false, inverse, keyBase, keyLast, low16, inf, infXorTop, magnitude, zero);
      const c1 = encode4(x1, zero, entries, false, inverse, keyBase, keyLast, low16, inf, infXorTop, magnitude, zero);
      const c2 = encode4(x2, zero, entries, false, inverse, keyBase, keyLast, low16, inf, infXorTop, magnitude, zero);
      const c3 = encode4(x3, zero, entries, false, inverse, keyBase, keyLast, low16, inf, infXorTop, magnitude, zero);
      v128.store(codes + i, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(c0, c1), i16x8.narrow_i32x4_u(c2, c3)));
    }
  }
}

/** The largest lane of a pmax accumulator (no NaN in it). */
// @ts-ignore: decorator
@inline function peakOf(peak: v128): f32 {
  return max(max(f32x4.extract_lane(peak, 0), f32x4.extract_lane(peak, 1)), max(f32x4.extract_lane(peak, 2), f32x4.extract_lane(peak, 3)));
}

/**
 * A partial block's absmax over its `n` scratch values: pmax over the whole 16-element groups (a
 * NaN skipped), then max over the rest (a NaN kept), as full blocks and the reference count it.
 */
function partialPeak(source: usize, n: i32): f32 {
  let peak = i32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const at = source + (<usize>i << 2);
    peak = f32x4.pmax(f32x4.pmax(peak, f32x4.abs(v128.load(at))), f32x4.abs(v128.load(at, 16)));
    peak = f32x4.pmax(f32x4.pmax(peak, f32x4.abs(v128.load(at, 32))), f32x4.abs(v128.load(at, 48)));
  }
  let absmax = peakOf(peak);
  for (; i < n; i++) absmax = max(absmax, abs(load<f32>(source + (<usize>i << 2))));
  return absmax;
}

/** Stores `absmax` at `scale` and 1/absmax (0 for 0) in C_INVERSE. */
// @ts-ignore: decorator
@inline function setScale(scale: usize, absmax: f32): void {
  store<f32>(scale, absmax);
  // Multiplying by the reciprocal (bitsandbytes divides): y may differ by an ulp.
  setCv(C_INVERSE, f32x4.splat(absmax > 0 ? 1 / absmax : 0));
}

/** int8 steps over `length` elements, `update` an int8Update; `s1` 0 for a rule without a second moment. */
function int8Loop(length: i32, param: usize, grad: usize, s0: usize, q0: usize, s1: usize, q1: usize, update: Run): void {
  const two = s1 != 0;
  const full = <usize>(length & ~(BLOCK - 1));
  for (let at: usize = 0; at < full; at += BLOCK) {
    const scale0 = q0 + (at >> 6), scale1 = q1 + (at >> 6);
    setCv(C_SCALE0, f32x4.splat(load<f32>(scale0)));
    if (two) setCv(C_SCALE1, f32x4.splat(load<f32>(scale1)));
    update(BLOCK, param + (at << 2), grad + (at << 2), s0 + at, s1 + at);
    setScale(scale0, peakOf(cv(C_PEAK0)));
    int8Encode<FlagOn>(work() + SCRATCH_M, s0 + at, BLOCK);
    if (two) {
      setScale(scale1, peakOf(cv(C_PEAK1)));
      int8Encode<FlagOff>(work() + SCRATCH_V, s1 + at, BLOCK);
    }
  }
  const rest = <usize>length - full;
  if (rest == 0) return;
  // The last partial block: staged (zero-padded) copies through the same two passes.
  const scale0 = q0 + (full >> 6), scale1 = q1 + (full >> 6);
  const span = (rest + 15) & ~15;
  const p = stage(STAGE_P, param + (full << 2), rest << 2, span << 2);
  const c0 = stage(STAGE_M, s0 + full, rest, span);
  const c1 = two ? stage(STAGE_V, s1 + full, rest, span) : 0;
  setCv(C_SCALE0, f32x4.splat(load<f32>(scale0)));
  if (two) setCv(C_SCALE1, f32x4.splat(load<f32>(scale1)));
  update(span, p, stage(STAGE_G, grad + (full << 2), rest << 2, span << 2), c0, c1);
  memory.copy(param + (full << 2), p, rest << 2);
  setScale(scale0, partialPeak(work() + SCRATCH_M, <i32>rest));
  int8Encode<FlagOn>(work() + SCRATCH_M, c0, span);
  memory.copy(s0 + full, c0, rest);
  if (two) {
    setScale(scale1, partialPeak(work() + SCRATCH_V, <i32>rest));
    int8Encode<FlagOff>(work() + SCRATCH_V, c1, span);
    memory.copy(s1 + full, c1, rest);
  }
}
