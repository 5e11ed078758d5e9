import { scratchBase, CONSTANTS_AT } from "../scratch";

// The elementwise driver and the lane math shared by the optimizer kernels.
//
// Each optimizer is a rule class with two @inline methods, `front` and `back`, that together
// update four parameters given byte pointers to its streams (param, grad and up to three state
// buffers), the loop constants as v128 values and up to four compile-time flags. `elementwise`
// runs a rule over a tensor:
//
// - Constants: a kernel broadcasts its scalars once per call into CONSTANTS with `setConstant`;
//   the driver loads them back into locals before the loop, where V8 keeps them in registers.
//   (A splat of a scalar argument may be re-materialised or spilled inside the loop.)
// - Flags: every combination of a rule's two common option flags (f0, f1) gets its own loop,
//   chosen once per call, so no vector pays a branch: the flags are constants inside each copy
//   and the dead arms fold away at compile time. The rare flags (f2, f3: amsgrad, maximize,
//   Nesterov…) are tested at run time in one generic loop, which also runs every call's
//   leftovers: specialising all sixteen combinations made the module 1.6× larger for
//   configurations hardly anyone runs. A rule with fewer flags passes `false` for the rest.
// - Two vectors per iteration in the specialised loops, in stages: front(vector 0),
//   front(vector 1), back(vector 0), back(vector 1). A rule whose update waits on a square root
//   and a division (Adam) puts everything up to its denominator in `front` and returns it as
//   `pending`; `back` divides and writes the parameter, reading back whatever else it needs. The
//   second square root then issues before the first division instead of behind the whole first
//   update, which keeps the divide unit busy (Adam 1.15× in cache). Rules that would need to
//   recompute much in `back` do everything in `front` and leave `back` empty.
// - Then at most one more vector and the tail (the last length % 4 elements) in
//   `elementwiseGeneric`: the rule's body runs once more with partial loads and stores (`TAIL`),
//   in place — its inactive lanes compute on zeros and are never stored, so each element gets
//   the same instructions as in a whole vector, and no access strays past the end of a stream.
//
// The methods' signatures are
//   front(param, grad, s0, s1, s2: usize, k0 … k11: v128, f0, f1, f2, f3: bool, next: i32): v128
//   back(the same …, next: i32, pending: v128): void
// (unused streams, constants and flags are simply ignored). They read and write their streams
// only through ld/st, passing `next` on: with `next` (a constant: 0, 1 or TAIL) those address the
// vector 16 bytes on through the load/store offset immediate (1), or the tail (TAIL), so the second vector of a pair reuses the
// first one's addresses (V8 computes every wasm address `ptr + at` with its own 32-bit add; an
// offset immediate folds into the x64 addressing mode). AssemblyScript cannot call a static
// method through a type parameter, so the driver calls the rule's instance methods on a null
// reference of that type: they never touch `this`, the class has no base (a virtual call would
// read the object header), and every call is inlined.

// Per instance (see scratch.ts): each thread broadcasts its own constants.
// @ts-ignore: decorator
@inline function constantsBase(): usize { return scratchBase + CONSTANTS_AT; }

/** Broadcasts `value` into constant slot `slot` (0–11) for the next `elementwise` call. */
// @ts-ignore: decorator
@inline export function setConstant(slot: i32, value: f32): void {
  v128.store(constantsBase() + (<usize>slot << 4), f32x4.splat(value));
}

/** Slot `slot` becomes an all-lanes sign-bit mask (−0) when `set`, else +0. */
// @ts-ignore: decorator
@inline export function setSignMask(slot: i32, set: bool): void {
  v128.store(constantsBase() + (<usize>slot << 4), i32x4.splat(set ? 0x80000000 : 0));
}

// @ts-ignore: decorator
@inline export function constantAt(slot: i32): v128 {
  return v128.load(constantsBase() + (<usize>slot << 4));
}

