import { madd } from "../simd";
import { tailIn, tailOut } from "../tail";

// Batch normalisation (torch.nn.functional.batch_norm), forward and backward, per layout.
//
// Geometry. NCHW is [batch][channels][spatial]: each (n, c) is one contiguous run of `spatial`
// floats, so the kernels vectorise along the run with per-channel splats. NHWC is
// [rows][channels] (rows = batch·spatial; an NCHW tensor with spatial 1 is the same thing and
// is sent here too): the kernels vectorise across channels. When C is not a multiple of 4 a
// vector straddles two rows, so NHWC kernels walk the flat array in "super rows" of
// P = lcm(C, 4) floats (4/gcd(C,4) rows): vector j of every super row always holds the same four
// channels, lane l being channel (4j + l) mod C. Per-channel coefficients are expanded once per
// call into P-float position arrays and every vector of the tensor is processed with no channel
// tail at all; per-position sums are folded back into channels at the end of a chunk.
//
// Statistics. The variance must survive a channel mean far from zero (mean 1e4, std 1), so no
// E[x²] − E[x]². Each piece (an NCHW run of ≤ RUN_PIECE floats, an NHWC chunk of rows) is summed
// about a centre c in f32 lanes as Σd and Σd² with d = x − c, and the corrected two-pass formula
//   mean = c + Σd/n,   M2 = Σd² − (Σd)²/n
// removes whatever error the centre had. Pieces are merged per channel in f64 with Chan et al.'s
// pairwise update, so f32 lanes only ever sum a bounded run and N·HW in the millions loses
// nothing. The centre of a channel's first piece comes from a first pass over that piece (then
// in cache); every later piece is centred on the channel's mean so far, so x is read from memory
// once. That is as safe as a true two-pass: the rounding error of the piece is ~ε·(M2_piece +
// n·δ²) with δ = piece mean − centre, and the merge adds n·δ²·before/(before + n) ≥ n·δ²/2 to the
// channel's M2 anyway (pieces never outnumber what came before), so the error stays ~ε relative.
//
// Forward then needs one more pass: y = (x − mean)·scale + offset with scale = γ·invStd and
// offset = β − (mean64 − mean32)·scale. Subtracting the f32 mean first is exact for x near it
// (Sterbenz), and the f32 rounding of the mean is folded into the offset, so large means do not
// cost precision in y.
//
// Backward (training): one reduction pass over dy, x for Σdy and Σdy·(x − mean), then one pass
//   dx = dy·p + (x − mean)·q + r,  p = γ·invStd,  q = −p·invStd²·Σdy(x−mean)/n,  r = −p·Σdy/n,
// the full derivative through the batch mean and variance. In eval mode the statistics are
// constants (dx = dy·p) and dx is written during the reduction pass: one pass in all.

/** Longest stretch of an NCHW run accumulated in f32 lanes before it is merged in f64. */
const RUN_PIECE: i32 = 2048;
/**
 * NHWC chunk size aimed at (floats; bounds the f32 accumulation per lane) and the least number
 * of super rows per chunk (wide C: keeps the per-chunk fold/merge, O(P), small beside the data).
 */
const CHUNK_FLOATS: i32 = 4096;
const MIN_SUPER_ROWS: i32 = 128;

// Results of pieceMoments (AssemblyScript has no tuples).
let pieceMean: f64 = 0;
let pieceM2: f64 = 0;

/** Floats in one super row: lcm(C, 4). */
// @ts-ignore: decorator
@inline function superRowFloats(channels: i32): i32 {
  if ((channels & 3) == 0) return channels;
  if ((channels & 1) == 0) return channels << 1;
  return channels << 2;
}

/**
 * Scratch (floats, 16-byte aligned pointer) the NHWC kernels need for `channels`: four
 * position arrays of P floats and three f64 channel arrays.
 */
export function batchNormWorkFloats(channels: i32): i32 {
  return 4 * superRowFloats(channels) + 6 * channels + 4;
}

