// Per-channel moments merged in f64, and the per-channel constants computed from them (forward
// training and eval, backward coefficients): the layout-independent parts of batch norm.

/** Chan et al.: merges (pieceMean, pieceM2) of `count` values into channel (mean, M2) that holds `before` values. */
// @ts-ignore: decorator
@inline export function mergeMoments(meanPtr: usize, m2Ptr: usize, before: f64, count: f64, pieceMean: f64, pieceM2: f64): void {
  if (before == 0) {
    store<f64>(meanPtr, pieceMean);
    store<f64>(m2Ptr, pieceM2);
    return;
  }
  const total = before + count;
  const meanA = load<f64>(meanPtr);
  const delta = pieceMean - meanA;
  store<f64>(meanPtr, meanA + delta * (count / total));
  store<f64>(m2Ptr, load<f64>(m2Ptr) + pieceM2 + delta * delta * (before * count / total));
}

/**
 * Per-channel constants of a training-mode forward from the f64 moments of `count` values:
 * mean (f32), invStd = 1/√(M2/count + eps), scale = γ·invStd, offset = β − (mean − f32(mean))·scale,
 * and the running-stat updates (the variance one unbiased) of whichever of runningMean/runningVar
 * is not 0. gamma/beta may be 0 (no affine: γ = 1, β = 0).
 */
export function batchNormFinishTraining(
  channelMean: usize, channelM2: usize, channels: i32, count: f64, eps: f64,
  gamma: usize, beta: usize, mean: usize, invStd: usize, scale: usize, offset: usize,
  runningMean: usize, runningVar: usize, momentum: f64,
): void {
  for (let c = 0; c < channels; c++) {
    const at64 = <usize>c << 3;
    const at = <usize>c << 2;
    const mean64 = load<f64>(channelMean + at64);
    const m2 = load<f64>(channelM2 + at64);
    const mean32 = <f32>mean64;
    const inv = 1 / Math.sqrt(m2 / count + eps);
    const inv32 = <f32>inv;
    const g = gamma ? <f64>load<f32>(gamma + at) : 1.0;
    const b = beta ? <f64>load<f32>(beta + at) : 0.0;
    const s = g * <f64>inv32;
    store<f32>(mean + at, mean32);
    store<f32>(invStd + at, inv32);
    store<f32>(scale + at, <f32>s);
    store<f32>(offset + at, <f32>(b - (mean64 - <f64>mean32) * s));
    if (runningMean) {
      store<f32>(runningMean + at, <f32>((1 - momentum) * <f64>load<f32>(runningMean + at) + momentum * mean64));
    }
    if (runningVar) {
      store<f32>(runningVar + at, <f32>((1 - momentum) * <f64>load<f32>(runningVar + at) + momentum * (m2 / (count - 1))));
    }
  }
}

/** Eval-mode constants: mean = runningMean, invStd = 1/√(runningVar + eps), scale, offset = β. */
export function batchNormFinishEval(
  runningMean: usize, runningVar: usize, channels: i32, eps: f64,
  gamma: usize, beta: usize, mean: usize, invStd: usize, scale: usize, offset: usize,
): void {
  for (let c = 0; c < channels; c++) {
    const at = <usize>c << 2;
    const inv32 = <f32>(1 / Math.sqrt(<f64>load<f32>(runningVar + at) + eps));
    const g = gamma ? load<f32>(gamma + at) : <f32>1;
    store<f32>(mean + at, load<f32>(runningMean + at));
    store<f32>(invStd + at, inv32);
    store<f32>(scale + at, <f32>(<f64>g * <f64>inv32));
    store<f32>(offset + at, beta ? load<f32>(beta + at) : <f32>0);
  }
}

/**
 * The power of two s of the header's dx = dy·p + (x − mean)·s·q + r: 1 while q is a normal
 * float32 (q = 0 included), else 2^⌊e/2⌋ for q's exponent e (at least 2^−126), so that the
 * centred values scaled by s and q/s both stay normal.
 */
function centredScale(q: f64): f64 {
  if (q == 0 || Math.abs(q) >= 1.1754943508222875e-38) return 1;
  const exponent = <i32>((reinterpret<u64>(q) >> 52) & 0x7ff) - 1023;
  return reinterpret<f64>(<u64>(max(exponent >> 1, -126) + 1023) << 52);
}

/**
 * From the backward sums of `count` values per channel: dgamma = invStd·Σdy(x−mean) and
 * dbeta = Σdy (written, or added when `accumulate`; either pointer may be 0), and the dx
 * coefficients p, q, r, s of the header (p ≠ 0 pointer; training: the full formula; eval: q = r = 0, s = 1).
 */
export function batchNormBackwardCoefficients(
  sumDy: usize, sumDyCentred: usize, channels: i32, count: f64, invStd: usize, gamma: usize,
  training: bool, dgamma: usize, dbeta: usize, accumulate: bool,
  coefDy: usize, coefCentred: usize, coefConst: usize, coefScale: usize,
): void {
  for (let c = 0; c < channels; c++) {
    const at = <usize>c << 2;
    const at64 = <usize>c << 3;
    const inv = <f64>load<f32>(invStd + at);
    const sdy = load<f64>(sumDy + at64);
    const sdx = load<f64>(sumDyCentred + at64);
    if (dgamma) store<f32>(dgamma + at, <f32>((accumulate ? <f64>load<f32>(dgamma + at) : 0) + inv * sdx));
    if (dbeta) store<f32>(dbeta + at, <f32>((accumulate ? <f64>load<f32>(dbeta + at) : 0) + sdy));
    if (coefDy) {
      const p = (gamma ? <f64>load<f32>(gamma + at) : 1.0) * inv;
      store<f32>(coefDy + at, <f32>p);
      const q = training ? -p * inv * inv * (sdx / count) : 0;
      const s = centredScale(q);
      store<f32>(coefCentred + at, <f32>(q / s));
      store<f32>(coefScale + at, <f32>s);
      store<f32>(coefConst + at, training ? <f32>(-p * (sdy / count)) : <f32>0);
    }
  }
}

