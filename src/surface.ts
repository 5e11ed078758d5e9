// The public surface shared by the main entry (index.ts) and simdopt/slim (slim.ts): all of it
// but init/initSync, which differ only in whether the wasm is embedded.

export { features } from "./bindings/instance.js";
export type { InitSource, InitOptions, Features } from "./bindings/instance.js";
export { parameter, Parameter } from "./parameter.js";
export type { ParameterOptions } from "./parameter.js";
export type { InitScheme } from "./weight-init.js";
// Plain Float32Arrays the caller keeps, copied in and out around each step
export { mirror, Mirror } from "./mirror.js";
export type { MirrorPair, Steppable } from "./mirror.js";

export { Optimizer } from "./optim/optimizer.js";
export type { AccumulateOption, ParamGroup, ParamGroupInput, StepOptions, OptimizerStateDict } from "./optim/optimizer.js";
export { SGD } from "./optim/sgd.js";
export type { SGDOptions } from "./optim/sgd.js";
export { Adam, AdamW } from "./optim/adam.js";
export type { AdamOptions, AdamWOptions } from "./optim/adam.js";

// Gradient clipping
export { clipGradNorm, clipGradValue } from "./optim/clip.js";
export type { ClipGradNormOptions } from "./optim/clip.js";
// Adagrad, RMSprop, Adadelta, Adamax, NAdam, RAdam, Lion
export { Adagrad } from "./optim/adagrad.js";
export type { AdagradOptions } from "./optim/adagrad.js";
export { RMSprop } from "./optim/rmsprop.js";
export type { RMSpropOptions } from "./optim/rmsprop.js";
export { Adadelta } from "./optim/adadelta.js";
export type { AdadeltaOptions } from "./optim/adadelta.js";
export { Adamax } from "./optim/adamax.js";
export type { AdamaxOptions } from "./optim/adamax.js";
export { NAdam } from "./optim/nadam.js";
export type { NAdamOptions } from "./optim/nadam.js";
export { RAdam } from "./optim/radam.js";
export type { RAdamOptions } from "./optim/radam.js";
export { Lion } from "./optim/lion.js";
export type { LionOptions } from "./optim/lion.js";
// FTRL-Proximal
export { Ftrl } from "./optim/ftrl.js";
export type { FtrlOptions } from "./optim/ftrl.js";
// Factored second moments and layer-wise trust ratios
export { Adafactor } from "./optim/adafactor.js";
export type { AdafactorOptions } from "./optim/adafactor.js";
export { LAMB } from "./optim/lamb.js";
export type { LAMBOptions } from "./optim/lamb.js";

// Learning-rate schedulers
export { LRScheduler } from "./schedule/scheduler.js";
export type { SchedulableOptimizer, SchedulableParamGroup, SchedulerStateDict, LastEpochOption } from "./schedule/scheduler.js";
export { StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR } from "./schedule/step.js";
export type { StepLROptions, MultiStepLROptions, ConstantLROptions, LinearLROptions, ExponentialLROptions, PolynomialLROptions } from "./schedule/step.js";
export { CosineAnnealingLR, CosineAnnealingWarmRestarts } from "./schedule/cosine.js";
export type { CosineAnnealingLROptions, CosineAnnealingWarmRestartsOptions } from "./schedule/cosine.js";
export { OneCycleLR } from "./schedule/one-cycle.js";
export type { OneCycleLROptions } from "./schedule/one-cycle.js";
export { CyclicLR } from "./schedule/cyclic.js";
export type { CyclicLROptions } from "./schedule/cyclic.js";
export { LambdaLR, MultiplicativeLR } from "./schedule/lambda.js";
export type { LambdaLROptions, MultiplicativeLROptions, LrLambda } from "./schedule/lambda.js";
export { SequentialLR, ChainedScheduler } from "./schedule/composite.js";
export type { SequentialLROptions } from "./schedule/composite.js";
export { ReduceLROnPlateau } from "./schedule/plateau.js";
export type { ReduceLROnPlateauOptions } from "./schedule/plateau.js";

// Batch normalisation
export { batchNormForward, batchNormBackward } from "./ops/batchnorm.js";
export type {
  BatchNormLayout, BatchNormForwardOptions, BatchNormForwardResult, BatchNormBackwardOptions, BatchNormBackwardResult,
} from "./ops/batchnorm.js";
export { BatchNorm } from "./nn/batchnorm-layer.js";
export type { BatchNormOptions, BatchNormCallOptions } from "./nn/batchnorm-layer.js";

// GEMM
export { matmul } from "./ops/matmul.js";
export type { MatmulOptions } from "./ops/matmul.js";

// Exponential moving average of weights
export { EMA } from "./optim/ema.js";
export type { EMAOptions, EMAStateDict } from "./optim/ema.js";

// Feature scaling
export { fitScaler, applyScaler, invertScaler } from "./data/scaler.js";
export type { Scaler, FittedScaler, ScalerKind, FitScalerOptions, ApplyScalerOptions } from "./data/scaler.js";
// ADOPT, Schedule-Free AdamW, Muon
export { ADOPT } from "./optim/adopt.js";
export type { ADOPTOptions } from "./optim/adopt.js";
export { ScheduleFreeAdamW } from "./optim/schedulefree.js";
export type { ScheduleFreeAdamWOptions, ScheduleFreeStateDict } from "./optim/schedulefree.js";
export { Muon } from "./optim/muon.js";
export type { MuonOptions } from "./optim/muon.js";

// Threads: the same calls split across worker threads
export { initThreads, terminateThreads } from "./threads/api.js";
/** @internal For tests and benchmarks: the loaded pool module. */
export { threadsInternal } from "./threads/api.js";