// @ts-ignore: decorator
@inline function laneSum(v: v128): f64 {
  return (<f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1)) +
    (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
}

/** Chan et al.: merges (pieceMean, pieceM2) of `count` values into channel (mean, M2) that holds `before` values. */
// @ts-ignore: decorator
@inline function mergeMoments(meanPtr: usize, m2Ptr: usize, before: f64, count: f64): void {
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
  const n = <f64>length;
  pieceMean = <f64>centre + sumD / n;
  pieceM2 = max(sumD2 - sumD * (sumD / n), 0);
}

/**
 * NCHW batch statistics: per channel, the f64 mean and M2 = Σ(x − mean)² over batch × spatial.
 * Reads x once, in memory order.
 */
export function batchNormStatsNchw(
  x: usize, batch: i32, channels: i32, spatial: i32, channelMean: usize, channelM2: usize,
): void {
  const runBytes = <usize>spatial << 2;
  let run = x;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const meanPtr = channelMean + (<usize>c << 3);
      const m2Ptr = channelM2 + (<usize>c << 3);
      for (let start = 0; start < spatial; start += RUN_PIECE) {
        const length = min(RUN_PIECE, spatial - start);
        const before = <f64>n * <f64>spatial + <f64>start;
        // After the first piece, the channel's mean so far is the centre: one pass over memory.
        pieceMoments(run + (<usize>start << 2), length, before == 0 ? NaN : <f32>load<f64>(meanPtr));
        mergeMoments(meanPtr, m2Ptr, before, <f64>length);
      }
      run += runBytes;
    }
  }
}

/** dst[k] = src[k mod C] for k < P (f32 source). */
function expandChannels(source: usize, destination: usize, channels: i32, positions: i32): void {
  let c = 0;
  for (let k = 0; k < positions; k++) {
    store<f32>(destination + (<usize>k << 2), load<f32>(source + (<usize>c << 2)));
    if (++c == channels) c = 0;
  }
}

/** channel[c] (f64) += Σ over positions k ≡ c (mod C) of positionSums[k] (f32). */
function foldPositions(positionSums: usize, channelSums: usize, channels: i32, positions: i32): void {
  let c = 0;
  for (let k = 0; k < positions; k++) {
    const at = channelSums + (<usize>c << 3);
    store<f64>(at, load<f64>(at) + <f64>load<f32>(positionSums + (<usize>k << 2)));
    if (++c == channels) c = 0;
  }
}

/** Per-position sums of `count` super rows and a partial one (NHWC stats, first chunk). */
function chunkSums(base: usize, count: i32, partial: usize, partialFloats: i32, sumX: usize, superBytes: usize): void {
  // Four super rows per accumulator update: a quarter of the accumulator traffic.
  memory.fill(sumX, 0, superBytes);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const row0 = base + <usize>i * superBytes;
    const row1 = row0 + superBytes;
    const row2 = row1 + superBytes;
    const row3 = row2 + superBytes;
    for (let offset: usize = 0; offset < superBytes; offset += 16) {
      const rows4 = f32x4.add(
        f32x4.add(v128.load(row0 + offset), v128.load(row1 + offset)),
        f32x4.add(v128.load(row2 + offset), v128.load(row3 + offset)));
      v128.store(sumX + offset, f32x4.add(v128.load(sumX + offset), rows4));
    }
  }
  for (; i < count; i++) {
    const row = base + <usize>i * superBytes;
    for (let offset: usize = 0; offset < superBytes; offset += 16) {
      v128.store(sumX + offset, f32x4.add(v128.load(sumX + offset), v128.load(row + offset)));
    }
  }
  const partialVectorEnd = <usize>(partialFloats & ~3) << 2;
  const partialEnd = <usize>partialFloats << 2;
  let offset: usize = 0;
  for (; offset < partialVectorEnd; offset += 16) {
    v128.store(sumX + offset, f32x4.add(v128.load(sumX + offset), v128.load(partial + offset)));
  }
  for (; offset < partialEnd; offset += 4) store<f32>(sumX + offset, load<f32>(sumX + offset) + load<f32>(partial + offset));
}

