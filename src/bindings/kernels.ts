// The raw exports of the wasm module (assembly/index.ts). Pointers are byte offsets into the
// module's memory; booleans cross as 0/1. Kernels trust their inputs: validate before calling.

export interface Kernels {
  heapBase(): number;
  relaxedBuild(): number;

  // assembly/optim/sgd.ts
  sgdStep(param: number, grad: number, momentumBuffer: number, length: number,
    lr: number, momentum: number, dampening: number, weightDecay: number,
    maximize: boolean, nesterov: boolean, firstStep: boolean): void;
  // assembly/optim/adam.ts
  adamStep(param: number, grad: number, firstMoment: number, secondMoment: number, maxSecondMoment: number,
    length: number, beta1: number, beta2: number, eps: number, l2WeightDecay: number, paramScale: number,
    stepSize: number, invBiasCorrection2Sqrt: number, maximize: boolean): void;

  // assembly/ops/mask.ts
  restoreMaskedOut(param: number, saved: number, mask: number, length: number, maskIsBytes: boolean): void;
  // assembly/ops/reduce.ts
  allFinite(data: number, length: number): number;
}
