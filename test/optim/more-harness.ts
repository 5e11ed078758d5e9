// Shared driver of test/optim/more.test.ts: runs ADOPT, ScheduleFreeAdamW or Muon and its float64
// reference (test/reference/optimizers-more.ts) side by side on the same float32 data.

import { ADOPT, Muon, parameter, ScheduleFreeAdamW, type Optimizer, type Parameter } from "../../src/index.js";
import {
  ADOPTReference, MuonReference, ScheduleFreeReference, type MoreAlgorithm, type MoreMistake, type MoreReference,
} from "../reference/optimizers-more.js";
import { seededRandom } from "../reference/random.js";
import { excess } from "./extra-harness.js";
import { DEFAULTS } from "./spec.mjs";

export type Options = Record<string, unknown>;
type Constructor = new (params: Parameter[] | object[], options?: object) => Optimizer<object>;
export const MORE_CLASSES: Record<MoreAlgorithm, Constructor> = {
  ADOPT: ADOPT as unknown as Constructor,
  ScheduleFreeAdamW: ScheduleFreeAdamW as unknown as Constructor,
  Muon: Muon as unknown as Constructor,
};

export function fullOptions(algorithm: MoreAlgorithm, overrides: Options): Options {
  return structuredClone({ ...(DEFAULTS as Record<string, Options>)[algorithm], ...overrides });
}

export function makeMoreReference(algorithm: MoreAlgorithm, initial: Float32Array, shape: number[], options: Options, mistake?: string): MoreReference {
  const param = Float64Array.from(initial);
  const o = structuredClone(options) as never;
  if (algorithm === "ADOPT") return new ADOPTReference(param, o, mistake as MoreMistake<"ADOPT">);
  if (algorithm === "ScheduleFreeAdamW") return new ScheduleFreeReference(param, o, mistake as MoreMistake<"ScheduleFreeAdamW">);
  return new MuonReference(param, shape[0]!, shape[1]!, o, mistake as MoreMistake<"Muon">);
}

export interface MoreComparison {
  /** max over elements of |kernel − reference| / allowed (≤ 1 passes) for the parameter, the buffers, the scalars. */
  param: number;
  buffers: number;
  scalars: number;
}

/** Steps both `steps` times with the same fresh gradients; `shape` 1-D or 2-D (Muon). */
export function runMore(algorithm: MoreAlgorithm, shape: number[], overrides: Options, seed: number, { steps = 60, mistake }: { steps?: number; mistake?: string } = {}): MoreComparison {
  const random = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const initial = new Float32Array(size).map(() => 2 * random() - 1);
  const param = parameter(shape, { init: initial });
  const options = fullOptions(algorithm, overrides);
  const optimizer = new MORE_CLASSES[algorithm]([param], options);
  const reference = makeMoreReference(algorithm, initial, shape, options, mistake);
  (optimizer as unknown as { train?: () => void }).train?.();
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < size; i++) param.grad[i] = 2 * random() - 1;
    optimizer.step();
    reference.step(param.grad);
  }
  const saved = optimizer.stateDict().state[0]!;
  const result = { param: excess(param.data, reference.param, 1).value, buffers: 0, scalars: 0 };
  for (const [name, expected] of Object.entries(reference.buffers)) {
    let rms = 0;
    for (const x of expected) rms += x * x;
    const floor = Math.sqrt(rms / expected.length) || 1e-30;
    result.buffers = Math.max(result.buffers, excess(saved.buffers[name]!, expected, floor).value);
  }
  for (const [name, expected] of Object.entries(reference.scalars)) {
    result.scalars = Math.max(result.scalars, Math.abs(saved.scalars![name]! - expected) / Math.max(Math.abs(expected), 1e-300));
  }
  optimizer.dispose();
  param.dispose();
  return result;
}
