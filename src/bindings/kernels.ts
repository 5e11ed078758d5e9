// The raw exports of the wasm module (assembly/index.ts). Pointers are byte offsets into the
// module's memory; booleans cross as 0/1. Kernels trust their inputs: validate before calling.

/** @internal Not part of the published types (stripInternal): no public signature uses it. */
export interface Kernels {
  heapBase(): number;
  relaxedBuild(): number;
  // assembly/scratch.ts: each instance's own scratch (threads)
  setThreadScratch(ptr: number): void;
  threadScratchBytes(): number;
  /** Where this instance's step kernels read their scalar arguments (8 f64, in the order each lists). */
  scalarsAt(): number;

  // The step kernels (and emaUpdate) take only integers: their float arguments, listed under
  // "scalars", are written to the instance's scalar slots first (memory.ts stepScalars), so that
  // no call boxes a float whatever V8 inlines.

  // assembly/optim/sgd.ts
  /** Scalars: lr, momentum, dampening, weightDecay, l1. */
  sgdStep(param: number, grad: number, momentumBuffer: number, length: number,
    maximize: boolean, nesterov: boolean, firstStep: boolean): void;
  // assembly/optim/adam.ts
  /** Scalars: beta1, beta2, eps, l2WeightDecay, paramScale, stepSize, invBiasCorrection2Sqrt (also adamStepLowp). */
  adamStep(param: number, grad: number, firstMoment: number, secondMoment: number, maxSecondMoment: number,
    length: number, maximize: boolean): void;
  adamStepLowp(param: number, grad: number, firstMoment: number, firstScales: number, secondMoment: number,
    secondScales: number, length: number, format: number, maximize: boolean): void;
  // assembly/optim/lowp.ts
  int8Map(signed: boolean): number;

  // assembly/optim/{adagrad,rmsprop,adadelta,adamax,nadam,radam,lion}.ts
  /** Scalars: clr, eps, weightDecay, l1. */
  adagradStep(param: number, grad: number, stateSum: number, length: number, maximize: boolean): void;
  /** Scalars: lr, alpha, eps, weightDecay, momentum. */
  rmspropStep(param: number, grad: number, squareAvg: number, gradAvg: number, momentumBuffer: number, length: number,
    maximize: boolean): void;
  /** Scalars: lr, rho, eps, weightDecay. */
  adadeltaStep(param: number, grad: number, squareAvg: number, accDelta: number, length: number, maximize: boolean): void;
  /** Scalars: beta1, beta2, eps, weightDecay, clr. */
  adamaxStep(param: number, grad: number, firstMoment: number, infinityNorm: number, length: number, maximize: boolean): void;
  /** Scalars: beta1, beta2, eps, l2WeightDecay, paramScale, invBiasCorrection2Sqrt, gradCoeff, momentCoeff. */
  nadamStep(param: number, grad: number, firstMoment: number, secondMoment: number, length: number, maximize: boolean): void;
  /** Scalars: beta1, beta2, eps, l2WeightDecay, paramScale, stepSize. */
  radamStep(param: number, grad: number, firstMoment: number, secondMoment: number, length: number,
    rectified: boolean, maximize: boolean): void;
  /** Scalars: lr, beta1, beta2, paramScale (also lionStepLowp). */
  lionStep(param: number, grad: number, firstMoment: number, length: number, maximize: boolean): void;
  lionStepLowp(param: number, grad: number, firstMoment: number, firstScales: number, length: number, format: number,
    maximize: boolean): void;
  // assembly/optim/ema.ts
  /** Scalars: decay. */
  emaUpdate(average: number, param: number, length: number): void;
  swapF32(a: number, b: number, length: number): void;
  // assembly/optim/accumulate.ts
  accumulateGrad(sum: number, grad: number, length: number): void;
  // assembly/optim/adafactor.ts
  adafactorFactors(grad: number, rowVar: number, colVar: number, matrices: number, rows: number, cols: number, weight: number): void;
  adafactorFactoredNorm(grad: number, rowVar: number, colVar: number, matrices: number, rows: number, cols: number, eps1: number): number;
  adafactorFactoredApply(param: number, grad: number, rowVar: number, colVar: number, matrices: number, rows: number, cols: number,
    eps1: number, paramScale: number, stepScale: number): void;
  adafactorVariance(grad: number, variance: number, length: number, weight: number, eps1: number): number;
  adafactorVectorApply(param: number, grad: number, variance: number, length: number, eps1: number, paramScale: number, stepScale: number): void;
  // assembly/optim/lamb.ts
  lambMoments(grad: number, firstMoment: number, secondMoment: number, length: number,
    beta1: number, beta2: number, eps: number, invBiasCorrection1: number, invBiasCorrection2Sqrt: number): number;
  lambApply(param: number, firstMoment: number, secondMoment: number, length: number,
    eps: number, invBiasCorrection1: number, invBiasCorrection2Sqrt: number, paramScale: number, stepScale: number): void;
  // assembly/optim/{adopt,schedulefree,muon}.ts
  /** Scalars: lr, beta1, beta2, eps, l2WeightDecay, paramScale, clip. */
  adoptStep(param: number, grad: number, firstMoment: number, secondMoment: number, length: number, first: boolean): void;
  /** Scalars: beta2, eps, weightDecay, invBiasCorrection2Sqrt, ckp1, yStep, lr. */
  scheduleFreeStep(param: number, grad: number, z: number, secondMoment: number, length: number, first: boolean): void;
  muonMomentum(grad: number, buf: number, out: number, length: number, momentum: number, nesterov: boolean, eps: number): void;
  muonApply(param: number, update: number, length: number, paramScale: number, alpha: number): void;

