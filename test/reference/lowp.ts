// Float64 references of reduced-precision optimizer state: bfloat16 rounding, bitsandbytes'
// dynamic code maps, blockwise quantisation to the nearest code, and Adam/Lion steps whose moments
// are stored that way. Written from the definitions (no bit tricks), with deliberately wrong
// variants that the tests must tell apart from the kernels.

/** Deliberate mistakes the reference can make (each must fail the agreement checks). */
export type LowpMistake = "truncate" | "block128" | "linearMap" | "swappedMaps";

/** x rounded to bfloat16 (8 significant bits) to nearest, ties to even; or truncated toward zero. */
export function bf16Round(x: number, mistake?: LowpMistake): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  const a = Math.abs(f);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (Math.max(e, -126) - 7);
  const q = a / ulp; // exact: a has at most 24 significant bits
  let r = Math.floor(q);
  const fraction = q - r;
  if (mistake !== "truncate" && (fraction > 0.5 || (fraction === 0.5 && r % 2 === 1))) r++;
  const value = r * ulp;
  return Math.sign(f) * (value >= 2 ** 128 ? Infinity : value);
}

/** The bfloat16 bit pattern of a value that is exactly a bfloat16 (NaN: the quiet NaN of its sign). */
export function bf16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7fc0;
  const bits = new Uint32Array(Float32Array.of(value).buffer)[0]!;
  return bits >>> 16;
}

/** The value of a bfloat16 bit pattern. */
export function bf16Value(bits: number): number {
  return new Float32Array(Uint32Array.of(bits << 16).buffer)[0]!;
}

/**
 * bitsandbytes' create_dynamic_map(signed, max_exponent_bits = 7, total_bits = 8): for exponent
 * i = 0…6 the means of linspace(0.1, 1, K + 1) times 10^(i−6), K = 2^i (signed, both signs) or
 * 2^(i+1); then 0 and 1; sorted. Values rounded to float32 once. "linearMap": 256 evenly spaced codes.
 */
export function dynamicMap(signed: boolean, mistake?: LowpMistake): Float64Array {
  if (mistake === "linearMap") return Float64Array.from({ length: 256 }, (_, i) => Math.fround(signed ? -1 + (2 * i) / 255 : i / 255));
  const data: number[] = [];
  for (let i = 0; i < 7; i++) {
    const k = signed ? 2 ** i : 2 ** (i + 1);
    let d = 1;
    for (let e = i; e < 6; e++) d /= 10;
    for (let j = 0; j < k; j++) {
      const mean = d * (0.1 + (j + 0.5) * (0.9 / k));
      data.push(Math.fround(mean));
      if (signed) data.push(-Math.fround(mean));
    }
  }
  data.push(0, 1);
  return Float64Array.from(data.sort((a, b) => a - b));
}

export interface Quantized { codes: Uint8Array; absmax: Float32Array }

/**
 * Blockwise quantisation: per block the absmax (float32), then each value's nearest code of
 * value·(1/absmax) (the reciprocal in float32, as the kernel; ties to the larger magnitude).
 */
export function quantizeBlockwise(values: ArrayLike<number>, signed: boolean, mistake?: LowpMistake): Quantized {
  const block = mistake === "block128" ? 128 : 256;
  const map = dynamicMap(mistake === "swappedMaps" ? !signed : signed, mistake);
  const n = values.length;
  const codes = new Uint8Array(n);
  const absmax = new Float32Array(Math.ceil(n / block));
  for (let b = 0; b * block < n; b++) {
    let peak = 0;
    for (let i = b * block; i < Math.min(n, (b + 1) * block); i++) peak = Math.max(peak, Math.abs(Math.fround(values[i]!)));
    absmax[b] = peak;
    const inverse = peak > 0 ? Math.fround(1 / peak) : 0;
    for (let i = b * block; i < Math.min(n, (b + 1) * block); i++) {
      const x = Math.fround(values[i]!);
      const y = Math.sign(x) * Math.fround(Math.abs(x) * inverse);
      let best = 0;
      for (let c = 1; c < 256; c++) {
        const d = Math.abs(map[c]! - y);
        const bestD = Math.abs(map[best]! - y);
        if (d < bestD || (d === bestD && Math.abs(map[c]!) > Math.abs(map[best]!))) best = c;
      }
      codes[i] = best;
    }
  }
  return { codes, absmax };
}

