// Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_: the 1-, 2- and
// ∞-norms are SIMD reductions accumulated in float64 lanes (assembly/ops/reduce.ts), the scaling
// and clamping are in-place SIMD passes over the gradients in wasm memory.

import { kernels } from "../bindings/instance.js";
import { Parameter } from "../parameter.js";
import { threadHooks } from "../threads/hooks.js";
import { describe, optionalBoolean, readOptions, reject } from "../checks.js";

const CLIP_NORM_KEYS = ["errorIfNonfinite"] as const;

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /**
   * Throw an Error, before scaling anything, when the total norm is NaN or ±Inf. Default false
   * (then, as in PyTorch, the gradients are multiplied by the resulting NaN or 0 coefficient).
   */
  errorIfNonfinite?: boolean;
}

/** Checks `params` (a Parameter or an array of them, none disposed, none twice) and lists them. */
function checkParams(params: unknown, fn: string): Parameter[] {
  const list: unknown[] = params instanceof Parameter ? [params] : Array.isArray(params) ? params : [];
  if (!(params instanceof Parameter) && !Array.isArray(params)) {
    throw new TypeError(`simdopt: ${fn} params must be a Parameter or an array of Parameters, got ${describe(params)}`);
  }
  const seen = new Set<Parameter>();
  list.forEach((param, i) => {
    if (!(param instanceof Parameter)) throw new TypeError(`simdopt: ${fn} params[${i}] must be a Parameter, got ${describe(param)}`);
    if (param.disposed) throw new TypeError(`simdopt: ${fn} params[${i}] ("${param.name}") has been disposed`);
    if (seen.has(param)) throw new RangeError(`simdopt: ${fn} params lists "${param.name}" twice`);
    seen.add(param);
  });
  return list as Parameter[];
}

/** A bound ≥ 0; Infinity means "no bound", as in PyTorch. */
function checkNonNegative(fn: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !(value >= 0)) reject(`${fn} `, name, value, "a number ≥ 0 or Infinity", typeof value !== "number");
  return value as number;
}

/**
 * The p-norm of one gradient (p finite, > 0, not 1 or 2), scaled by its max |x| so that |x|^p
 * can neither overflow nor underflow. A plain float64 loop over the zero-copy view: a general p
 * is rare, and a wasm pow would add ~8 KB (its log/exp tables) to each build of the module.
 */
function pNormOf(param: Parameter, p: number): number {
  const largest = kernels().maxAbs(param.gradPtr, param.size);
  if (largest === 0 || !Number.isFinite(largest)) return largest; // 0, NaN or Inf: the norm is the same
  const grad = param.grad;
  const invScale = 1 / largest;
  let sum = 0;
  for (let i = 0; i < grad.length; i++) {
    const x = Math.abs(grad[i]!) * invScale;
    if (x !== 0) sum += x ** p;
  }
  return largest * sum ** (1 / p);
}

/** The p-norm of a few non-negative numbers, scaled the same way. */
function pNormOfNumbers(values: number[], p: number): number {
  let largest = 0;
  for (const value of values) largest = Number.isNaN(value) || Number.isNaN(largest) ? NaN : Math.max(largest, value);
  if (largest === 0 || !Number.isFinite(largest)) return largest;
  let sum = 0;
  for (const value of values) sum += (value / largest) ** p;
  return largest * sum ** (1 / p);
}

/**
 * Rescales the gradients of `params` so that their total norm is at most `maxNorm`, as PyTorch's
 * `clip_grad_norm_`: the total norm is the `normType`-norm of the per-parameter norms (equal to
 * the norm of all gradients concatenated), the gradients are multiplied by
 * min(1, maxNorm / (total + 1e-6)).
 *
 * @param params a Parameter or an array of Parameters
 * @param maxNorm the largest total norm allowed (≥ 0); Infinity measures the norm and changes nothing
 * @param normType the order p of the norm: any p > 0, or Infinity (max |g|). Default 2.
 * @param options `{ errorIfNonfinite: false }`
 * @returns the total norm of the gradients before clipping
 */
export function clipGradNorm(
  params: Parameter | readonly Parameter[],
  maxNorm: number,
  normType: number = 2,
  options: ClipGradNormOptions = {},
): number {
  const list = checkParams(params, "clipGradNorm");
  // maxNorm = Infinity is PyTorch's idiom for measuring the norm without clipping.
  checkNonNegative("clipGradNorm", "maxNorm", maxNorm);
  if (typeof normType !== "number" || !(normType > 0)) reject("clipGradNorm ", "normType", normType, "a number > 0 or Infinity", typeof normType !== "number");
  const o = readOptions("clipGradNorm", options, CLIP_NORM_KEYS);
  const errorIfNonfinite = optionalBoolean("clipGradNorm ", "errorIfNonfinite", o.errorIfNonfinite, false);
  if (list.length === 0) return 0;

  const k = kernels();
  // Per-parameter values (computed across the threads when they are on), combined in order.
  const threads = threadHooks();
  const ptrs = list.map((param) => param.gradPtr);
  const lengths = list.map((param) => param.size);
  const values: number[] = new Array<number>(list.length).fill(0);
  const reduceEach = (kernel: "sumSquares" | "sumAbs" | "maxAbs") => {
    if (threads !== null) threads.reduceEach(k, kernel, ptrs, lengths, values);
    else for (let i = 0; i < list.length; i++) values[i] = k[kernel](ptrs[i]!, lengths[i]!);
  };
  let total: number;
  if (normType === 2) {
    reduceEach("sumSquares");
    let sum = 0;
    for (const value of values) sum += value;
    total = Math.sqrt(sum);
  } else if (normType === 1) {
    reduceEach("sumAbs");
    total = 0;
    for (const value of values) total += value;
  } else if (normType === Infinity) {
    reduceEach("maxAbs");
    total = 0;
    // Math.max propagates NaN, as torch.max does.
    for (const value of values) total = Math.max(total, value);
  } else {
    total = pNormOfNumbers(list.map((param) => pNormOf(param, normType)), normType);
  }

  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(
      `simdopt: the total norm of order ${normType} for gradients from \`params\` is non-finite, so it cannot be ` +
        "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set " +
        "`errorIfNonfinite: false`",
    );
  }
  // The gradients are float32, so is the coefficient; PyTorch also multiplies when it clamps to
  // 1, but multiplying by 1 is exact, so that pass is skipped. NaN (a NaN norm) does scale.
  // maxNorm = Infinity only measures: even an infinite or NaN norm (where PyTorch's Inf/Inf
  // coefficient would turn the gradients into NaN) leaves them as they are.
  const coefficient = Math.fround(maxNorm / (total + 1e-6));
  if (maxNorm !== Infinity && !(coefficient >= 1)) {
    if (threads !== null) threads.elementwiseEach(k, "scaleInPlace", ptrs, lengths, coefficient);
    else for (let i = 0; i < list.length; i++) k.scaleInPlace(ptrs[i]!, lengths[i]!, coefficient);
  }
  return total;
}

/**
 * Clamps every gradient element of `params` to [−clipValue, clipValue] in place, as PyTorch's
 * `clip_grad_value_` (NaN stays NaN).
 *
 * @param params a Parameter or an array of Parameters
 * @param clipValue the bound (≥ 0); Infinity leaves the gradients as they are
 */
export function clipGradValue(params: Parameter | readonly Parameter[], clipValue: number): void {
  const list = checkParams(params, "clipGradValue");
  checkNonNegative("clipGradValue", "clipValue", clipValue);
  if (clipValue === Infinity) return;
  const k = kernels();
  for (const param of list) k.clampInPlace(param.gradPtr, param.size, clipValue);
}
