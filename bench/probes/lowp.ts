// Probe kernels for bench/state-dtype.mjs only (never shipped): the two limits of reduced-precision
// steps that no storage format can remove.

/** First 64-byte-aligned byte after the static data: the bench allocates from here. */
export function heapBase(): usize { return (__heap_base + 63) & ~63; }

/**
 * Adam's divider bound: p ← m / √v, one f32x4.sqrt and one f32x4.div per vector and nothing else.
 * An exact Adam step (same float32 arithmetic, whatever its state format) cannot be faster.
 */
export function sqrtDiv(param: usize, m: usize, v: usize, length: i32): void {
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 32) {
    v128.store(param + i, f32x4.div(v128.load(m + i), f32x4.sqrt(v128.load(v + i))));
    v128.store(param + i, f32x4.div(v128.load(m + i, 16), f32x4.sqrt(v128.load(v + i, 16))), 16);
  }
}

/**
 * One table lookup per element as the int8 kernels make them (no SIMD gather in wasm): four
 * lane extracts of byte offsets, four scalar loads into the lanes. out ← table[key].
 */
export function lookups(keys: usize, table: usize, out: usize, length: i32): void {
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 16) {
    const key = v128.load(keys + i);
    let e = v128.load32_zero(table + <usize>i32x4.extract_lane(key, 0));
    e = v128.load32_lane(table + <usize>i32x4.extract_lane(key, 1), e, 1);
    e = v128.load32_lane(table + <usize>i32x4.extract_lane(key, 2), e, 2);
    e = v128.load32_lane(table + <usize>i32x4.extract_lane(key, 3), e, 3);
    v128.store(out + i, e);
  }
}

/** The lookups loop without the lookups (keys copied through): its time is the loop's own. */
export function noLookups(keys: usize, table: usize, out: usize, length: i32): void {
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 16) v128.store(out + i, v128.load(keys + i));
}
