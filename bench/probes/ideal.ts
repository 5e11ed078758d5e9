// "Same-math ideal" probes: each optimizer's default configuration written out by hand as one
// straight loop (no driver, no flags, no sign mask), constants splatted into a scratch and loaded
// back before the loop, two vectors per iteration (Adam's in two stages, as the library does). Same signatures as the library's kernels; the
// option arguments that select other configurations are ignored. Lengths must be multiples of 8.
// The bench compares each library kernel with its probe: ~1.0× means the driver costs nothing.

const SCRATCH: usize = memory.data(16 * 12, 16);

// @ts-ignore: decorator
@inline function put(slot: i32, value: f32): void { v128.store(SCRATCH + (<usize>slot << 4), f32x4.splat(value)); }
// @ts-ignore: decorator
@inline function get(slot: i32): v128 { return v128.load(SCRATCH + (<usize>slot << 4)); }
// @ts-ignore: decorator
@inline function ema(a: v128, x: v128, d: v128, e: v128): v128 { return f32x4.add(f32x4.mul(d, a), f32x4.mul(e, x)); }

/** SGD with momentum (not the first step), no nesterov, no weight decay. */
export function sgdIdeal(param: usize, grad: usize, buf: usize, length: i32,
  lr: f32, momentum: f32, dampening: f64, weightDecay: f32, maximize: bool, nesterov: bool, firstStep: bool): void {
  put(0, lr); put(1, momentum); put(2, <f32>(1 - dampening));
  const lrV = get(0), mom = get(1), omd = get(2);
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 32) {
    for (let j: usize = 0; j < 32; j += 16) {
      const b = f32x4.add(f32x4.mul(mom, v128.load(buf + i + j)), f32x4.mul(omd, v128.load(grad + i + j)));
      v128.store(buf + i + j, b);
      v128.store(param + i + j, f32x4.sub(v128.load(param + i + j), f32x4.mul(lrV, b)));
    }
  }
}

// Adam in two stages per vector (moments and denominator; then division and p), both vectors
// first stages before either second stage: the structure that keeps the divide unit busy.
// @ts-ignore: decorator
@inline function adamFront(g: usize, m: usize, v: usize, next: bool,
  b1: v128, omb1: v128, b2: v128, omb2: v128, ibc: v128, eps: v128): v128 {
  const gv = next ? v128.load(g, 16) : v128.load(g);
  const mv = ema(next ? v128.load(m, 16) : v128.load(m), gv, b1, omb1);
  const vv = ema(next ? v128.load(v, 16) : v128.load(v), f32x4.mul(gv, gv), b2, omb2);
  if (next) {
    v128.store(m, mv, 16);
    v128.store(v, vv, 16);
  } else {
    v128.store(m, mv);
    v128.store(v, vv);
  }
  return f32x4.add(f32x4.mul(f32x4.sqrt(vv), ibc), eps);
}

// @ts-ignore: decorator
@inline function adamBack(p: usize, m: usize, next: bool, denom: v128, step: v128, scale: v128, decoupledDecay: bool): void {
  let pv = next ? v128.load(p, 16) : v128.load(p);
  if (decoupledDecay) pv = f32x4.mul(pv, scale);
  const r = f32x4.sub(pv, f32x4.mul(step, f32x4.div(next ? v128.load(m, 16) : v128.load(m), denom)));
  if (next) v128.store(p, r, 16);
  else v128.store(p, r);
}

