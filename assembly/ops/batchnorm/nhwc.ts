import { madd } from "../../simd";
import { tailIn, tailOut } from "../../tail";
import {
  CHUNK_FLOATS, MIN_SUPER_ROWS, superRowFloats, expandChannels, foldPositions, normalizeLanes, dxLanes,
} from "./common";
import { mergeMoments } from "./moments";

// Batch norm over NHWC ([rows][channels]), walked in super rows (see common.ts).

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

/** Per-channel f64 mean and M2 of `rows` rows from `base` (two passes; the overflow path). */
function chunkMomentsWide(base: usize, rows: i32, channels: i32, means: usize, m2s: usize): void {
  const channelBytes = <usize>channels << 3;
  memory.fill(means, 0, channelBytes);
  memory.fill(m2s, 0, channelBytes);
  let at = base;
  for (let r = 0; r < rows; r++) {
    for (let c: usize = 0; c < channelBytes; c += 8) {
      store<f64>(means + c, load<f64>(means + c) + <f64>load<f32>(at));
      at += 4;
    }
  }
  for (let c: usize = 0; c < channelBytes; c += 8) store<f64>(means + c, load<f64>(means + c) / <f64>rows);
  at = base;
  for (let r = 0; r < rows; r++) {
    for (let c: usize = 0; c < channelBytes; c += 8) {
      const d = <f64>load<f32>(at) - load<f64>(means + c);
      store<f64>(m2s + c, load<f64>(m2s + c) + d * d);
      at += 4;
    }
  }
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
    let finite = true;
    for (let c = 0; c < channels; c++) {
      const at = <usize>c << 3;
      finite = finite && isFinite(load<f64>(foldD + at)) && isFinite(load<f64>(foldD2 + at));
    }
    if (finite) {
      for (let c = 0; c < channels; c++) {
        const at = <usize>c << 3;
        const sd = load<f64>(foldD + at);
        const pieceMean = load<f64>(foldX + at) + sd / chunkRows;
        const pieceM2 = max(load<f64>(foldD2 + at) - sd * (sd / chunkRows), 0);
        mergeMoments(channelMean + at, channelM2 + at, rowsDone, chunkRows, pieceMean, pieceM2);
      }
    } else {
      // f32 lanes overflowed (see pieceMoments in nchw.ts): this chunk's moments again, in f64.
      chunkMomentsWide(base, <i32>chunkRows, channels, foldD, foldD2);
      for (let c = 0; c < channels; c++) {
        const at = <usize>c << 3;
        mergeMoments(channelMean + at, channelM2 + at, rowsDone, chunkRows, load<f64>(foldD + at), load<f64>(foldD2 + at));
      }
    }
    rowsDone += chunkRows;
    superRow += count;
  } while (superRow < superRows);
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

/** NHWC: dx = dy·p[c] + (x − mean[c])·s[c]·q[c] + r[c] across channels. dx may be dy. */
export function batchNormBackwardDxNhwc(
  dy: usize, x: usize, dx: usize, rows: i32, channels: i32,
  mean: usize, coefDy: usize, coefCentred: usize, coefConst: usize, coefScale: usize, work: usize,
): void {
  const positions = superRowFloats(channels);
  const superBytes = <usize>positions << 2;
  const means = work;
  const ps = means + superBytes;
  const qs = ps + superBytes;
  const rs = qs + superBytes;
  const ss = rs + superBytes;
  expandChannels(mean, means, channels, positions);
  expandChannels(coefDy, ps, channels, positions);
  expandChannels(coefCentred, qs, channels, positions);
  expandChannels(coefConst, rs, channels, positions);
  expandChannels(coefScale, ss, channels, positions);
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
      const sv = v128.load(ss + j);
      for (let row: usize = 0; row < 4; row++) {
        const at = offset + row * superBytes + j;
        dxLanes(dy + at, x + at, dx + at, mv, pv, qv, rv, sv);
      }
    }
    offset += superBytes << 2;
  }
  for (; i < superRows; i++) {
    for (let j: usize = 0; j < superBytes; j += 16) {
      dxLanes(dy + offset, x + offset, dx + offset,
        v128.load(means + j), v128.load(ps + j), v128.load(qs + j), v128.load(rs + j), v128.load(ss + j));
      offset += 16;
    }
  }
  const partialFloats = total - superRows * <usize>positions;
  const body = (partialFloats & ~3) << 2;
  for (let j: usize = 0; j < body; j += 16) {
    dxLanes(dy + offset, x + offset, dx + offset,
      v128.load(means + j), v128.load(ps + j), v128.load(qs + j), v128.load(rs + j), v128.load(ss + j));
    offset += 16;
  }
  const tailBytes = (partialFloats & 3) << 2;
  if (tailBytes) {
    const dySlot = tailIn(0, dy + offset, tailBytes);
    dxLanes(dySlot, tailIn(1, x + offset, tailBytes), dySlot,
      v128.load(means + body), v128.load(ps + body), v128.load(qs + body), v128.load(rs + body), v128.load(ss + body));
    tailOut(0, dx + offset, tailBytes);
  }
}
