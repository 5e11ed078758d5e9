// The optimizers (and option variants) that the machinery tests of optim-state / optim-sparse run
// over. Adding an optimizer to those tests is one line here.

import {
  Adadelta, Adagrad, Adam, Adamax, AdamW, Ftrl, Lion, NAdam, RAdam, RMSprop, SGD,
  type Optimizer, type OptimizerStateDict, type Parameter,
} from "../../src/index.js";

export type AnyOptimizer = Optimizer<object>;
export interface Factory {
  name: string;
  make: (params: Parameter[]) => AnyOptimizer;
}

const as = (make: (params: Parameter[]) => unknown) => make as (params: Parameter[]) => AnyOptimizer;

export const FACTORIES: Factory[] = [
  { name: "SGD", make: as((p) => new SGD(p, { lr: 0.1, weightDecay: 0.01 })) },
  { name: "SGD momentum+dampening", make: as((p) => new SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 })) },
  { name: "SGD nesterov maximize", make: as((p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01, maximize: true })) },
  { name: "Adam", make: as((p) => new Adam(p, { lr: 0.01, weightDecay: 0.1 })) },
  { name: "Adam amsgrad maximize", make: as((p) => new Adam(p, { lr: 0.01, amsgrad: true, maximize: true })) },
  { name: "AdamW", make: as((p) => new AdamW(p, { lr: 0.01, weightDecay: 0.1 })) },
  { name: "AdamW amsgrad", make: as((p) => new AdamW(p, { lr: 0.01, amsgrad: true })) },
  { name: "Adagrad", make: as((p) => new Adagrad(p, { lr: 0.05, lrDecay: 0.01, weightDecay: 0.01, initialAccumulatorValue: 0.1 })) },
  { name: "RMSprop centered momentum", make: as((p) => new RMSprop(p, { lr: 0.01, momentum: 0.9, centered: true, weightDecay: 0.01 })) },
  { name: "RMSprop", make: as((p) => new RMSprop(p, { lr: 0.01 })) },
  { name: "Adadelta", make: as((p) => new Adadelta(p, { lr: 1, weightDecay: 0.01 })) },
  { name: "Adamax", make: as((p) => new Adamax(p, { lr: 0.01, weightDecay: 0.01 })) },
  { name: "NAdam", make: as((p) => new NAdam(p, { lr: 0.01, weightDecay: 0.01 })) },
  { name: "NAdam decoupled", make: as((p) => new NAdam(p, { lr: 0.01, weightDecay: 0.01, decoupledWeightDecay: true })) },
  { name: "RAdam", make: as((p) => new RAdam(p, { lr: 0.01, weightDecay: 0.01 })) },
  { name: "RAdam decoupled", make: as((p) => new RAdam(p, { lr: 0.01, weightDecay: 0.01, decoupledWeightDecay: true })) },
  { name: "Lion", make: as((p) => new Lion(p, { lr: 1e-3, weightDecay: 0.1 })) },
  { name: "SGD l1 momentum", make: as((p) => new SGD(p, { lr: 0.05, momentum: 0.9, l1: 0.05 })) },
  { name: "Adagrad l1", make: as((p) => new Adagrad(p, { lr: 0.05, initialAccumulatorValue: 0.1, l1: 0.05 })) },
  { name: "Ftrl", make: as((p) => new Ftrl(p, { lr: 0.05, l1: 0.01, l2: 0.01, l2Shrinkage: 0.01, beta: 0.1 })) },
  { name: "Ftrl lrPower -0.7", make: as((p) => new Ftrl(p, { lr: 0.05, lrPower: -0.7, l1: 0.01 })) },
];

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
