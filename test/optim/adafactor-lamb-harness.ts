// Runs Adafactor or LAMB and its float64 reference (test/reference/adafactor-lamb.ts) side by side
// on parameters of any shape with the same float32 gradients, and measures how far apart they end.

import { Adafactor, LAMB, parameter, type Optimizer, type Parameter } from "../../src/index.js";
import { makeFactoredReference, type FactoredAlgorithm, type FactoredMistake, type FactoredOptions } from "../reference/adafactor-lamb.js";
import { seededRandom } from "../reference/random.js";
import { excess, PARAM_FLOOR, worstBuffer, type Comparison } from "./extra-harness.js";

type Constructor = new (params: Parameter[], options?: object) => Optimizer<object>;
export const FACTORED_CLASSES: Record<FactoredAlgorithm, Constructor> = {
  Adafactor: Adafactor as unknown as Constructor,
  LAMB: LAMB as unknown as Constructor,
};

/** The contract's defaults (shared/spec/API.md), written out independently of the sources. */
export const FACTORED_DEFAULTS: { [A in FactoredAlgorithm]: FactoredOptions[A] } = {
  Adafactor: { lr: 1e-2, beta2Decay: -0.8, eps: [null, 1e-3], d: 1, weightDecay: 0, maximize: false },
  LAMB: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0 },
};

export function factoredOptions<A extends FactoredAlgorithm>(algorithm: A, overrides: Partial<FactoredOptions[A]>): FactoredOptions[A] {
  return structuredClone({ ...FACTORED_DEFAULTS[algorithm], ...overrides });
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export interface FactoredRun<A extends FactoredAlgorithm> {
  steps?: number;
  mistake?: FactoredMistake<A>;
  /** Gradient scale at step t (0-based). Default 1. */
  gradScale?: (t: number) => number;
}

/** `steps` steps (default 100) of the optimizer and of its reference on one parameter of `shape`. */
export function runFactored<A extends FactoredAlgorithm>(
  algorithm: A, options: FactoredOptions[A], shape: readonly number[], seed: number, run: FactoredRun<A> = {},
): Comparison {
  const { steps = 100, mistake, gradScale = () => 1 } = run;
  const size = sizeOf(shape);
  const random = seededRandom(seed);
  const initial = new Float32Array(size);
  for (let i = 0; i < size; i++) initial[i] = 2 * random() - 1;
  const param = parameter(shape, { init: initial });
  try {
    const optimizer = new FACTORED_CLASSES[algorithm]([param], options);
    const reference = makeFactoredReference(algorithm, shape, Float64Array.from(initial), structuredClone(options), mistake);
    for (let t = 0; t < steps; t++) {
      const scale = gradScale(t);
      for (let i = 0; i < size; i++) param.grad[i] = (2 * random() - 1) * scale;
      optimizer.step();
      reference.step(param.grad);
    }
    const paramExcess = excess(param.data, reference.param, PARAM_FLOOR);
    const saved = optimizer.stateDict().state[0]!;
    const { buffers, bufferName } = worstBuffer(algorithm, saved.buffers, reference.buffers);
    optimizer.dispose();
    return { param: paramExcess.value, paramIndex: paramExcess.index, buffers, bufferName, scalars: 0, nearTieElements: 0 };
  } finally {
    param.dispose();
  }
}