/** Adam (no weight decay, no amsgrad); AdamW's decoupled decay when paramScale ≠ 1. */
export function adamIdeal(param: usize, grad: usize, m: usize, v: usize, vMax: usize, length: i32,
  beta1: f64, beta2: f64, eps: f32, l2WeightDecay: f32, paramScale: f32,
  stepSize: f32, invBc2: f32, maximize: bool): void {
  put(0, <f32>beta1); put(1, <f32>(1 - beta1)); put(2, <f32>beta2); put(3, <f32>(1 - beta2));
  put(4, stepSize); put(5, invBc2); put(6, eps); put(7, paramScale);
  const b1 = get(0), omb1 = get(1), b2 = get(2), omb2 = get(3), step = get(4), ibc = get(5), e = get(6), s = get(7);
  const end = <usize>length << 2;
  if (paramScale != 1) {
    for (let i: usize = 0; i < end; i += 32) {
      const d0 = adamFront(grad + i, m + i, v + i, false, b1, omb1, b2, omb2, ibc, e);
      const d1 = adamFront(grad + i, m + i, v + i, true, b1, omb1, b2, omb2, ibc, e);
      adamBack(param + i, m + i, false, d0, step, s, true);
      adamBack(param + i, m + i, true, d1, step, s, true);
    }
  } else {
    for (let i: usize = 0; i < end; i += 32) {
      const d0 = adamFront(grad + i, m + i, v + i, false, b1, omb1, b2, omb2, ibc, e);
      const d1 = adamFront(grad + i, m + i, v + i, true, b1, omb1, b2, omb2, ibc, e);
      adamBack(param + i, m + i, false, d0, step, s, false);
      adamBack(param + i, m + i, true, d1, step, s, false);
    }
  }
}

/** Adagrad without weight decay. */
export function adagradIdeal(param: usize, grad: usize, sum: usize, length: i32,
  clr: f32, eps: f32, weightDecay: f32, maximize: bool): void {
  put(0, clr); put(1, eps);
  const c = get(0), e = get(1);
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 32) {
    for (let j: usize = 0; j < 32; j += 16) {
      const g = v128.load(grad + i + j);
      const s = f32x4.add(v128.load(sum + i + j), f32x4.mul(g, g));
      v128.store(sum + i + j, s);
      v128.store(param + i + j, f32x4.sub(v128.load(param + i + j), f32x4.mul(c, f32x4.div(g, f32x4.add(f32x4.sqrt(s), e)))));
    }
  }
}

/** RMSprop; centered with momentum when gradAvg and momentumBuffer are given, else plain. */
export function rmspropIdeal(param: usize, grad: usize, squareAvg: usize, gradAvg: usize, buf: usize, length: i32,
  lr: f32, alpha: f64, eps: f32, weightDecay: f32, momentum: f32, maximize: bool): void {
  put(0, lr); put(1, <f32>alpha); put(2, <f32>(1 - alpha)); put(3, eps); put(4, momentum);
  const l = get(0), a = get(1), oma = get(2), e = get(3), mom = get(4);
  const end = <usize>length << 2;
  if (gradAvg != 0) {
    for (let i: usize = 0; i < end; i += 32) {
      for (let j: usize = 0; j < 32; j += 16) {
        const at = i + j;
        const g = v128.load(grad + at);
        const sq = ema(v128.load(squareAvg + at), f32x4.mul(g, g), a, oma);
        v128.store(squareAvg + at, sq);
        const mean = ema(v128.load(gradAvg + at), g, a, oma);
        v128.store(gradAvg + at, mean);
        const scaled = f32x4.div(g, f32x4.add(f32x4.sqrt(f32x4.sub(sq, f32x4.mul(mean, mean))), e));
        const b = f32x4.add(f32x4.mul(mom, v128.load(buf + at)), scaled);
        v128.store(buf + at, b);
        v128.store(param + at, f32x4.sub(v128.load(param + at), f32x4.mul(l, b)));
      }
    }
  } else {
    for (let i: usize = 0; i < end; i += 32) {
      for (let j: usize = 0; j < 32; j += 16) {
        const at = i + j;
        const g = v128.load(grad + at);
        const sq = ema(v128.load(squareAvg + at), f32x4.mul(g, g), a, oma);
        v128.store(squareAvg + at, sq);
        const scaled = f32x4.div(g, f32x4.add(f32x4.sqrt(sq), e));
        v128.store(param + at, f32x4.sub(v128.load(param + at), f32x4.mul(l, scaled)));
      }
    }
  }
}

