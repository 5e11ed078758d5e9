// Shared driver of test/optim/extra.test.ts: runs a simdopt optimizer and its float64 reference
// side by side on the same float32 data and measures how far apart they end up.

import {
  Adadelta, Adagrad, Adamax, Lion, NAdam, parameter, RAdam, RMSprop, type Optimizer, type Parameter,
} from "../../src/index.js";
import { makeReference, type Algorithm, type Mistake, type OptionsByAlgorithm, type Reference } from "../reference/optimizers-extra.js";
import { seededRandom } from "../reference/random.js";

type AnyOptimizer = Optimizer<object>;
type Constructor = new (params: Parameter[], options?: object) => AnyOptimizer;

export const CLASSES: Record<Algorithm, Constructor> = {
  Adagrad: Adagrad as unknown as Constructor,
  RMSprop: RMSprop as unknown as Constructor,
  Adadelta: Adadelta as unknown as Constructor,
  Adamax: Adamax as unknown as Constructor,
  NAdam: NAdam as unknown as Constructor,
  RAdam: RAdam as unknown as Constructor,
  Lion: Lion as unknown as Constructor,
};

/** The contract's table (shared/spec/API.md), written out independently of the sources. */
export const DEFAULTS: { [A in Algorithm]: OptionsByAlgorithm[A] } = {
  Adagrad: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, l1: 0 },
  RMSprop: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false },
  Adadelta: { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false },
  Adamax: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false },
  NAdam: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false, maximize: false },
  RAdam: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, maximize: false },
  Lion: { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false, stateDtype: "float32" },
};

export function withDefaults<A extends Algorithm>(algorithm: A, overrides: Partial<OptionsByAlgorithm[A]>): OptionsByAlgorithm[A] {
  const options = { ...DEFAULTS[algorithm], ...overrides };
  if ("betas" in options) (options as { betas: [number, number] }).betas = [...(options as { betas: [number, number] }).betas];
  return options;
}

// Error bound, per element: |kernel − reference| ≤ TOLERANCE · max(|reference|, FLOOR).
// Both sides start from the same float32 parameters and see the same float32 gradients, so the
// difference is the kernel's float32 rounding only. Each step's arithmetic is a few ulps
// (2^-24 ≈ 6e-8 relative) of an update of size ~lr; what dominates is storing the parameter
// back in float32 every step, half an ulp of |p| ≤ 1.2e-7·|p|, which over 100 steps accumulates
// like a random walk to ~1e-6 and at worst linearly to ~1.2e-5 of the parameter's scale. The
// state buffers are contractions (β·x + (1−β)·y) or sums of positive terms, whose relative
// rounding stays within the same bound. Parameters start in [-1, 1), so for the parameter the
// floor is 1: elements that pass near zero are judged on the parameter's scale, where any
// float32 implementation has this absolute rounding. For a state buffer the floor is its RMS
// (a first moment near zero is judged on the scale of the moments). Measured: ≤ 2e-6 for the
// parameters and ≤ 3e-6 for the buffers over every combination below (see the log of the
// measuring run in the report), so 1e-5 leaves a margin of ~3× while every deliberate mistake
// is off by ≥ 1e-3.
export const TOLERANCE = 1e-5;
export const PARAM_FLOOR = 1;

export interface Comparison {
  /** max over elements of |kernel − reference| / allowed (≤ 1 passes). */
  param: number;
  paramIndex: number;
  /** The same over every state buffer (worst one). */
  buffers: number;
  bufferName: string;
  /** Largest relative difference of the per-parameter scalars (NAdam's muProduct). */
  scalars: number;
  /** Lion: elements whose sign argument came within float32 rounding of zero at some step. */
  nearTieElements: number;
}

export interface RunOptions<A extends Algorithm> {
  steps?: number;
  mistake?: Mistake<A>;
  /** Called before step `t` (0-based) with both option sets, to change live options. */
  beforeStep?: (t: number, group: OptionsByAlgorithm[A], reference: OptionsByAlgorithm[A]) => void;
  /** Gradient scale. Default 1. */
  gradScale?: number;
}