/** code value × absmax in float32, as stored. */
export function dequantizeBlockwise(q: Quantized, signed: boolean, mistake?: LowpMistake): Float64Array {
  const block = mistake === "block128" ? 128 : 256;
  const map = dynamicMap(mistake === "swappedMaps" ? !signed : signed, mistake);
  return Float64Array.from(q.codes, (code, i) => Math.fround(map[code]! * q.absmax[Math.floor(i / block)]!));
}

export type Dtype = "bfloat16" | "int8";

/** A moment stored in `dtype`: its stored form and the values the next step reads. */
export interface StoredMoment { values: Float64Array; bits?: Uint16Array; q?: Quantized }

/** Stores `values` (float64) in `dtype` the reference way. */
export function store(values: Float64Array, dtype: Dtype, signed: boolean, mistake?: LowpMistake): StoredMoment {
  if (dtype === "bfloat16") {
    const rounded = Float64Array.from(values, (x) => bf16Round(x, mistake));
    return { values: rounded, bits: Uint16Array.from(rounded, bf16Bits) };
  }
  const q = quantizeBlockwise(values, signed, mistake);
  return { values: dequantizeBlockwise(q, signed, mistake), q };
}

export interface AdamLowpOptions { lr: number; betas: [number, number]; eps: number; weightDecay: number; decoupled: boolean; maximize: boolean }

/**
 * One Adam/AdamW step from given parameters and stored moments (as read back: float64 copies of
 * the float32 values), computed in float64; returns the new parameters and the moments as the
 * reference stores them. The update uses the moments before they are stored, as the kernel does.
 */
export function adamLowpStep(
  param: ArrayLike<number>, grad: ArrayLike<number>, m0: ArrayLike<number>, v0: ArrayLike<number>, step: number,
  o: AdamLowpOptions, dtype: Dtype, mistake?: LowpMistake,
): { param: Float64Array; m: StoredMoment; v: StoredMoment } {
  const n = param.length;
  const p = Float64Array.from(param);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  const [beta1, beta2] = o.betas;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  for (let i = 0; i < n; i++) {
    let g = o.maximize ? -grad[i]! : grad[i]!;
    if (!o.decoupled) g += o.weightDecay * p[i]!;
    else p[i] = p[i]! * (1 - o.lr * o.weightDecay);
    m[i] = beta1 * m0[i]! + (1 - beta1) * g;
    v[i] = beta2 * v0[i]! + (1 - beta2) * g * g;
    p[i] = p[i]! - (o.lr / bc1) * m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + o.eps);
  }
  return { param: p, m: store(m, dtype, true, mistake), v: store(v, dtype, false, mistake) };
}

export interface LionLowpOptions { lr: number; betas: [number, number]; weightDecay: number; maximize: boolean }

/** One Lion step in float64 from given parameters and stored momentum; as adamLowpStep. */
export function lionLowpStep(
  param: ArrayLike<number>, grad: ArrayLike<number>, m0: ArrayLike<number>, o: LionLowpOptions, dtype: Dtype, mistake?: LowpMistake,
): { param: Float64Array; m: StoredMoment } {
  const p = Float64Array.from(param);
  const m = new Float64Array(p.length);
  const [beta1, beta2] = o.betas;
  for (let i = 0; i < p.length; i++) {
    const g = o.maximize ? -grad[i]! : grad[i]!;
    const direction = beta1 * m0[i]! + (1 - beta1) * g;
    p[i] = p[i]! * (1 - o.lr * o.weightDecay) - o.lr * Math.sign(direction);
    m[i] = beta2 * m0[i]! + (1 - beta2) * g;
  }
  return { param: p, m: store(m, dtype, true, mistake) };
}
