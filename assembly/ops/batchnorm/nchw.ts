import { madd } from "../../simd";
import { tailIn, tailOut } from "../../tail";
import { RUN_PIECE, laneSum, normalizeLanes, dxLanes } from "./common";
import { mergeMoments } from "./moments";

// Batch norm over NCHW: each (n, c) is one contiguous run of `spatial` floats (see common.ts).

// Results of pieceMoments (AssemblyScript has no tuples).
/**
 * Bytes from one image to the next: `batchStride` floats when given (a call over a range of the
 * channels, as threads make), else the whole image, channels × spatial.
 */
// @ts-ignore: decorator
@inline function imageStride(batchStride: i32, channels: i32, spatial: i32): usize {
  return <usize>(batchStride != 0 ? batchStride : channels * spatial) << 2;
}

let pieceMean: f64 = 0;
let pieceM2: f64 = 0;

/**
 * Moments of `length` contiguous floats about `centre` (corrected formula, see the header). With
 * no centre yet (`centre` NaN: the channel's first piece) a first pass over the piece, which
 * then sits in cache, gives one.
 */
function pieceMoments(data: usize, length: i32, centre: f32): void {
  const unrolledEnd = <usize>(length & ~15) << 2;
  const vectorEnd = <usize>(length & ~3) << 2;
  const end = <usize>length << 2;
  let offset: usize = 0;
  if (isNaN(centre)) {
    let s0 = f32x4.splat(0);
    let s1 = s0, s2 = s0, s3 = s0;
    for (; offset < unrolledEnd; offset += 64) {
      s0 = f32x4.add(s0, v128.load(data + offset));
      s1 = f32x4.add(s1, v128.load(data + offset, 16));
      s2 = f32x4.add(s2, v128.load(data + offset, 32));
      s3 = f32x4.add(s3, v128.load(data + offset, 48));
    }
    for (; offset < vectorEnd; offset += 16) s0 = f32x4.add(s0, v128.load(data + offset));
    let sum = laneSum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
    for (; offset < end; offset += 4) sum += <f64>load<f32>(data + offset);
    centre = <f32>(sum / <f64>length);
  }

  const c = f32x4.splat(centre);
  let d0 = f32x4.splat(0);
  let d1 = d0, d2 = d0, d3 = d0, q0 = d0, q1 = d0, q2 = d0, q3 = d0;
  offset = 0;
  for (; offset < unrolledEnd; offset += 64) {
    const a = f32x4.sub(v128.load(data + offset), c);
    const b = f32x4.sub(v128.load(data + offset, 16), c);
    const e = f32x4.sub(v128.load(data + offset, 32), c);
    const f = f32x4.sub(v128.load(data + offset, 48), c);
    d0 = f32x4.add(d0, a); q0 = madd(a, a, q0);
    d1 = f32x4.add(d1, b); q1 = madd(b, b, q1);
    d2 = f32x4.add(d2, e); q2 = madd(e, e, q2);
    d3 = f32x4.add(d3, f); q3 = madd(f, f, q3);
  }
  for (; offset < vectorEnd; offset += 16) {
    const a = f32x4.sub(v128.load(data + offset), c);
    d0 = f32x4.add(d0, a); q0 = madd(a, a, q0);
  }
  let sumD = laneSum(f32x4.add(f32x4.add(d0, d1), f32x4.add(d2, d3)));
  let sumD2 = laneSum(f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3)));
  for (; offset < end; offset += 4) {
    const d = <f64>(load<f32>(data + offset) - centre);
    sumD += d;
    sumD2 += d * d;
  }
  if (!isFinite(sumD) || !isFinite(sumD2)) {
    // f32 lanes overflowed (|x − centre| beyond ~1.8e19 squares past f32's range, and a first-pass
    // sum of huge values can overflow too): redo this piece in f64. Also taken for NaN data, which
    // stays NaN. One test per piece, so ordinary data pays nothing.
    pieceMomentsWide(data, length);
    return;
  }
  const n = <f64>length;
  pieceMean = <f64>centre + sumD / n;
  pieceM2 = max(sumD2 - sumD * (sumD / n), 0);
}