/** Element-wise excess over the allowed error; allowance[i] adds to the tolerance of element i. */
export function excess(actual: ArrayLike<number>, expected: ArrayLike<number>, floor: number, extra?: (i: number) => number): { value: number; index: number } {
  let value = 0;
  let index = -1;
  for (let i = 0; i < expected.length; i++) {
    const allowed = TOLERANCE * Math.max(Math.abs(expected[i]!), floor) + (extra?.(i) ?? 0);
    const e = Math.abs(actual[i]! - expected[i]!) / allowed;
    if (!(e <= value)) { value = e; index = i; }
  }
  return { value, index };
}

function rms(values: Float64Array): number {
  let sum = 0;
  for (const x of values) sum += x * x;
  return Math.sqrt(sum / Math.max(values.length, 1)) || 1e-30;
}

/**
 * The state buffer furthest from its reference (excess over the tolerance, judged on the
 * reference's rms), throwing when one is missing or of another length.
 */
export function worstBuffer(algorithm: string, actualBuffers: Record<string, ArrayLike<number>>,
  expectedBuffers: Record<string, Float64Array>): { buffers: number; bufferName: string } {
  let buffers = 0;
  let bufferName = "";
  for (const [name, expected] of Object.entries(expectedBuffers)) {
    const actual = actualBuffers[name];
    if (actual === undefined) throw new Error(`${algorithm} has no state buffer "${name}" (has ${Object.keys(actualBuffers).join(", ")})`);
    if (actual.length !== expected.length) throw new Error(`${algorithm} buffer "${name}" has ${actual.length} values, expected ${expected.length}`);
    const { value } = excess(actual, expected, rms(expected));
    if (!(value <= buffers)) { buffers = value; bufferName = name; }
  }
  return { buffers, bufferName };
}

/** Runs `steps` steps (default 100) of the optimizer and of its reference with the same fresh gradients. */
export function runBoth<A extends Algorithm>(algorithm: A, options: OptionsByAlgorithm[A], size: number, seed: number, run: RunOptions<A> = {}): Comparison {
  const { steps = 100, mistake, beforeStep, gradScale = 1 } = run;
  const random = seededRandom(seed);
  const initial = new Float32Array(size);
  for (let i = 0; i < size; i++) initial[i] = 2 * random() - 1;
  const param = parameter([size], { init: initial });
  try {
    const optimizer = new CLASSES[algorithm]([param], options);
    const referenceOptions = structuredClone(options);
    const reference: Reference = makeReference(algorithm, Float64Array.from(initial), referenceOptions, mistake);
    const group = optimizer.paramGroups[0] as unknown as OptionsByAlgorithm[A];
    const grad = param.grad;
    let maxLr = (options as { lr: number }).lr;
    for (let t = 0; t < steps; t++) {
      beforeStep?.(t, group, referenceOptions);
      maxLr = Math.max(maxLr, (referenceOptions as { lr: number }).lr);
      for (let i = 0; i < size; i++) grad[i] = (2 * random() - 1) * gradScale;
      optimizer.step();
      reference.step(grad);
    }
    const ties = reference.nearTies;
    // A Lion sign flipped by rounding moves the element by 2·lr, once per near-tie.
    const paramExcess = excess(param.data, reference.param, PARAM_FLOOR, ties && ((i) => 2 * maxLr * ties[i]!));
    const saved = optimizer.stateDict().state[0]!;
    const { buffers, bufferName } = worstBuffer(algorithm, saved.buffers, reference.buffers);
    let scalars = 0;
    for (const [name, expected] of Object.entries(reference.scalars)) {
      const actual = saved.scalars?.[name];
      scalars = Math.max(scalars, actual === undefined ? Infinity : Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300));
    }
    let nearTieElements = 0;
    if (ties) for (const count of ties) if (count > 0) nearTieElements++;
    optimizer.dispose();
    return { param: paramExcess.value, paramIndex: paramExcess.index, buffers, bufferName, scalars, nearTieElements };
  } finally {
    param.dispose();
  }
}