/** Adadelta without weight decay. */
export function adadeltaIdeal(param: usize, grad: usize, squareAvg: usize, accDelta: usize, length: i32,
  lr: f32, rho: f64, eps: f32, weightDecay: f32, maximize: bool): void {
  put(0, lr); put(1, <f32>rho); put(2, <f32>(1 - rho)); put(3, eps);
  const l = get(0), r = get(1), omr = get(2), e = get(3);
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 32) {
    for (let j: usize = 0; j < 32; j += 16) {
      const at = i + j;
      const g = v128.load(grad + at);
      const sq = ema(v128.load(squareAvg + at), f32x4.mul(g, g), r, omr);
      v128.store(squareAvg + at, sq);
      const acc = v128.load(accDelta + at);
      const delta = f32x4.mul(f32x4.div(f32x4.sqrt(f32x4.add(acc, e)), f32x4.sqrt(f32x4.add(sq, e))), g);
      v128.store(accDelta + at, ema(acc, f32x4.mul(delta, delta), r, omr));
      v128.store(param + at, f32x4.sub(v128.load(param + at), f32x4.mul(l, delta)));
    }
  }
}

/** Adamax without weight decay. */
export function adamaxIdeal(param: usize, grad: usize, expAvg: usize, expInf: usize, length: i32,
  beta1: f64, beta2: f64, eps: f32, weightDecay: f32, clr: f32, maximize: bool): void {
  put(0, <f32>beta1); put(1, <f32>(1 - beta1)); put(2, <f32>beta2); put(3, eps); put(4, clr);
  const b1 = get(0), omb1 = get(1), b2 = get(2), e = get(3), c = get(4);
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 32) {
    for (let j: usize = 0; j < 32; j += 16) {
      const at = i + j;
      const g = v128.load(grad + at);
      const m = ema(v128.load(expAvg + at), g, b1, omb1);
      v128.store(expAvg + at, m);
      const u = f32x4.max(f32x4.mul(b2, v128.load(expInf + at)), f32x4.add(f32x4.abs(g), e));
      v128.store(expInf + at, u);
      v128.store(param + at, f32x4.sub(v128.load(param + at), f32x4.mul(c, f32x4.div(m, u))));
    }
  }
}

/** NAdam without weight decay. */
export function nadamIdeal(param: usize, grad: usize, mp: usize, vp: usize, length: i32,
  beta1: f64, beta2: f64, eps: f32, l2WeightDecay: f32, paramScale: f32,
  invBc2: f32, gradCoeff: f32, momentCoeff: f32, maximize: bool): void {
  put(0, <f32>beta1); put(1, <f32>(1 - beta1)); put(2, <f32>beta2); put(3, <f32>(1 - beta2));
  put(4, invBc2); put(5, eps); put(6, gradCoeff); put(7, momentCoeff);
  const b1 = get(0), omb1 = get(1), b2 = get(2), omb2 = get(3), ibc = get(4), e = get(5), gc = get(6), mc = get(7);
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 32) {
    for (let j: usize = 0; j < 32; j += 16) {
      const at = i + j;
      const g = v128.load(grad + at);
      const m = ema(v128.load(mp + at), g, b1, omb1);
      const v = ema(v128.load(vp + at), f32x4.mul(g, g), b2, omb2);
      v128.store(mp + at, m);
      v128.store(vp + at, v);
      const denom = f32x4.add(f32x4.mul(f32x4.sqrt(v), ibc), e);
      const numer = f32x4.add(f32x4.mul(gc, g), f32x4.mul(mc, m));
      v128.store(param + at, f32x4.sub(v128.load(param + at), f32x4.div(numer, denom)));
    }
  }
}

