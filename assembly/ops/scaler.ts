// Feature scaling: statistics per feature (the last axis) and y = (x − offset)/scale.
//
// The data is walked flat. Its features repeat with period C (the feature count), so every
// per-feature array is first laid out over one "period" P = lcm(C, 4) floats (the feature
// pattern repeated P/C times): vector k of the flat data then always meets the same four
// features, whatever C is, and one SIMD pass covers every shape (C = 1, 3, 5... included).
// Statistics are folded back to C features at the end (src/data/scaler-fold.ts, which also lays
// out the period patterns: per-feature scalar work that gains nothing from the module).
//
// The standard scaler's moments are f64, as batch norm's: each element is promoted, shifted by
// its feature's first value (which keeps Σd² − (Σd)²/n free of cancellation when the mean is
// large against the spread) and summed in f64x2 lanes.

/**
 * Shifted f64 sums over `total` elements with period `period`: for d = x − shift[k],
 * sum[k] += d, sumSq[k] += d² (k = element index mod period; shift is f32, sum/sumSq f64).
 */
export function scalerSums(x: usize, total: i32, period: i32, shift: usize, sum: usize, sumSq: usize): void {
  memory.fill(sum, 0, <usize>period << 3);
  memory.fill(sumSq, 0, <usize>period << 3);
  const vectorEnd = <usize>(total & ~3) << 2;
  const periodBytes = <usize>period << 2;
  let k: usize = 0; // byte offset into the f32 period arrays
  for (let at: usize = 0; at < vectorEnd; at += 16) {
    const v = v128.load(x + at);
    const s = v128.load(shift + k);
    const dLow = f64x2.sub(f64x2.promote_low_f32x4(v), f64x2.promote_low_f32x4(s));
    const dHigh = f64x2.sub(
      f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)),
      f64x2.promote_low_f32x4(i32x4.shuffle(s, s, 2, 3, 0, 1)));
    const k64 = k << 1;
    v128.store(sum + k64, f64x2.add(v128.load(sum + k64), dLow));
    v128.store(sum + k64, f64x2.add(v128.load(sum + k64, 16), dHigh), 16);
    v128.store(sumSq + k64, f64x2.add(v128.load(sumSq + k64), f64x2.mul(dLow, dLow)));
    v128.store(sumSq + k64, f64x2.add(v128.load(sumSq + k64, 16), f64x2.mul(dHigh, dHigh)), 16);
    k += 16;
    if (k == periodBytes) k = 0;
  }
  for (let i = total & ~3; i < total; i++) {
    const d = <f64>load<f32>(x + (<usize>i << 2)) - <f64>load<f32>(shift + k);
    store<f64>(sum + (k << 1), load<f64>(sum + (k << 1)) + d);
    store<f64>(sumSq + (k << 1), load<f64>(sumSq + (k << 1)) + d * d);
    k += 4;
  }
}

/** Per-period-position minimum and maximum of `total` elements (f32, exact); lo/hi hold the first row expanded. */
export function scalerMinMax(x: usize, total: i32, period: i32, lo: usize, hi: usize): void {
  // lo and hi arrive seeded with the first row (scalerExpand in src/data/scaler-fold.ts): every element is compared.
  const vectorEnd = <usize>(total & ~3) << 2;
  const periodBytes = <usize>period << 2;
  let k: usize = 0;
  for (let at: usize = 0; at < vectorEnd; at += 16) {
    const v = v128.load(x + at);
    v128.store(lo + k, f32x4.min(v128.load(lo + k), v));
    v128.store(hi + k, f32x4.max(v128.load(hi + k), v));
    k += 16;
    if (k == periodBytes) k = 0;
  }
  for (let i = total & ~3; i < total; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(lo + k, min(load<f32>(lo + k), v));
    store<f32>(hi + k, max(load<f32>(hi + k), v));
    k += 4;
  }
}

/**
 * y = (x − offset)/scale, or with `invert` x = y·scale + offset, over `total` elements with the
 * period-expanded offset and scale. y may be x (each vector is read before it is written).
 */
export function scalerApply(x: usize, y: usize, total: i32, period: i32, offset: usize, scale: usize, invert: bool): void {
  const vectorEnd = <usize>(total & ~3) << 2;
  const periodBytes = <usize>period << 2;
  let k: usize = 0;
  if (invert) {
    for (let at: usize = 0; at < vectorEnd; at += 16) {
      v128.store(y + at, f32x4.add(f32x4.mul(v128.load(x + at), v128.load(scale + k)), v128.load(offset + k)));
      k += 16;
      if (k == periodBytes) k = 0;
    }
  } else {
    for (let at: usize = 0; at < vectorEnd; at += 16) {
      v128.store(y + at, f32x4.div(f32x4.sub(v128.load(x + at), v128.load(offset + k)), v128.load(scale + k)));
      k += 16;
      if (k == periodBytes) k = 0;
    }
  }
  for (let i = total & ~3; i < total; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(x + at);
    store<f32>(y + at, invert ? v * load<f32>(scale + k) + load<f32>(offset + k) : (v - load<f32>(offset + k)) / load<f32>(scale + k));
    k += 4;
  }
}