/** pieceMoments in f64 lanes, two passes over the (cached) piece: the path for huge magnitudes. */
function pieceMomentsWide(data: usize, length: i32): void {
  const pairEnd = <usize>(length & ~1) << 2;
  const end = <usize>length << 2;
  let s = f64x2.splat(0);
  let offset: usize = 0;
  for (; offset < pairEnd; offset += 8) s = f64x2.add(s, f64x2.promote_low_f32x4(v128.load64_zero(data + offset)));
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; offset < end; offset += 4) sum += <f64>load<f32>(data + offset);
  const n = <f64>length;
  const mean = sum / n;
  const meanV = f64x2.splat(mean);
  let q = f64x2.splat(0);
  for (offset = 0; offset < pairEnd; offset += 8) {
    const d = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(data + offset)), meanV);
    q = f64x2.add(q, f64x2.mul(d, d));
  }
  let m2 = f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1);
  for (; offset < end; offset += 4) {
    const d = <f64>load<f32>(data + offset) - mean;
    m2 += d * d;
  }
  pieceMean = mean;
  pieceM2 = m2;
}

/**
 * NCHW batch statistics: per channel, the f64 mean and M2 = Σ(x − mean)² over batch × spatial.
 * Reads x once, in memory order.
 */
export function batchNormStatsNchw(
  x: usize, batch: i32, channels: i32, spatial: i32, channelMean: usize, channelM2: usize, batchStride: i32,
): void {
  const runBytes = <usize>spatial << 2;
  const imageBytes = imageStride(batchStride, channels, spatial);
  for (let n = 0; n < batch; n++) {
    let run = x + <usize>n * imageBytes;
    for (let c = 0; c < channels; c++) {
      const meanPtr = channelMean + (<usize>c << 3);
      const m2Ptr = channelM2 + (<usize>c << 3);
      for (let start = 0; start < spatial; start += RUN_PIECE) {
        const length = min(RUN_PIECE, spatial - start);
        const before = <f64>n * <f64>spatial + <f64>start;
        // After the first piece, the channel's mean so far is the centre: one pass over memory.
        pieceMoments(run + (<usize>start << 2), length, before == 0 ? NaN : <f32>load<f64>(meanPtr));
        mergeMoments(meanPtr, m2Ptr, before, <f64>length, pieceMean, pieceM2);
      }
      run += runBytes;
    }
  }
}

/** NCHW: y = (x − centre[c])·scale[c] + offset[c]. y may be x. */
export function batchNormNormalizeNchw(
  x: usize, y: usize, batch: i32, channels: i32, spatial: i32, centre: usize, scale: usize, offset: usize,
  batchStride: i32,
): void {
  const imageBytes = imageStride(batchStride, channels, spatial);
  const runBytes = <usize>spatial << 2;
  const unrolledEnd = <usize>(spatial & ~7) << 2;
  const body = <usize>(spatial & ~3) << 2;
  const tailBytes = <usize>(spatial & 3) << 2;
  for (let n = 0; n < batch; n++) {
    let xRun = x + <usize>n * imageBytes;
    let yRun = y + <usize>n * imageBytes;
    for (let c = 0; c < channels; c++) {
      const at = <usize>c << 2;
      const cv = v128.load32_splat(centre + at);
      const sv = v128.load32_splat(scale + at);
      const ov = v128.load32_splat(offset + at);
      let i: usize = 0;
      for (; i < unrolledEnd; i += 32) {
        normalizeLanes(xRun + i, yRun + i, cv, sv, ov);
        normalizeLanes(xRun + i + 16, yRun + i + 16, cv, sv, ov);
      }
      for (; i < body; i += 16) normalizeLanes(xRun + i, yRun + i, cv, sv, ov);
      if (tailBytes) {
        const slot = tailIn(0, xRun + body, tailBytes);
        normalizeLanes(slot, slot, cv, sv, ov);
        tailOut(0, yRun + body, tailBytes);
      }
      xRun += runBytes;
      yRun += runBytes;
    }
  }
}

/**
 * NCHW backward reduction: sumDy[c] = Σdy, sumDyCentred[c] = Σdy·(x − mean[c]) (f64, overwritten).
 * With dx ≠ 0 (eval mode) also writes dx = dy·γ·invStd in the same pass.
 */
