import { madd } from "../../simd";

// Batch normalisation (torch.nn.functional.batch_norm), forward and backward, per layout: the
// geometry and helpers shared by nchw.ts and nhwc.ts; moments.ts holds the per-channel f64 math.
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
// Magnitudes. Past |x − centre| ≈ 1.8e19 the f32 squares overflow (and a first-pass sum of huge
// values can too), which would leave M2 infinite and y all zeros. Each piece/chunk checks its
// sums once; a non-finite one is recomputed in f64 (two passes over data still in cache), so
// inputs up to f32's range normalise as in PyTorch at no cost to ordinary data.
//
// Forward then needs one more pass: y = (x − mean)·scale + offset with scale = γ·invStd and
// offset = β − (mean64 − mean32)·scale. Subtracting the f32 mean first is exact for x near it
// (Sterbenz), and the f32 rounding of the mean is folded into the offset, so large means do not
// cost precision in y.
//
// Backward (training): one reduction pass over dy, x for Σdy and Σdy·(x − mean), then one pass
//   dx = dy·p + (x − mean)·s·q + r,  p = γ·invStd,  s·q = −p·invStd²·Σdy(x−mean)/n,  r = −p·Σdy/n,
// the full derivative through the batch mean and variance. s is a power of two, 1 unless s·q
// would be subnormal in float32 — invStd³ underflows for |x| ≳ 1e19 — when it takes about
// half of the exponent so that (x − mean)·s and q are both normal (×1 changes no bit). In eval mode the statistics are
// constants (dx = dy·p) and dx is written during the reduction pass: one pass in all.

/** Longest stretch of an NCHW run accumulated in f32 lanes before it is merged in f64. */
export const RUN_PIECE: i32 = 2048;
/**
 * NHWC chunk size aimed at (floats; bounds the f32 accumulation per lane) and the least number
 * of super rows per chunk (wide C: keeps the per-chunk fold/merge, O(P), small beside the data).
 */
export const CHUNK_FLOATS: i32 = 4096;
export const MIN_SUPER_ROWS: i32 = 128;

/** Floats in one super row: lcm(C, 4). */
// @ts-ignore: decorator
@inline export function superRowFloats(channels: i32): i32 {
  if ((channels & 3) == 0) return channels;
  if ((channels & 1) == 0) return channels << 1;
  return channels << 2;
}

/**
 * Scratch (floats, 16-byte aligned pointer) the NHWC kernels need for `channels`: four
 * position arrays of P floats and three f64 channel arrays.
 */
export function batchNormWorkFloats(channels: i32): i32 {
  return 5 * superRowFloats(channels) + 6 * channels + 4;
}

// @ts-ignore: decorator
@inline export function laneSum(v: v128): f64 {
  return (<f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1)) +
    (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
}

/** dst[k] = src[k mod C] for k < P (f32 source). */
export function expandChannels(source: usize, destination: usize, channels: i32, positions: i32): void {
  let c = 0;
  for (let k = 0; k < positions; k++) {
    store<f32>(destination + (<usize>k << 2), load<f32>(source + (<usize>c << 2)));
    if (++c == channels) c = 0;
  }
}

/** channel[c] (f64) += Σ over positions k ≡ c (mod C) of positionSums[k] (f32). */
export function foldPositions(positionSums: usize, channelSums: usize, channels: i32, positions: i32): void {
  let c = 0;
  for (let k = 0; k < positions; k++) {
    const at = channelSums + (<usize>c << 3);
    store<f64>(at, load<f64>(at) + <f64>load<f32>(positionSums + (<usize>k << 2)));
    if (++c == channels) c = 0;
  }
}

// @ts-ignore: decorator
@inline export function normalizeLanes(source: usize, destination: usize, centre: v128, scale: v128, offset: v128): void {
  v128.store(destination, madd(f32x4.sub(v128.load(source), centre), scale, offset));
}

// @ts-ignore: decorator
@inline export function dxLanes(dy: usize, x: usize, dx: usize, mean: v128, p: v128, q: v128, r: v128, s: v128): void {
  v128.store(dx, madd(f32x4.mul(f32x4.sub(v128.load(x), mean), s), q, madd(v128.load(dy), p, r)));
}

