import { workEnd } from "./optim/lowp";

// Every exported kernel of the module, and nothing else. Kernels take byte pointers into linear
// memory and element counts; the TypeScript side owns allocation, validation and views.

/** First byte after the static data and the reduced-precision work area; the TypeScript allocator starts here. */
export function heapBase(): usize { return workEnd(); }

/** 1 in the relaxed-SIMD build, 0 in the plain one: tells the loader which build it was handed. */
export function relaxedBuild(): i32 { return ASC_FEATURE_RELAXED_SIMD ? 1 : 0; }

// Threads: each instance's own scratch (see scratch.ts)
export { setThreadScratch, threadScratchBytes, scalarsAt } from "./scratch";

export { sgdStep } from "./optim/sgd";
export { adamStep, adamStepLowp } from "./optim/adam";
export { int8Map } from "./optim/lowp";
export { restoreMaskedOut } from "./ops/mask";
// Reductions and in-place passes of clipping and the non-finite guard
export { allFinite, sumSquares, sumAbs, maxAbs, scaleInPlace, clampInPlace } from "./ops/reduce";

// Adagrad, RMSprop, Adadelta, Adamax, NAdam, RAdam, Lion
export { adagradStep } from "./optim/adagrad";
export { rmspropStep } from "./optim/rmsprop";
export { adadeltaStep } from "./optim/adadelta";
export { adamaxStep } from "./optim/adamax";
export { nadamStep } from "./optim/nadam";
export { radamStep } from "./optim/radam";
export { lionStep, lionStepLowp } from "./optim/lion";
export { emaUpdate, swapF32 } from "./optim/ema";
export { accumulateGrad } from "./optim/accumulate";
export { adafactorFactors, adafactorFactoredNorm, adafactorFactoredApply, adafactorVariance, adafactorVectorApply } from "./optim/adafactor";
export { lambMoments, lambApply } from "./optim/lamb";
export { adoptStep } from "./optim/adopt";
export { scheduleFreeStep } from "./optim/schedulefree";
export { muonMomentum, muonApply } from "./optim/muon";

// Batch normalisation forward/backward, NCHW and NHWC
export { batchNormWorkFloats } from "./ops/batchnorm/common";
export { batchNormFinishTraining, batchNormFinishEval, batchNormBackwardCoefficients } from "./ops/batchnorm/moments";
export {
  batchNormStatsNchw, batchNormNormalizeNchw, batchNormBackwardReduceNchw, batchNormBackwardDxNchw,
} from "./ops/batchnorm/nchw";
export {
  batchNormStatsNhwc, batchNormNormalizeNhwc, batchNormBackwardReduceNhwc, batchNormBackwardDxNhwc,
} from "./ops/batchnorm/nhwc";

// GEMM
export { matmulF32, matmulPackedASize, matmulPackedBSize } from "./ops/matmul";

// Feature scaling
export { scalerSums, scalerMinMax, scalerApply } from "./ops/scaler";

// FTRL-Proximal
export { ftrlStep } from "./optim/ftrl";