/** RAdam without weight decay, rectified. */
export function radamIdeal(param: usize, grad: usize, mp: usize, vp: usize, length: i32,
  beta1: f64, beta2: f64, eps: f32, l2WeightDecay: f32, paramScale: f32, stepSize: f32,
  rectified: bool, maximize: bool): void {
  put(0, <f32>beta1); put(1, <f32>(1 - beta1)); put(2, <f32>beta2); put(3, <f32>(1 - beta2)); put(4, eps); put(5, stepSize);
  const b1 = get(0), omb1 = get(1), b2 = get(2), omb2 = get(3), e = get(4), s = get(5);
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 32) {
    for (let j: usize = 0; j < 32; j += 16) {
      const at = i + j;
      const g = v128.load(grad + at);
      const m = ema(v128.load(mp + at), g, b1, omb1);
      const v = ema(v128.load(vp + at), f32x4.mul(g, g), b2, omb2);
      v128.store(mp + at, m);
      v128.store(vp + at, v);
      v128.store(param + at, f32x4.sub(v128.load(param + at), f32x4.mul(s, f32x4.div(m, f32x4.add(f32x4.sqrt(v), e)))));
    }
  }
}

/** Lion without weight decay. */
export function lionIdeal(param: usize, grad: usize, expAvg: usize, length: i32,
  lr: f32, beta1: f64, beta2: f64, paramScale: f32, maximize: bool): void {
  put(0, lr); put(1, <f32>beta1); put(2, <f32>(1 - beta1)); put(3, <f32>beta2); put(4, <f32>(1 - beta2));
  v128.store(SCRATCH + 80, i32x4.splat(0x80000000)); put(6, 1); put(7, 0);
  const l = get(0), b1 = get(1), omb1 = get(2), b2 = get(3), omb2 = get(4), signBit = get(5), one = get(6), zero = get(7);
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 32) {
    for (let j: usize = 0; j < 32; j += 16) {
      const at = i + j;
      const g = v128.load(grad + at);
      const m = v128.load(expAvg + at);
      const d = ema(m, g, b1, omb1);
      let sign = v128.and(v128.or(v128.and(d, signBit), one), f32x4.ne(d, zero));
      sign = v128.bitselect(d, sign, f32x4.ne(d, d));
      v128.store(param + at, f32x4.sub(v128.load(param + at), f32x4.mul(l, sign)));
      v128.store(expAvg + at, ema(m, g, b2, omb2));
    }
  }
}

/**
 * An Adam-shaped stream: reads four arrays, writes three, one add per stream; the memory-bound
 * ceiling for a kernel that moves Adam's bytes. Same signature as adamStep.
 */
export function adamStream(param: usize, grad: usize, m: usize, v: usize, vMax: usize, length: i32,
  beta1: f64, beta2: f64, eps: f32, l2WeightDecay: f32, paramScale: f32,
  stepSize: f32, invBc2: f32, maximize: bool): void {
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 32) {
    for (let j: usize = 0; j < 32; j += 16) {
      const at = i + j;
      const g = v128.load(grad + at);
      v128.store(m + at, f32x4.add(v128.load(m + at), g));
      v128.store(v + at, f32x4.add(v128.load(v + at), g));
      v128.store(param + at, f32x4.add(v128.load(param + at), g));
    }
  }
}

/**
 * The divider bound of the Adam family: per vector only what no exact kernel can avoid, one
 * square root and one division (p ← m / √v), reading two arrays and writing one. Same signature
 * as adamStep.
 */
export function sqrtDivBound(param: usize, grad: usize, m: usize, v: usize, vMax: usize, length: i32,
  beta1: f64, beta2: f64, eps: f32, l2WeightDecay: f32, paramScale: f32,
  stepSize: f32, invBc2: f32, maximize: bool): void {
  const end = <usize>length << 2;
  for (let i: usize = 0; i < end; i += 32) {
    v128.store(param + i, f32x4.div(v128.load(m + i), f32x4.sqrt(v128.load(v + i))));
    v128.store(param + i, f32x4.div(v128.load(m + i, 16), f32x4.sqrt(v128.load(v + i, 16))), 16);
  }
}