// Flag values as types, for `pairs`.
type On = u16;
type Off = u8;

/**
 * One loop over the pairs of vectors for one combination of f0 and f1 (On or Off; f2 and f3 are
 * off). A separate function per combination, not inlined (Binaryen keeps functions with loops
 * out of line): with the four loops inlined into one kernel, Binaryen merged two whose code
 * differed only in a flag into one loop that tested the flag on every iteration.
 */
function pairs<R, F0, F1>(length: i32, param: usize, grad: usize, s0: usize, s1: usize, s2: usize): void {
  const f0 = sizeof<F0>() == sizeof<On>();
  const f1 = sizeof<F1>() == sizeof<On>();
  const f2 = false;
  const f3 = false;
  const rule = changetype<R>(0);
  const k0 = constantAt(0), k1 = constantAt(1), k2 = constantAt(2), k3 = constantAt(3);
  const k4 = constantAt(4), k5 = constantAt(5), k6 = constantAt(6), k7 = constantAt(7);
  const k8 = constantAt(8), k9 = constantAt(9), k10 = constantAt(10), k11 = constantAt(11);
  const end = <usize>(length & ~7) << 2;
  for (let at: usize = 0; at < end; at += 32) {
    // Both vectors from the same addresses, the second through the 16-byte offset immediate;
    // both front stages before either back stage.
    const pending0 = rule.front(param + at, grad + at, s0 + at, s1 + at, s2 + at,
      k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, 0);
    const pending1 = rule.front(param + at, grad + at, s0 + at, s1 + at, s2 + at,
      k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, 1);
    rule.back(param + at, grad + at, s0 + at, s1 + at, s2 + at,
      k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, 0, pending0);
    rule.back(param + at, grad + at, s0 + at, s1 + at, s2 + at,
      k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, 1, pending1);
  }
}

/**
 * The pairs loop with f0 and f1 as run-time values (f2, f3 off): one copy instead of four, for
 * a rule's rare variants (the l1 > 0 instances), whose loops would otherwise cost as much code
 * as the common ones. The flag tests are well-predicted branches.
 */
function pairsAnyFlags<R>(length: i32, param: usize, grad: usize, s0: usize, s1: usize, s2: usize, f0: bool, f1: bool): void {
  const f2 = false;
  const f3 = false;
  const rule = changetype<R>(0);
  const k0 = constantAt(0), k1 = constantAt(1), k2 = constantAt(2), k3 = constantAt(3);
  const k4 = constantAt(4), k5 = constantAt(5), k6 = constantAt(6), k7 = constantAt(7);
  const k8 = constantAt(8), k9 = constantAt(9), k10 = constantAt(10), k11 = constantAt(11);
  const end = <usize>(length & ~7) << 2;
  for (let at: usize = 0; at < end; at += 32) {
    const pending0 = rule.front(param + at, grad + at, s0 + at, s1 + at, s2 + at,
      k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, 0);
    const pending1 = rule.front(param + at, grad + at, s0 + at, s1 + at, s2 + at,
      k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, 1);
    rule.back(param + at, grad + at, s0 + at, s1 + at, s2 + at,
      k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, 0, pending0);
    rule.back(param + at, grad + at, s0 + at, s1 + at, s2 + at,
      k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, 1, pending1);
  }
}

/**
 * From byte offset `from` to the end: one vector per iteration, then the tail in place, with the
 * flags as run-time values (well-predicted branches). Runs the leftovers of every call, and whole
 * calls whose rare flags (f2, f3) are set, so that only f0 × f1 are specialised: four copies of
 * the loop per rule rather than sixteen, which keeps the module small.
 */
