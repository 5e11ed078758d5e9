// Float64 reference of torch.nn.functional.batch_norm (forward and its analytic backward), written
// from the documented formulas, element by element, for both layouts.

export type Layout = "NCHW" | "NHWC";

/** The channel of every flat index of a tensor of `shape` in `layout`. */
export function channelOf(shape: readonly number[], layout: Layout): Int32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const channels = layout === "NCHW" ? shape[1]! : shape[shape.length - 1]!;
  const inner = layout === "NCHW" ? size / (shape[0]! * channels) : 1;
  const result = new Int32Array(size);
  for (let i = 0; i < size; i++) result[i] = Math.floor(i / inner) % channels;
  return result;
}

export interface ForwardReferenceOptions {
  training: boolean;
  gamma?: ArrayLike<number> | null;
  beta?: ArrayLike<number> | null;
  runningMean?: ArrayLike<number> | null;
  runningVar?: ArrayLike<number> | null;
  momentum?: number;
  eps?: number;
  layout?: Layout;
}

export interface ForwardReference {
  y: Float64Array;
  mean: Float64Array;
  invStd: Float64Array;
  /** Biased batch variance (training) or the running variance (eval). */
  variance: Float64Array;
  runningMean: Float64Array | null;
  runningVar: Float64Array | null;
}

export function batchNormForwardReference(x: ArrayLike<number>, shape: readonly number[], options: ForwardReferenceOptions): ForwardReference {
  const layout = options.layout ?? "NCHW";
  const eps = options.eps ?? 1e-5;
  const momentum = options.momentum ?? 0.1;
  const channel = channelOf(shape, layout);
  const C = layout === "NCHW" ? shape[1]! : shape[shape.length - 1]!;
  const count = x.length / C;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  let runningMean: Float64Array | null = options.runningMean ? Float64Array.from(options.runningMean) : null;
  let runningVar: Float64Array | null = options.runningVar ? Float64Array.from(options.runningVar) : null;
  if (options.training) {
    for (let i = 0; i < x.length; i++) mean[channel[i]!] += x[i]!;
    for (let c = 0; c < C; c++) mean[c] /= count;
    for (let i = 0; i < x.length; i++) variance[channel[i]!] += (x[i]! - mean[channel[i]!]!) ** 2;
    const m2 = Float64Array.from(variance);
    for (let c = 0; c < C; c++) variance[c] /= count;
    if (runningMean) for (let c = 0; c < C; c++) runningMean[c] = (1 - momentum) * runningMean[c]! + momentum * mean[c]!;
    if (runningVar) for (let c = 0; c < C; c++) runningVar[c] = (1 - momentum) * runningVar[c]! + momentum * (m2[c]! / (count - 1));
  } else {
    mean.set(options.runningMean!);
    variance.set(options.runningVar!);
    runningMean = null;
    runningVar = null;
  }
  const invStd = new Float64Array(C);
  for (let c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(variance[c]! + eps);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = channel[i]!;
    y[i] = (x[i]! - mean[c]!) * invStd[c]! * (options.gamma ? options.gamma[c]! : 1) + (options.beta ? options.beta[c]! : 0);
  }
  return { y, mean, invStd, variance, runningMean, runningVar };
}

export interface BackwardReference {
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/**
 * Analytic gradients given the forward's mean and invStd. Training:
 *   x̂ = (x − mean)·invStd, dβ = Σdy, dγ = Σdy·x̂, dx = γ·invStd·(dy − dβ/n − x̂·dγ/n);
 * eval: dx = dy·γ·invStd.
 */
export function batchNormBackwardReference(
  dy: ArrayLike<number>, x: ArrayLike<number>, shape: readonly number[],
  options: { mean: ArrayLike<number>; invStd: ArrayLike<number>; gamma?: ArrayLike<number> | null; training: boolean; layout?: Layout },
): BackwardReference {
  const layout = options.layout ?? "NCHW";
  const channel = channelOf(shape, layout);
  const C = options.mean.length;
  const count = x.length / C;
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  for (let i = 0; i < x.length; i++) {
    const c = channel[i]!;
    dbeta[c] += dy[i]!;
    dgamma[c] += dy[i]! * (x[i]! - options.mean[c]!) * options.invStd[c]!;
  }
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = channel[i]!;
    const scale = (options.gamma ? options.gamma[c]! : 1) * options.invStd[c]!;
    if (options.training) {
      const xHat = (x[i]! - options.mean[c]!) * options.invStd[c]!;
      dx[i] = scale * (dy[i]! - dbeta[c]! / count - xHat * dgamma[c]! / count);
    } else {
      dx[i] = scale * dy[i]!;
    }
  }
  return { dx, dgamma, dbeta };
}