export function batchNormBackwardReduceNchw(
  dy: usize, x: usize, batch: i32, channels: i32, spatial: i32, mean: usize,
  sumDy: usize, sumDyCentred: usize, invStd: usize, gamma: usize, dx: usize, batchStride: i32,
): void {
  memory.fill(sumDy, 0, <usize>channels << 3);
  memory.fill(sumDyCentred, 0, <usize>channels << 3);
  const runBytes = <usize>spatial << 2;
  const imageBytes = imageStride(batchStride, channels, spatial);
  for (let n = 0; n < batch; n++) {
    let run: usize = <usize>n * imageBytes;
    for (let c = 0; c < channels; c++) {
      const at = <usize>c << 2;
      const m = load<f32>(mean + at);
      const mv = f32x4.splat(m);
      const p = dx ? (gamma ? load<f32>(gamma + at) : <f32>1) * load<f32>(invStd + at) : <f32>0;
      const pv = f32x4.splat(p);
      let totalDy: f64 = 0;
      let totalDyCentred: f64 = 0;
      for (let start = 0; start < spatial; start += RUN_PIECE) {
        const length = min(RUN_PIECE, spatial - start);
        const pieceStart = run + (<usize>start << 2);
        const dyPiece = dy + pieceStart;
        const xPiece = x + pieceStart;
        const dxPiece = dx + pieceStart;
        const unrolledEnd = <usize>(length & ~7) << 2;
        const body = <usize>(length & ~3) << 2;
        const end = <usize>length << 2;
        let a0 = f32x4.splat(0);
        let a1 = a0, b0 = a0, b1 = a0;
        let i: usize = 0;
        for (; i < unrolledEnd; i += 32) {
          const g0 = v128.load(dyPiece + i);
          const g1 = v128.load(dyPiece + i, 16);
          a0 = f32x4.add(a0, g0);
          a1 = f32x4.add(a1, g1);
          b0 = madd(g0, f32x4.sub(v128.load(xPiece + i), mv), b0);
          b1 = madd(g1, f32x4.sub(v128.load(xPiece + i, 16), mv), b1);
          if (dx) {
            v128.store(dxPiece + i, f32x4.mul(g0, pv));
            v128.store(dxPiece + i, f32x4.mul(g1, pv), 16);
          }
        }
        for (; i < body; i += 16) {
          const g0 = v128.load(dyPiece + i);
          a0 = f32x4.add(a0, g0);
          b0 = madd(g0, f32x4.sub(v128.load(xPiece + i), mv), b0);
          if (dx) v128.store(dxPiece + i, f32x4.mul(g0, pv));
        }
        let sumA = laneSum(f32x4.add(a0, a1));
        let sumB = laneSum(f32x4.add(b0, b1));
        for (; i < end; i += 4) {
          const g = load<f32>(dyPiece + i);
          sumA += <f64>g;
          sumB += <f64>(g * (load<f32>(xPiece + i) - m));
          if (dx) store<f32>(dxPiece + i, g * p);
        }
        totalDy += sumA;
        totalDyCentred += sumB;
      }
      const at64 = <usize>c << 3;
      store<f64>(sumDy + at64, load<f64>(sumDy + at64) + totalDy);
      store<f64>(sumDyCentred + at64, load<f64>(sumDyCentred + at64) + totalDyCentred);
      run += runBytes;
    }
  }
}

/** NCHW: dx = dy·p[c] + (x − mean[c])·s[c]·q[c] + r[c]. dx may be dy. */
export function batchNormBackwardDxNchw(
  dy: usize, x: usize, dx: usize, batch: i32, channels: i32, spatial: i32,
  mean: usize, coefDy: usize, coefCentred: usize, coefConst: usize, coefScale: usize, batchStride: i32,
): void {
  const runBytes = <usize>spatial << 2;
  const imageBytes = imageStride(batchStride, channels, spatial);
  const unrolledEnd = <usize>(spatial & ~7) << 2;
  const body = <usize>(spatial & ~3) << 2;
  const tailBytes = <usize>(spatial & 3) << 2;
  for (let n = 0; n < batch; n++) {
    let run: usize = <usize>n * imageBytes;
    for (let c = 0; c < channels; c++) {
      const at = <usize>c << 2;
      const mv = v128.load32_splat(mean + at);
      const pv = v128.load32_splat(coefDy + at);
      const qv = v128.load32_splat(coefCentred + at);
      const rv = v128.load32_splat(coefConst + at);
      const sv = v128.load32_splat(coefScale + at);
      const dyRun = dy + run;
      const xRun = x + run;
      const dxRun = dx + run;
      let i: usize = 0;
      for (; i < unrolledEnd; i += 32) {
        dxLanes(dyRun + i, xRun + i, dxRun + i, mv, pv, qv, rv, sv);
        dxLanes(dyRun + i + 16, xRun + i + 16, dxRun + i + 16, mv, pv, qv, rv, sv);
      }
      for (; i < body; i += 16) dxLanes(dyRun + i, xRun + i, dxRun + i, mv, pv, qv, rv, sv);
      if (tailBytes) {
        const dySlot = tailIn(0, dyRun + body, tailBytes);
        dxLanes(dySlot, tailIn(1, xRun + body, tailBytes), dySlot, mv, pv, qv, rv, sv);
        tailOut(0, dxRun + body, tailBytes);
      }
      run += runBytes;
    }
  }
}

