// References of Adam, AdamW and Lion with reduced-precision state (stateDtype "bfloat16" or
// "int8") for generate-expected.mjs, in the same form as its other optimizers:
// (options, length) → step(p, grad, t).
//
// Unlike the float64 references, these compute in float32 (Math.fround after every operation, in
// the kernels' order): a moment computed in float64 lands on the other side of a rounding or code
// boundary now and then, and one code's difference moves a parameter by far more than the suite's
// tolerance. Rounded this way the stored state, and so the parameters, agree exactly. The storage
// follows the definitions: bfloat16 is round to nearest even of the float32 value; int8 is the
// nearest code (ties to the larger magnitude) of bitsandbytes' dynamic map, per block of 256 by the
// block's absmax, with value·fround(1/absmax) as in 8-bit Adam's kernels.

const f = Math.fround;
const BLOCK = 256;

/** bitsandbytes' create_dynamic_map(signed): see test/reference/lowp.ts. */
function dynamicMap(signed) {
  const data = [0, 1];
  for (let i = 0; i < 7; i++) {
    const k = signed ? 2 ** i : 2 ** (i + 1);
    let d = 1;
    for (let e = i; e < 6; e++) d /= 10;
    for (let j = 0; j < k; j++) {
      const mean = f(d * (0.1 + (j + 0.5) * (0.9 / k)));
      data.push(mean);
      if (signed) data.push(-mean);
    }
  }
  return data.sort((a, b) => a - b);
}
const MAPS = { true: dynamicMap(true), false: dynamicMap(false) };

/** The bfloat16 value nearest a float32 value x (ties to even); overflow to ±∞. */
function bf16(x) {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (Math.max(e, -126) - 7);
  const q = a / ulp;
  let r = Math.floor(q);
  if (q - r > 0.5 || (q - r === 0.5 && r % 2 === 1)) r++;
  return Math.sign(x) * (r * ulp >= 2 ** 128 ? Infinity : r * ulp);
}

/** The values an int8-stored moment reads back as: per block, nearest codes times the absmax. */
function int8(values, signed) {
  const map = MAPS[signed];
  const out = new Float64Array(values.length);
  for (let start = 0; start < values.length; start += BLOCK) {
    const end = Math.min(values.length, start + BLOCK);
    let absmax = 0;
    for (let i = start; i < end; i++) absmax = Math.max(absmax, Math.abs(values[i]));
    const inverse = absmax > 0 ? f(1 / absmax) : 0;
    for (let i = start; i < end; i++) {
      const y = Math.sign(values[i]) * f(Math.abs(values[i]) * inverse);
      let best = 0;
      for (let c = 1; c < 256; c++) {
        const d = Math.abs(map[c] - y);
        const bestD = Math.abs(map[best] - y);
        if (d < bestD || (d === bestD && Math.abs(map[c]) > Math.abs(map[best]))) best = c;
      }
      out[i] = f(map[best] * absmax);
    }
  }
  return out;
}

/** Stores float32 `values` in `dtype`; returns what the next step reads. */
function stored(values, dtype, signed) {
  return dtype === "bfloat16" ? values.map(bf16) : int8(values, signed);
}

function adam(o, n, decoupled) {
  const [beta1, beta2] = o.betas;
  const [b1, c1, b2, c2] = [f(beta1), f(1 - beta1), f(beta2), f(1 - beta2)];
  const eps = f(o.eps);
  const scale = f(decoupled ? 1 - o.lr * o.weightDecay : 1);
  const l2 = f(decoupled ? 0 : o.weightDecay);
  let m = new Float64Array(n);
  let v = new Float64Array(n);
  return (p, grad, t) => {
    const stepSize = f(o.lr / (1 - beta1 ** t));
    const correction = f(1 / Math.sqrt(1 - beta2 ** t));
    const mNew = new Float64Array(n);
    const vNew = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let g = f(o.maximize ? -grad[i] : grad[i]);
      if (l2 !== 0) g = f(g + f(l2 * p[i]));
      mNew[i] = f(f(b1 * m[i]) + f(c1 * g));
      vNew[i] = f(f(b2 * v[i]) + f(c2 * f(g * g)));
      const denominator = f(f(f(Math.sqrt(vNew[i])) * correction) + eps);
      p[i] = f(f(p[i] * scale) - f(stepSize * f(mNew[i] / denominator)));
    }
    m = stored(mNew, o.stateDtype, true);
    v = stored(vNew, o.stateDtype, false);
  };
}

export const LOWP_OPTIMIZERS = {
  Adam: (o, n) => adam(o, n, false),
  AdamW: (o, n) => adam(o, n, true),
  Lion(o, n) {
    const [beta1, beta2] = o.betas;
    const [b1, c1, b2, c2] = [f(beta1), f(1 - beta1), f(beta2), f(1 - beta2)];
    const scale = f(1 - o.lr * o.weightDecay);
    const lr = f(o.lr);
    let m = new Float64Array(n);
    return (p, grad) => {
      const mNew = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const g = f(o.maximize ? -grad[i] : grad[i]);
        const direction = f(f(b1 * m[i]) + f(c1 * g));
        // sign(±0) is +0 in the kernel.
        p[i] = f(f(p[i] * scale) - f(lr * (direction === 0 ? 0 : Math.sign(direction))));
        mNew[i] = f(f(b2 * m[i]) + f(c2 * g));
      }
      m = stored(mNew, o.stateDtype, true);
    };
  },
};
