// The optimizers (and option variants) that the machinery tests of state.test / sparse.test run
// over: every `variants` entry of the spec table (spec.mjs), so a new optimizer is covered by
// its spec entry alone.

import * as simdopt from "../../src/index.js";
import type { Optimizer, OptimizerStateDict, Parameter } from "../../src/index.js";
import { OPTIMIZERS } from "./spec.mjs";

export type AnyOptimizer = Optimizer<object>;
export interface Factory {
  name: string;
  make: (params: Parameter[]) => AnyOptimizer;
}

type Constructor = new (params: Parameter[], options?: Record<string, unknown>) => AnyOptimizer;

export const FACTORIES: Factory[] = OPTIMIZERS.filter((entry) => entry.ownTests === undefined).flatMap((entry) => entry.variants.map(([name, options]) => {
  const Class = (simdopt as unknown as Record<string, Constructor>)[entry.name]!;
  return { name, make: (params: Parameter[]) => new Class(params, options) };
}));

/** Deterministic values in [−scale, scale) (mulberry32). */
export function randomFill(target: Float32Array, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  for (let i = 0; i < target.length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    target[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return target;
}

/** Bit patterns, so that NaN == NaN and −0 ≠ +0 (exact equality of float32 contents). */
export function bits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

/** Rows [from, to) of a row-major [rows, columns] array, as bit patterns. */
export function rowBits(values: Float32Array, columns: number, row: number): Uint32Array {
  return bits(values.subarray(row * columns, (row + 1) * columns));
}

/** The state dict of one parameter (index i), or null. */
export function entryOf(stateDict: OptimizerStateDict, i: number): OptimizerStateDict["state"][number] {
  return stateDict.state[i]!;
}
