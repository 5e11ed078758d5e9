// Masked steps run the optimizer's dense update (so every state buffer sees the full gradient)
// and then put back the saved value of every masked-out element of the parameter:
//   p ← mask ≠ 0 ? p : saved
// maskIsBytes selects a Uint8Array mask (1 byte per element) or a Float32Array one (4 bytes).

export function restoreMaskedOut(param: usize, saved: usize, mask: usize, length: i32, maskIsBytes: bool): void {
  const zero = f32x4.splat(0);
  const body = <usize>(length & ~3) << 2;
  let maskAt = mask;
  for (let offset: usize = 0; offset < body; offset += 16) {
    let keep: v128;
    if (maskIsBytes) {
      // Widen four mask bytes to four 32-bit lanes; a lane keeps the new value where its byte ≠ 0.
      const widened = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(maskAt)));
      keep = v128.not(i32x4.eq(widened, i32x4.splat(0)));
      maskAt += 4;
    } else {
      keep = f32x4.ne(v128.load(maskAt), zero);
      maskAt += 16;
    }
    v128.store(param + offset, v128.bitselect(v128.load(param + offset), v128.load(saved + offset), keep));
  }
  // Tail: at most three elements, a select each.
  for (let i = length & ~3; i < length; i++) {
    const on = maskIsBytes ? load<u8>(mask + <usize>i) != 0 : load<f32>(mask + (<usize>i << 2)) != 0;
    if (!on) store<f32>(param + (<usize>i << 2), load<f32>(saved + (<usize>i << 2)));
  }
}
