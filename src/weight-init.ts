// Weight initialisation schemes, as torch.nn.init computes them.

import { Random, randomSeed } from "./random.js";

/** The named initialisation schemes of `parameter(shape, { init })`. */
export type InitScheme = "zeros" | "ones" | "xavierUniform" | "xavierNormal" | "heUniform" | "heNormal";

export const INIT_SCHEMES: readonly InitScheme[] = ["zeros", "ones", "xavierUniform", "xavierNormal", "heUniform", "heNormal"];

/**
 * PyTorch's fan computation for a weight of shape [out, in, ...kernel]:
 * fanIn = in·∏kernel, fanOut = out·∏kernel. Fewer than two dimensions throws RangeError.
 */
export function computeFans(shape: readonly number[], scheme = "this initialisation"): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new RangeError(`simdopt: ${scheme} needs a parameter with at least 2 dimensions (fan-in and fan-out), got shape [${shape.join(", ")}]`);
  }
  let receptiveField = 1;
  for (let i = 2; i < shape.length; i++) receptiveField *= shape[i]!;
  return { fanIn: shape[1]! * receptiveField, fanOut: shape[0]! * receptiveField };
}

/**
 * Fills `target` (of a parameter with `shape`) with `scheme`, deterministically for a given seed.
 * - xavierUniform: U(−a, a), a = √(6 / (fanIn + fanOut))      (gain 1)
 * - xavierNormal:  N(0, σ²), σ = √(2 / (fanIn + fanOut))
 * - heUniform:     U(−b, b), b = √2 · √(3 / fanIn)            (kaiming_uniform_, ReLU gain √2)
 * - heNormal:      N(0, σ²), σ = √2 / √fanIn                  (kaiming_normal_, fan_in mode)
 */
export function fillInit(target: Float32Array, shape: readonly number[], scheme: InitScheme, seed: number = randomSeed()): void {
  switch (scheme) {
    case "zeros":
      target.fill(0);
      return;
    case "ones":
      target.fill(1);
      return;
  }
  const { fanIn, fanOut } = computeFans(shape, scheme);
  const random = new Random(seed);
  switch (scheme) {
    case "xavierUniform": {
      const bound = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < target.length; i++) target[i] = (2 * random.uniform() - 1) * bound;
      return;
    }
    case "xavierNormal": {
      const std = Math.sqrt(2 / (fanIn + fanOut));
      for (let i = 0; i < target.length; i++) target[i] = random.normal() * std;
      return;
    }
    case "heUniform": {
      const bound = Math.SQRT2 * Math.sqrt(3 / fanIn);
      for (let i = 0; i < target.length; i++) target[i] = (2 * random.uniform() - 1) * bound;
      return;
    }
    case "heNormal": {
      const std = Math.SQRT2 / Math.sqrt(fanIn);
      for (let i = 0; i < target.length; i++) target[i] = random.normal() * std;
      return;
    }
  }
}