function elementwiseGeneric<R>(
  from: usize, length: i32, param: usize, grad: usize, s0: usize, s1: usize, s2: usize,
  f0: bool, f1: bool, f2: bool, f3: bool,
): void {
  const rule = changetype<R>(0);
  const k0 = constantAt(0), k1 = constantAt(1), k2 = constantAt(2), k3 = constantAt(3);
  const k4 = constantAt(4), k5 = constantAt(5), k6 = constantAt(6), k7 = constantAt(7);
  const k8 = constantAt(8), k9 = constantAt(9), k10 = constantAt(10), k11 = constantAt(11);
  const end = <usize>(length & ~3) << 2;
  let at = from;
  for (; at < end; at += 16) {
    const pending = rule.front(param + at, grad + at, s0 + at, s1 + at, s2 + at,
      k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, 0);
    rule.back(param + at, grad + at, s0 + at, s1 + at, s2 + at,
      k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, 0, pending);
  }
  tailBytes = <usize>(length & 3) << 2;
  if (tailBytes == 0) return;
  const pending = rule.front(param + at, grad + at, s0 + at, s1 + at, s2 + at,
    k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, TAIL);
  rule.back(param + at, grad + at, s0 + at, s1 + at, s2 + at,
    k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, f0, f1, f2, f3, TAIL, pending);
}

/**
 * Runs rule R over `length` elements of the streams (state streams the rule does not use: 0),
 * with the constants set by setConstant/setSignMask. f0–f3 are the rule's flags: f0 and f1 the
 * common options (each combination its own loop), f2 and f3 the rare ones (amsgrad, maximize…:
 * a call with either set runs the generic loop).
 *
 * A negative `length` makes it a multi-tensor call: `param` then points at a table of −length
 * entries of six i32 (param, grad, state buffers 0–2, length), all run with the same constants
 * and flags. The other arguments are the first entry's streams as the optimizer passes them for
 * one tensor: they give the flags, and which buffer slot feeds each state stream (an optimizer
 * may pass its buffers in another order, or leave some out). The loops stay out of line, so
 * the table loop adds a few instructions per kernel, not a body.
 * `form` picks the loops: 0 one pairs loop per f0 × f1, 1 one pairs loop with run-time flags
 * (rare variants, where module size matters more than the last few percent), 2 only the
 * generic loop (a rare variant whose time goes to a division or square root anyway).
 */
// @ts-ignore: decorator
@inline function run<R>(
  form: i32, length: i32, param: usize, grad: usize, s0: usize, s1: usize, s2: usize,
  f0: bool, f1: bool, f2: bool, f3: bool,
): void {
  const table = param;
  const count = length < 0 ? -length : 1;
  // Which slot of an entry feeds each state stream: the one holding the first entry's pointer.
  let m0: usize = 0, m1: usize = 0, m2: usize = 0;
  if (length < 0) {
    m0 = slotOf(table, s0);
    m1 = slotOf(table, s1);
    m2 = slotOf(table, s2);
  }
  for (let i = 0; i < count; i++) {
    let n = length;
    if (length < 0) {
      const entry = table + <usize>i * 24;
      param = load<u32>(entry);
      grad = load<u32>(entry, 4);
      s0 = m0 ? load<u32>(entry + m0) : 0;
      s1 = m1 ? load<u32>(entry + m1) : 0;
      s2 = m2 ? load<u32>(entry + m2) : 0;
      n = load<i32>(entry, 20);
    }
    if (form == 2 || f2 || f3) {
      elementwiseGeneric<R>(0, n, param, grad, s0, s1, s2, f0, f1, f2, f3);
    } else {
      if (form == 1) pairsAnyFlags<R>(n, param, grad, s0, s1, s2, f0, f1);
      else if (f1) {
        if (f0) pairs<R, On, On>(n, param, grad, s0, s1, s2);
        else pairs<R, Off, On>(n, param, grad, s0, s1, s2);
      } else {
        if (f0) pairs<R, On, Off>(n, param, grad, s0, s1, s2);
        else pairs<R, Off, Off>(n, param, grad, s0, s1, s2);
      }
      if (n & 7) elementwiseGeneric<R>(<usize>(n & ~7) << 2, n, param, grad, s0, s1, s2, f0, f1, false, false);
    }
  }
}