/** NHWC batch statistics (see the header): per channel f64 mean and M2 over all rows. */
export function batchNormStatsNhwc(
  x: usize, rows: i32, channels: i32, channelMean: usize, channelM2: usize, work: usize,
): void {
  const positions = superRowFloats(channels);
  const rowsPerSuper = positions / channels;
  const superBytes = <usize>positions << 2;
  const superRows = rows / rowsPerSuper;
  const leftoverRows = rows - superRows * rowsPerSuper;
  const leftoverFloats = leftoverRows * channels;
  const sumX = work;
  const centres = sumX + superBytes;
  const sumD = centres + superBytes;
  const sumD2 = sumD + superBytes;
  const foldX = sumD2 + superBytes;
  const foldD = foldX + (<usize>channels << 3);
  const foldD2 = foldD + (<usize>channels << 3);
  const chunkSuperRows = max(MIN_SUPER_ROWS, CHUNK_FLOATS / positions);

  let rowsDone: f64 = 0;
  let superRow = 0;
  do {
    const count = min(chunkSuperRows, superRows - superRow);
    const last = superRow + count == superRows;
    const partialFloats = last ? leftoverFloats : 0;
    const partialVectorEnd = <usize>(partialFloats & ~3) << 2;
    const partialEnd = <usize>partialFloats << 2;
    const chunkRows = <f64>(count * rowsPerSuper + (last ? leftoverRows : 0));
    const base = x + <usize>superRow * superBytes;
    const partial = base + <usize>count * superBytes;

    if (rowsDone == 0) {
      // First chunk: a first pass for a rough per-channel centre.
      chunkSums(base, count, partial, partialFloats, sumX, superBytes);
      memory.fill(foldX, 0, <usize>channels << 3);
      foldPositions(sumX, foldX, channels, positions);
    }
    for (let c = 0; c < channels; c++) {
      // Later chunks are centred on the channel's mean so far (one pass over memory). The centre
      // actually used is the f32 value; keep it (as f64) for the correction below.
      const at64 = <usize>c << 3;
      const centre = rowsDone == 0 ? <f32>(load<f64>(foldX + at64) / chunkRows) : <f32>load<f64>(channelMean + at64);
      store<f32>(sumX + (<usize>c << 2), centre);
      store<f64>(foldX + at64, <f64>centre);
    }
    expandChannels(sumX, centres, channels, positions);

    // Σd and Σd² about the centre (the first chunk: from cache).
    memory.fill(sumD, 0, superBytes << 1);
    let i = 0;
    for (; i + 4 <= count; i += 4) {
      const row0 = base + <usize>i * superBytes;
      const row1 = row0 + superBytes;
      const row2 = row1 + superBytes;
      const row3 = row2 + superBytes;
      for (let offset: usize = 0; offset < superBytes; offset += 16) {
        const c = v128.load(centres + offset);
        const d0 = f32x4.sub(v128.load(row0 + offset), c);
        const d1 = f32x4.sub(v128.load(row1 + offset), c);
        const d2 = f32x4.sub(v128.load(row2 + offset), c);
        const d3 = f32x4.sub(v128.load(row3 + offset), c);
        v128.store(sumD + offset, f32x4.add(v128.load(sumD + offset), f32x4.add(f32x4.add(d0, d1), f32x4.add(d2, d3))));
        const squares = f32x4.add(madd(d0, d0, f32x4.mul(d1, d1)), madd(d2, d2, f32x4.mul(d3, d3)));
        v128.store(sumD2 + offset, f32x4.add(v128.load(sumD2 + offset), squares));
      }
    }
    for (; i < count; i++) {
      const row = base + <usize>i * superBytes;
      for (let offset: usize = 0; offset < superBytes; offset += 16) {
        const d = f32x4.sub(v128.load(row + offset), v128.load(centres + offset));
        v128.store(sumD + offset, f32x4.add(v128.load(sumD + offset), d));
        v128.store(sumD2 + offset, madd(d, d, v128.load(sumD2 + offset)));
      }
    }
    let offset: usize = 0;
    for (; offset < partialVectorEnd; offset += 16) {
      const d = f32x4.sub(v128.load(partial + offset), v128.load(centres + offset));
      v128.store(sumD + offset, f32x4.add(v128.load(sumD + offset), d));
      v128.store(sumD2 + offset, madd(d, d, v128.load(sumD2 + offset)));
    }
    for (; offset < partialEnd; offset += 4) {
      const d = load<f32>(partial + offset) - load<f32>(centres + offset);
      store<f32>(sumD + offset, load<f32>(sumD + offset) + d);
      store<f32>(sumD2 + offset, load<f32>(sumD2 + offset) + d * d);
    }
    memory.fill(foldD, 0, <usize>channels << 4);
    foldPositions(sumD, foldD, channels, positions);
    foldPositions(sumD2, foldD2, channels, positions);
    for (let c = 0; c < channels; c++) {
      const at = <usize>c << 3;
      const sd = load<f64>(foldD + at);
      pieceMean = load<f64>(foldX + at) + sd / chunkRows;
      pieceM2 = max(load<f64>(foldD2 + at) - sd * (sd / chunkRows), 0);
      mergeMoments(channelMean + at, channelM2 + at, rowsDone, chunkRows);
    }
    rowsDone += chunkRows;
    superRow += count;
  } while (superRow < superRows);
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

// @ts-ignore: decorator
@inline function normalizeLanes(source: usize, destination: usize, centre: v128, scale: v128, offset: v128): void {
  v128.store(destination, madd(f32x4.sub(v128.load(source), centre), scale, offset));
}

/** NCHW: y = (x − centre[c])·scale[c] + offset[c]. y may be x. */
export function batchNormNormalizeNchw(
  x: usize, y: usize, batch: i32, channels: i32, spatial: i32, centre: usize, scale: usize, offset: usize,
): void {
  const runBytes = <usize>spatial << 2;
  const unrolledEnd = <usize>(spatial & ~7) << 2;
  const body = <usize>(spatial & ~3) << 2;
  const tailBytes = <usize>(spatial & 3) << 2;
  let xRun = x;
  let yRun = y;
  for (let n = 0; n < batch; n++) {
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

/** NHWC: y = (x − centre[c])·scale[c] + offset[c] across channels. y may be x. */
export function batchNormNormalizeNhwc(
  x: usize, y: usize, rows: i32, channels: i32, centre: usize, scale: usize, offset: usize, work: usize,
): void {
  const positions = superRowFloats(channels);
  const superBytes = <usize>positions << 2;
  const centres = work;
  const scales = centres + superBytes;
  const offsets = scales + superBytes;
  expandChannels(centre, centres, channels, positions);
  expandChannels(scale, scales, channels, positions);
  expandChannels(offset, offsets, channels, positions);
  const total = <usize>rows * <usize>channels;
  const superRows = total / <usize>positions;
  let xRow = x;
  let yRow = y;
  let i: usize = 0;
  // Four super rows per load of the coefficients.
  for (; i + 4 <= superRows; i += 4) {
    for (let j: usize = 0; j < superBytes; j += 16) {
      const cv = v128.load(centres + j);
      const sv = v128.load(scales + j);
      const ov = v128.load(offsets + j);
      normalizeLanes(xRow + j, yRow + j, cv, sv, ov);
      normalizeLanes(xRow + superBytes + j, yRow + superBytes + j, cv, sv, ov);
      normalizeLanes(xRow + 2 * superBytes + j, yRow + 2 * superBytes + j, cv, sv, ov);
      normalizeLanes(xRow + 3 * superBytes + j, yRow + 3 * superBytes + j, cv, sv, ov);
    }
    xRow += superBytes << 2;
    yRow += superBytes << 2;
  }
  for (; i < superRows; i++) {
    for (let j: usize = 0; j < superBytes; j += 16) {
      normalizeLanes(xRow + j, yRow + j, v128.load(centres + j), v128.load(scales + j), v128.load(offsets + j));
    }
    xRow += superBytes;
    yRow += superBytes;
  }
  const partialFloats = total - superRows * <usize>positions;
  const body = (partialFloats & ~3) << 2;
  for (let j: usize = 0; j < body; j += 16) {
    normalizeLanes(xRow + j, yRow + j, v128.load(centres + j), v128.load(scales + j), v128.load(offsets + j));
  }
  const tailBytes = (partialFloats & 3) << 2;
  if (tailBytes) {
    const slot = tailIn(0, xRow + body, tailBytes);
    normalizeLanes(slot, slot, v128.load(centres + body), v128.load(scales + body), v128.load(offsets + body));
    tailOut(0, yRow + body, tailBytes);
  }
}

/**
 * NCHW backward reduction: sumDy[c] = Σdy, sumDyCentred[c] = Σdy·(x − mean[c]) (f64, overwritten).
 * With dx ≠ 0 (eval mode) also writes dx = dy·γ·invStd in the same pass.
 */
export function batchNormBackwardReduceNchw(
  dy: usize, x: usize, batch: i32, channels: i32, spatial: i32, mean: usize,
  sumDy: usize, sumDyCentred: usize, invStd: usize, gamma: usize, dx: usize,
): void {
  memory.fill(sumDy, 0, <usize>channels << 3);
  memory.fill(sumDyCentred, 0, <usize>channels << 3);
  const runBytes = <usize>spatial << 2;
  let run: usize = 0;
  for (let n = 0; n < batch; n++) {
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

/** NHWC backward reduction (as batchNormBackwardReduceNchw, across channels). */
export function batchNormBackwardReduceNhwc(
  dy: usize, x: usize, rows: i32, channels: i32, mean: usize,
  sumDy: usize, sumDyCentred: usize, invStd: usize, gamma: usize, dx: usize, work: usize,
): void {
  const positions = superRowFloats(channels);
  const superBytes = <usize>positions << 2;
  const accDy = work;
  const accDyCentred = accDy + superBytes;
  const means = accDyCentred + superBytes;
  const dxScales = means + superBytes;
  expandChannels(mean, means, channels, positions);
  if (dx) {
    for (let c = 0; c < channels; c++) {
      const at = <usize>c << 2;
      store<f32>(accDy + at, (gamma ? load<f32>(gamma + at) : <f32>1) * load<f32>(invStd + at));
    }
    expandChannels(accDy, dxScales, channels, positions);
  }
  memory.fill(sumDy, 0, <usize>channels << 3);
  memory.fill(sumDyCentred, 0, <usize>channels << 3);
  const total = <usize>rows * <usize>channels;
  const superRows = <i32>(total / <usize>positions);
  const partialFloats = <i32>(total - <usize>superRows * <usize>positions);
  const chunkSuperRows = max(MIN_SUPER_ROWS, CHUNK_FLOATS / positions);
  let superRow = 0;
  do {
    const count = min(chunkSuperRows, superRows - superRow);
    const last = superRow + count == superRows;
    memory.fill(accDy, 0, superBytes << 1);
    let offset: usize = <usize>superRow * superBytes;
    let i = 0;
    for (; i + 4 <= count; i += 4) {
      for (let j: usize = 0; j < superBytes; j += 16) {
        const m = v128.load(means + j);
        const at0 = offset + j;
        const at1 = at0 + superBytes;
        const at2 = at1 + superBytes;
        const at3 = at2 + superBytes;
        const g0 = v128.load(dy + at0);
        const g1 = v128.load(dy + at1);
        const g2 = v128.load(dy + at2);
        const g3 = v128.load(dy + at3);
        const d0 = f32x4.sub(v128.load(x + at0), m);
        const d1 = f32x4.sub(v128.load(x + at1), m);
        const d2 = f32x4.sub(v128.load(x + at2), m);
        const d3 = f32x4.sub(v128.load(x + at3), m);
        v128.store(accDy + j, f32x4.add(v128.load(accDy + j), f32x4.add(f32x4.add(g0, g1), f32x4.add(g2, g3))));
        const products = f32x4.add(madd(g0, d0, f32x4.mul(g1, d1)), madd(g2, d2, f32x4.mul(g3, d3)));
        v128.store(accDyCentred + j, f32x4.add(v128.load(accDyCentred + j), products));
        if (dx) {
          const p = v128.load(dxScales + j);
          v128.store(dx + at0, f32x4.mul(g0, p));
          v128.store(dx + at1, f32x4.mul(g1, p));
          v128.store(dx + at2, f32x4.mul(g2, p));
          v128.store(dx + at3, f32x4.mul(g3, p));
        }
      }
      offset += superBytes << 2;
    }
    for (; i < count; i++) {
      for (let j: usize = 0; j < superBytes; j += 16) {
        const g = v128.load(dy + offset);
        const d = f32x4.sub(v128.load(x + offset), v128.load(means + j));
        v128.store(accDy + j, f32x4.add(v128.load(accDy + j), g));
        v128.store(accDyCentred + j, madd(g, d, v128.load(accDyCentred + j)));
        if (dx) v128.store(dx + offset, f32x4.mul(g, v128.load(dxScales + j)));
        offset += 16;
      }
    }
    if (last && partialFloats) {
      const body = <usize>(partialFloats & ~3) << 2;
      const end = <usize>partialFloats << 2;
      let j: usize = 0;
      for (; j < body; j += 16) {
        const g = v128.load(dy + offset);
        const d = f32x4.sub(v128.load(x + offset), v128.load(means + j));
        v128.store(accDy + j, f32x4.add(v128.load(accDy + j), g));
        v128.store(accDyCentred + j, madd(g, d, v128.load(accDyCentred + j)));
        if (dx) v128.store(dx + offset, f32x4.mul(g, v128.load(dxScales + j)));
        offset += 16;
      }
      for (; j < end; j += 4) {
        const g = load<f32>(dy + offset);
        store<f32>(accDy + j, load<f32>(accDy + j) + g);
        store<f32>(accDyCentred + j, load<f32>(accDyCentred + j) + g * (load<f32>(x + offset) - load<f32>(means + j)));
        if (dx) store<f32>(dx + offset, g * load<f32>(dxScales + j));
        offset += 4;
      }
    }
    foldPositions(accDy, sumDy, channels, positions);
    foldPositions(accDyCentred, sumDyCentred, channels, positions);
    superRow += count;
  } while (superRow < superRows);
}

/**
 * From the backward sums of `count` values per channel: dgamma = invStd·Σdy(x−mean) and
 * dbeta = Σdy (written, or added when `accumulate`; either pointer may be 0), and the dx
 * coefficients p, q, r of the header (p ≠ 0 pointer; training: the full formula; eval: q = r = 0).
 */
export function batchNormBackwardCoefficients(
  sumDy: usize, sumDyCentred: usize, channels: i32, count: f64, invStd: usize, gamma: usize,
  training: bool, dgamma: usize, dbeta: usize, accumulate: bool,
  coefDy: usize, coefCentred: usize, coefConst: usize,
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
      store<f32>(coefCentred + at, training ? <f32>(-p * inv * inv * (sdx / count)) : <f32>0);
      store<f32>(coefConst + at, training ? <f32>(-p * (sdy / count)) : <f32>0);
    }
  }
}

// @ts-ignore: decorator
@inline function dxLanes(dy: usize, x: usize, dx: usize, mean: v128, p: v128, q: v128, r: v128): void {
  v128.store(dx, madd(f32x4.sub(v128.load(x), mean), q, madd(v128.load(dy), p, r)));
}

/** NCHW: dx = dy·p[c] + (x − mean[c])·q[c] + r[c]. dx may be dy. */
export function batchNormBackwardDxNchw(
  dy: usize, x: usize, dx: usize, batch: i32, channels: i32, spatial: i32,
  mean: usize, coefDy: usize, coefCentred: usize, coefConst: usize,
): void {
  const runBytes = <usize>spatial << 2;
  const unrolledEnd = <usize>(spatial & ~7) << 2;
  const body = <usize>(spatial & ~3) << 2;
  const tailBytes = <usize>(spatial & 3) << 2;
  let run: usize = 0;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const at = <usize>c << 2;
      const mv = v128.load32_splat(mean + at);
      const pv = v128.load32_splat(coefDy + at);
      const qv = v128.load32_splat(coefCentred + at);
      const rv = v128.load32_splat(coefConst + at);
      const dyRun = dy + run;
      const xRun = x + run;
      const dxRun = dx + run;
      let i: usize = 0;
      for (; i < unrolledEnd; i += 32) {
        dxLanes(dyRun + i, xRun + i, dxRun + i, mv, pv, qv, rv);
        dxLanes(dyRun + i + 16, xRun + i + 16, dxRun + i + 16, mv, pv, qv, rv);
      }
      for (; i < body; i += 16) dxLanes(dyRun + i, xRun + i, dxRun + i, mv, pv, qv, rv);
      if (tailBytes) {
        const dySlot = tailIn(0, dyRun + body, tailBytes);
        dxLanes(dySlot, tailIn(1, xRun + body, tailBytes), dySlot, mv, pv, qv, rv);
        tailOut(0, dxRun + body, tailBytes);
      }
      run += runBytes;
    }
  }
}

/** NHWC: dx = dy·p[c] + (x − mean[c])·q[c] + r[c] across channels. dx may be dy. */
export function batchNormBackwardDxNhwc(
  dy: usize, x: usize, dx: usize, rows: i32, channels: i32,
  mean: usize, coefDy: usize, coefCentred: usize, coefConst: usize, work: usize,
): void {
  const positions = superRowFloats(channels);
  const superBytes = <usize>positions << 2;
  const means = work;
  const ps = means + superBytes;
  const qs = ps + superBytes;
  const rs = qs + superBytes;
  expandChannels(mean, means, channels, positions);
  expandChannels(coefDy, ps, channels, positions);
  expandChannels(coefCentred, qs, channels, positions);
  expandChannels(coefConst, rs, channels, positions);
  const total = <usize>rows * <usize>channels;
  const superRows = total / <usize>positions;
  let offset: usize = 0;
  let i: usize = 0;
  // Four super rows per load of the coefficients.
  for (; i + 4 <= superRows; i += 4) {
    for (let j: usize = 0; j < superBytes; j += 16) {
      const mv = v128.load(means + j);
      const pv = v128.load(ps + j);
      const qv = v128.load(qs + j);
      const rv = v128.load(rs + j);
      for (let row: usize = 0; row < 4; row++) {
        const at = offset + row * superBytes + j;
        dxLanes(dy + at, x + at, dx + at, mv, pv, qv, rv);
      }
    }
    offset += superBytes << 2;
  }
  for (; i < superRows; i++) {
    for (let j: usize = 0; j < superBytes; j += 16) {
      dxLanes(dy + offset, x + offset, dx + offset,
        v128.load(means + j), v128.load(ps + j), v128.load(qs + j), v128.load(rs + j));
      offset += 16;
    }
  }
  const partialFloats = total - superRows * <usize>positions;
  const body = (partialFloats & ~3) << 2;
  for (let j: usize = 0; j < body; j += 16) {
    dxLanes(dy + offset, x + offset, dx + offset,
      v128.load(means + j), v128.load(ps + j), v128.load(qs + j), v128.load(rs + j));
    offset += 16;
  }
  const tailBytes = (partialFloats & 3) << 2;
  if (tailBytes) {
    const dySlot = tailIn(0, dy + offset, tailBytes);
    dxLanes(dySlot, tailIn(1, x + offset, tailBytes), dySlot,
      v128.load(means + body), v128.load(ps + body), v128.load(qs + body), v128.load(rs + body));
    tailOut(0, dx + offset, tailBytes);
  }
}