  // assembly/ops/mask.ts
  restoreMaskedOut(param: number, saved: number, mask: number, length: number, maskIsBytes: boolean): void;
  // assembly/ops/reduce.ts
  allFinite(data: number, length: number): number;
  sumSquares(data: number, length: number): number;
  sumAbs(data: number, length: number): number;
  maxAbs(data: number, length: number): number;
  scaleInPlace(data: number, length: number, factor: number): void;
  clampInPlace(data: number, length: number, bound: number): void;

  // assembly/ops/matmul.ts. Strides in floats; packedA is used only when transA.
  matmulF32(a: number, b: number, c: number, m: number, k: number, n: number, lda: number, ldb: number, ldc: number,
    transA: boolean, transB: boolean, alpha: number, beta: number, packedA: number, packedB: number): void;
  matmulPackedASize(m: number, k: number): number;
  matmulPackedBSize(k: number, n: number): number;

  // assembly/ops/batchnorm/. f64 channel arrays are marked; every other array is f32.
  batchNormWorkFloats(channels: number): number;
  batchNormStatsNchw(x: number, batch: number, channels: number, spatial: number,
    channelMean64: number, channelM2_64: number, batchStride: number): void;
  batchNormStatsNhwc(x: number, rows: number, channels: number, channelMean64: number, channelM2_64: number,
    work: number): void;
  batchNormFinishTraining(channelMean64: number, channelM2_64: number, channels: number, count: number, eps: number,
    gamma: number, beta: number, mean: number, invStd: number, scale: number, offset: number,
    runningMean: number, runningVar: number, momentum: number): void;
  batchNormFinishEval(runningMean: number, runningVar: number, channels: number, eps: number,
    gamma: number, beta: number, mean: number, invStd: number, scale: number, offset: number): void;
  batchNormNormalizeNchw(x: number, y: number, batch: number, channels: number, spatial: number,
    centre: number, scale: number, offset: number, batchStride: number): void;
  batchNormNormalizeNhwc(x: number, y: number, rows: number, channels: number,
    centre: number, scale: number, offset: number, work: number): void;
  batchNormBackwardReduceNchw(dy: number, x: number, batch: number, channels: number, spatial: number, mean: number,
    sumDy64: number, sumDyCentred64: number, invStd: number, gamma: number, dx: number, batchStride: number): void;
  batchNormBackwardReduceNhwc(dy: number, x: number, rows: number, channels: number, mean: number,
    sumDy64: number, sumDyCentred64: number, invStd: number, gamma: number, dx: number, work: number): void;
  batchNormBackwardCoefficients(sumDy64: number, sumDyCentred64: number, channels: number, count: number,
    invStd: number, gamma: number, training: boolean, dgamma: number, dbeta: number, accumulate: boolean,
    coefDy: number, coefCentred: number, coefConst: number, coefScale: number): void;
  batchNormBackwardDxNchw(dy: number, x: number, dx: number, batch: number, channels: number, spatial: number,
    mean: number, coefDy: number, coefCentred: number, coefConst: number, coefScale: number, batchStride: number): void;
  batchNormBackwardDxNhwc(dy: number, x: number, dx: number, rows: number, channels: number,
    mean: number, coefDy: number, coefCentred: number, coefConst: number, coefScale: number, work: number): void;

  // assembly/ops/scaler.ts. sum/sumSq are f64 arrays of `period` entries; every other array is f32.
  scalerSums(x: number, total: number, period: number, shift: number, sum: number, sumSq: number): void;
  scalerMinMax(x: number, total: number, period: number, lo: number, hi: number): void;
  scalerApply(x: number, y: number, total: number, period: number, offset: number, scale: number, invert: boolean): void;

  // assembly/optim/ftrl.ts
  /** Scalars: lr, lrPower, l1, l2, l2Shrinkage, beta. */
  ftrlStep(param: number, grad: number, accumulator: number, linear: number, length: number): void;
}