/** The byte offset (8, 12 or 16) of the buffer slot of the table's first entry that holds `ptr`; 0 for a null stream. */
function slotOf(table: usize, ptr: usize): usize {
  if (ptr == 0) return 0;
  return ptr == <usize>load<u32>(table, 8) ? 8 : ptr == <usize>load<u32>(table, 12) ? 12 : 16;
}

/** See `run`: the common form, one pairs loop per f0 × f1. */
// @ts-ignore: decorator
@inline export function elementwise<R>(
  length: i32, param: usize, grad: usize, s0: usize, s1: usize, s2: usize,
  f0: bool, f1: bool, f2: bool, f3: bool,
): void {
  run<R>(0, length, param, grad, s0, s1, s2, f0, f1, f2, f3);
}

/** See `run`: one pairs loop for all four f0 × f1 combinations. */
// @ts-ignore: decorator
@inline export function elementwiseCompact<R>(
  length: i32, param: usize, grad: usize, s0: usize, s1: usize, s2: usize,
  f0: bool, f1: bool, f2: bool, f3: bool,
): void {
  run<R>(1, length, param, grad, s0, s1, s2, f0, f1, f2, f3);
}

/** See `run`: only the generic loop (one vector per iteration, run-time flags). */
// @ts-ignore: decorator
@inline export function elementwiseSingle<R>(
  length: i32, param: usize, grad: usize, s0: usize, s1: usize, s2: usize,
  f0: bool, f1: bool, f2: bool, f3: bool,
): void {
  run<R>(2, length, param, grad, s0, s1, s2, f0, f1, f2, f3);
}

// ---- Lane math shared by the rules -------------------------------------------------------------

/** `next` for the tail: the first `tailBytes` (4, 8 or 12) at `ptr`, the other lanes zero. */
export const TAIL = 2;
/** The tail's byte count, set by `elementwiseGeneric` before it runs the tail (per instance, as globals are). */
let tailBytes: usize = 0;

/** The vector at `ptr`, or 16 bytes on when `next` is 1, or the tail when TAIL (see the header). */
// @ts-ignore: decorator
@inline export function ld(ptr: usize, next: i32): v128 {
  if (next == TAIL) {
    const low = tailBytes & 8 ? v128.load64_zero(ptr) : v128.load32_zero(ptr);
    return tailBytes == 12 ? v128.load32_lane(ptr, low, 2, 8) : low;
  }
  return next ? v128.load(ptr, 16) : v128.load(ptr);
}

/** Stores `value` at `ptr`, or 16 bytes on when `next` is 1, or only the tail's lanes when TAIL. */
// @ts-ignore: decorator
@inline export function st(ptr: usize, value: v128, next: i32): void {
  if (next == TAIL) {
    if (tailBytes & 8) v128.store64_lane(ptr, value, 0);
    else v128.store32_lane(ptr, value, 0);
    if (tailBytes == 12) v128.store32_lane(ptr, value, 2, 8);
  } else if (next) v128.store(ptr, value, 16);
  else v128.store(ptr, value);
}

/**
 * The gradient as the update sees it: −g for maximize (a flag, so the default loop has no sign
 * flip at all), plus l2·p when the rule applies coupled (L2) weight decay. The flip is an xor
 * with `signBit` (setSignMask), exact as −1·g is: f32x4.neg would have V8 rebuild its mask
 * (two instructions) on every iteration.
 */
// @ts-ignore: decorator
@inline export function gradient(grad: usize, next: i32, p: v128, maximize: bool, signBit: v128, l2: v128, hasL2: bool): v128 {
  const raw = ld(grad, next);
  const g = maximize ? v128.xor(raw, signBit) : raw;
  return hasL2 ? f32x4.add(g, f32x4.mul(l2, p)) : g;
}

