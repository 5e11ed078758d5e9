// The few helpers whose code differs between the two builds. The "relaxed" target is compiled
// with relaxed-simd enabled; ASC_FEATURE_RELAXED_SIMD is a compile-time constant, so the branch
// not taken is never emitted and the plain build contains no relaxed opcode.

/** a·b + c per lane. Fused (or not — the engine picks) in the relaxed build; mul then add otherwise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** c − a·b per lane (see madd). */
// @ts-ignore: decorator
@inline export function nmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_nmadd(a, b, c);
  } else {
    return f32x4.sub(c, f32x4.mul(a, b));
  }
}