/** Decoupled weight decay: p·(1 − lr·wd), when the rule has it. */
// @ts-ignore: decorator
@inline export function decoupled(p: v128, paramScale: v128, hasDecoupled: bool): v128 {
  return hasDecoupled ? f32x4.mul(p, paramScale) : p;
}

/**
 * decay·average + (1 − decay)·x: the exponential moving average behind every adaptive optimizer's
 * state (Adam's moments, RMSprop's and Adadelta's square averages, Lion's momentum). 1 − decay
 * is passed in, rounded once from the f64 decay by the kernel.
 */
// @ts-ignore: decorator
@inline export function movingAverage(average: v128, x: v128, decay: v128, oneMinusDecay: v128): v128 {
  return f32x4.add(f32x4.mul(decay, average), f32x4.mul(oneMinusDecay, x));
}

/**
 * Adam's moments, m ← β1·m + (1−β1)·g and v ← β2·v + (1−β2)·g², both stored; returns v (read m
 * back where it is needed). Both are loaded before either is stored: a store before the second
 * load would keep V8 from scheduling that load earlier (they might alias).
 */
// @ts-ignore: decorator
@inline export function adamMoments(
  firstMoments: usize, secondMoments: usize, next: i32, g: v128,
  beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128,
): v128 {
  const m = movingAverage(ld(firstMoments, next), g, beta1, oneMinusBeta1);
  const v = movingAverage(ld(secondMoments, next), f32x4.mul(g, g), beta2, oneMinusBeta2);
  st(firstMoments, m, next);
  st(secondMoments, v, next);
  return v;
}

/**
 * The proximal L1 step of TensorFlow's ProximalGradientDescent/ProximalAdagrad kernels:
 * sign(x)·max(|x| − threshold, 0), exactly 0 (keeping x's sign) once |x| ≤ threshold.
 * `signBit` is the all-lanes sign mask (setSignMask(slot, true)).
 */
// @ts-ignore: decorator
@inline export function shrink(x: v128, threshold: v128, signBit: v128): v128 {
  // pmax (x64 maxps, one instruction) rather than max (wasm's NaN/−0 rules cost V8 about eight):
  // pmax(a, 0) = a < 0 ? 0 : a still passes a NaN on.
  const magnitude = f32x4.pmax(f32x4.sub(f32x4.abs(x), threshold), f32x4.splat(0));
  return v128.or(magnitude, v128.and(x, signBit));
}

// Compile-time flags of a rule class's own (beyond f0–f3): `Rule<On>` and `Rule<Off>` are two
// classes, so a flag given this way costs the other instance nothing (no test in its loop).
export type FlagOn = u16;
export type FlagOff = u8;

/**
 * acc + x² per lane pair, in f64 (x's four f32 lanes widened into acc's two f64 lanes): the
 * per-tensor norms of Adafactor and LAMB. Squares of widened floats are exact, so the sum's
 * error is only its f64 additions (see ops/reduce.ts).
 */
// @ts-ignore: decorator
@inline export function addSquaresF64(acc: v128, x: v128): v128 {
  const lo = f64x2.promote_low_f32x4(x);
  const hi = f64x2.promote_low_f32x4(v128.shuffle<i32>(x, x, 2, 3, 0, 1));
  return f64x2.add(acc, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
}

/** acc + x per lane pair, in f64 (x's four f32 lanes widened into acc's two). */
// @ts-ignore: decorator
@inline export function addF64(acc: v128, x: v128): v128 {
  const lo = f64x2.promote_low_f32x4(x);
  const hi = f64x2.promote_low_f32x4(v128.shuffle<i32>(x, x, 2, 3, 0, 1));
  return f64x2.add(acc, f64x2.add(lo, hi));
}

/** The sum of an f64x2 accumulator's lanes. */
// @ts-ignore: decorator
@inline export function sumF64(acc: v128): f64 {
  return f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}
