// One entry per optimizer: what tests, runtime conformance data and docs are generated from or
// checked against (test/optim/spec.test.ts checks every field against the implementation).
//   name       the class exported by simdopt
//   source     the published algorithm the float64 reference follows
//   defaults   the options a group starts from (PyTorch's, unless said otherwise)
//   buffers    [options, state buffer names a parameter keeps under them, its shape (default
//              [2, 3])] (parameter-shaped unless the class declares another layout)
//   bad        [options, error class, the exact message]: rejected before anything changes
//   reference  the float64 reference (test/reference/) the kernels are compared with
//   mistakes   the deliberately wrong variants of that reference the kernels must disagree with
//   bench      the rows of bench/optim.mjs that time it against a plain-JS loop
//   variants   [label, options] the machinery tests (state dicts, masks, rows, guards; see
//              factories.ts) and the allocation probe run it under
//   ownTests   instead of variants, for an optimizer that refuses row steps (statistics per
//              tensor, which the shared machinery tests mix in everywhere): the test file that
//              covers its state dicts, masks, guards and bad input (Adafactor, LAMB and ADOPT refuse rows;
//              Muon takes 2-D parameters only; ScheduleFreeAdamW needs train() first)
// Plain JS (not TypeScript) so that the .mjs scripts (conformance data, docs table) import it.

// Reduced-precision moments (stateDtype): bfloat16 bit patterns, or int8 codes with a float32
// absmax per 256 elements (test/optim/state-dtype.test.ts has their reference and wrong variants).
const ADAM_LOWP = [
  [{ stateDtype: "bfloat16" }, ["firstMomentBf16", "secondMomentBf16"]],
  [{ stateDtype: "int8" }, ["firstMomentCodes", "firstMomentAbsmax", "secondMomentCodes", "secondMomentAbsmax"]],
];
const LOWP_BAD = [[{ stateDtype: "float16" }, RangeError, "simdopt: stateDtype must be one of \"float32\", \"bfloat16\", \"int8\", got \"float16\" (string)"], [{ amsgrad: true, stateDtype: "int8" }, RangeError, "simdopt: amsgrad needs stateDtype \"float32\" (its running maximum would be quantised), got stateDtype \"int8\""]];

export const OPTIMIZERS = [
  {
    name: "SGD", source: "torch.optim.SGD",
    defaults: { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, l1: 0 },
    buffers: [[{}, []], [{ momentum: 0.9 }, ["momentumBuffer"]], [{ l1: 0.1 }, []]],
    bad: [[{ lr: -1 }, RangeError, "simdopt: lr must be a finite number ≥ 0, got -1"], [{ nesterov: true }, RangeError, "simdopt: nesterov requires momentum > 0 and dampening 0 (got momentum 0, dampening 0)"], [{ nesterov: true, momentum: 0.9, dampening: 0.1 }, RangeError, "simdopt: nesterov requires momentum > 0 and dampening 0 (got momentum 0.9, dampening 0.1)"], [{ maximize: 1 }, TypeError, "simdopt: maximize must be a boolean (true or false), got 1"], [{ l1: -1 }, RangeError, "simdopt: l1 must be a finite number ≥ 0, got -1"]],
    reference: "sgd-adam.ts SGDReference; l1: proximal.ts ProximalSGDReference", mistakes: ["thresholdBeforeStep", "subgradient"], bench: ["SGD momentum 0.9"],
    variants: [["SGD", { lr: 0.1, weightDecay: 0.01 }], ["SGD momentum+dampening", { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 }],
      ["SGD nesterov maximize", { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01, maximize: true }], ["SGD l1 momentum", { lr: 0.05, momentum: 0.9, l1: 0.05 }]],
  },
  {
    name: "Adam", source: "torch.optim.Adam",
    defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, stateDtype: "float32" },
    buffers: [[{}, ["firstMoment", "secondMoment"]], [{ amsgrad: true }, ["firstMoment", "secondMoment", "maxSecondMoment"]], ...ADAM_LOWP],
    bad: [[{ betas: [0.9, 1] }, RangeError, "simdopt: betas[1] must be in [0, 1), got 1"], [{ eps: -1 }, RangeError, "simdopt: eps must be a finite number ≥ 0, got -1"], ...LOWP_BAD],
    reference: "sgd-adam.ts AdamReference", mistakes: [], bench: ["Adam"],
    variants: [["Adam", { lr: 0.01, weightDecay: 0.1 }], ["Adam amsgrad maximize", { lr: 0.01, amsgrad: true, maximize: true }]],
  },
  {
    name: "AdamW", source: "torch.optim.AdamW",
    defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, stateDtype: "float32" },
    buffers: [[{}, ["firstMoment", "secondMoment"]], [{ amsgrad: true }, ["firstMoment", "secondMoment", "maxSecondMoment"]], ...ADAM_LOWP],
    bad: [[{ weightDecay: -1 }, RangeError, "simdopt: weightDecay must be a finite number ≥ 0, got -1"], ...LOWP_BAD],
    reference: "sgd-adam.ts AdamReference", mistakes: [], bench: ["AdamW"],
    variants: [["AdamW", { lr: 0.01, weightDecay: 0.1 }], ["AdamW amsgrad", { lr: 0.01, amsgrad: true }]],
  },
  {
    name: "Adagrad", source: "torch.optim.Adagrad",
    defaults: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, l1: 0 },
    buffers: [[{}, ["stateSum"]]],
    bad: [[{ lrDecay: -1 }, RangeError, "simdopt: lrDecay must be a finite number ≥ 0, got -1"], [{ initialAccumulatorValue: -1 }, RangeError, "simdopt: initialAccumulatorValue must be a finite number ≥ 0, got -1"], [{ l1: -0.5 }, RangeError, "simdopt: l1 must be a finite number ≥ 0, got -0.5"]],
    reference: "optimizers-extra.ts; l1: proximal.ts ProximalAdagradReference",
    mistakes: ["epsInsideSqrt", "lrDecayCountsFromOne", "accumulatorStartsAtZero", "decoupledInsteadOfL2", "maximizeAfterWeightDecay", "thresholdBeforeStep", "plainLr"],
    bench: ["Adagrad"],
    variants: [["Adagrad", { lr: 0.05, lrDecay: 0.01, weightDecay: 0.01, initialAccumulatorValue: 0.1 }], ["Adagrad l1", { lr: 0.05, initialAccumulatorValue: 0.1, l1: 0.05 }]],
  },
  {
    name: "RMSprop", source: "torch.optim.RMSprop (centered variance clamped at 0)",
    defaults: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false },
    buffers: [[{}, ["squareAvg"]], [{ centered: true, momentum: 0.9 }, ["squareAvg", "gradAvg", "momentumBuffer"]]],
    bad: [[{ alpha: -1 }, RangeError, "simdopt: alpha must be a finite number ≥ 0, got -1"], [{ centered: "yes" }, TypeError, "simdopt: centered must be a boolean (true or false), got \"yes\" (string)"]],
    reference: "optimizers-extra.ts", mistakes: ["epsInsideSqrt", "centeredWithoutMean", "momentumBeforeScaling", "alphaSwapped", "decoupledInsteadOfL2"],
    bench: ["RMSprop", "RMSprop centered, momentum 0.9"],
    variants: [["RMSprop centered momentum", { lr: 0.01, momentum: 0.9, centered: true, weightDecay: 0.01 }], ["RMSprop", { lr: 0.01 }]],
  },
  {
    name: "Adadelta", source: "torch.optim.Adadelta",
    defaults: { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false },
    buffers: [[{}, ["squareAvg", "accDelta"]]],
    bad: [[{ rho: 2 }, RangeError, "simdopt: rho must be in [0, 1], got 2"]],
    reference: "optimizers-extra.ts", mistakes: ["epsOutsideSqrt", "ignoresLr", "decoupledInsteadOfL2", "maximizeAfterWeightDecay"],
    bench: ["Adadelta"],
    variants: [["Adadelta", { lr: 1, weightDecay: 0.01 }]],
  },
  {
    name: "Adamax", source: "torch.optim.Adamax",
    defaults: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false },
    buffers: [[{}, ["firstMoment", "infinityNorm"]]],
    bad: [[{ betas: [-0.1, 0.9] }, RangeError, "simdopt: betas[0] must be in [0, 1), got -0.1"]],
    reference: "optimizers-extra.ts", mistakes: ["epsOutsideMax", "noBiasCorrection", "decoupledInsteadOfL2", "maximizeAfterWeightDecay"],
    bench: ["Adamax"],
    variants: [["Adamax", { lr: 0.01, weightDecay: 0.01 }]],
  },
  {
    name: "NAdam", source: "torch.optim.NAdam",
    defaults: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false, maximize: false },
    buffers: [[{}, ["firstMoment", "secondMoment"]]],
    bad: [[{ momentumDecay: -1 }, RangeError, "simdopt: momentumDecay must be a finite number ≥ 0, got -1"]],
    reference: "optimizers-extra.ts",
    mistakes: ["epsInsideSqrt", "noBiasCorrection2", "muInsteadOfMuNext", "constantMomentumSchedule", "noNesterovLookahead", "swappedWeightDecayForms"],
    bench: ["NAdam"],
    variants: [["NAdam", { lr: 0.01, weightDecay: 0.01 }], ["NAdam decoupled", { lr: 0.01, weightDecay: 0.01, decoupledWeightDecay: true }]],
  },
  {
    name: "RAdam", source: "torch.optim.RAdam",
    defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, maximize: false },
    buffers: [[{}, ["firstMoment", "secondMoment"]]],
    bad: [[{ decoupledWeightDecay: 0 }, TypeError, "simdopt: decoupledWeightDecay must be a boolean (true or false), got 0"]],
    reference: "optimizers-extra.ts",
    mistakes: ["noRectification", "epsAfterBiasCorrection", "unadaptedStepWithoutBiasCorrection", "swappedWeightDecayForms", "maximizeAfterWeightDecay"],
    bench: ["RAdam"],
    variants: [["RAdam", { lr: 0.01, weightDecay: 0.01 }], ["RAdam decoupled", { lr: 0.01, weightDecay: 0.01, decoupledWeightDecay: true }]],
  },
  {
    name: "Lion", source: "Chen et al. 2023 (lion-pytorch)",
    defaults: { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false, stateDtype: "float32" },
    buffers: [[{}, ["firstMoment"]], [{ stateDtype: "bfloat16" }, ["firstMomentBf16"]], [{ stateDtype: "int8" }, ["firstMomentCodes", "firstMomentAbsmax"]]],
    bad: [[{ betas: [0.9, 1] }, RangeError, "simdopt: betas[1] must be in [0, 1), got 1"], [{ stateDtype: "float16" }, RangeError, "simdopt: stateDtype must be one of \"float32\", \"bfloat16\", \"int8\", got \"float16\" (string)"]],
    reference: "optimizers-extra.ts", mistakes: ["swappedBetas", "signOfUpdatedMomentum", "l2InsteadOfDecoupled"],
    bench: ["Lion"],
    variants: [["Lion", { lr: 1e-3, weightDecay: 0.1 }]],
  },
  {
    name: "Ftrl", source: "keras.optimizers.Ftrl (Keras 3)",
    defaults: { lr: 1e-3, lrPower: -0.5, initialAccumulatorValue: 0.1, l1: 0, l2: 0, l2Shrinkage: 0, beta: 0 },
    buffers: [[{}, ["accumulator", "linear"]]],
    bad: [[{ lr: 0 }, RangeError, "simdopt: lr must be a finite number > 0, got 0"], [{ lrPower: 0.5 }, RangeError, "simdopt: lrPower must be ≤ 0, got 0.5"], [{ l2Shrinkage: -1 }, RangeError, "simdopt: l2Shrinkage must be a finite number ≥ 0, got -1"]],
    reference: "proximal.ts FtrlReference", mistakes: ["shrinkageInAccumulator", "noBeta", "sigmaFromNew", "l1Subtracted"],
    bench: ["Ftrl l1 0.01"],
    variants: [["Ftrl", { lr: 0.05, l1: 0.01, l2: 0.01, l2Shrinkage: 0.01, beta: 0.1 }], ["Ftrl lrPower -0.7", { lr: 0.05, lrPower: -0.7, l1: 0.01 }]],
  },
  {
    name: "Adafactor", source: "torch.optim.Adafactor (factored for ≥ 2-D parameters)",
    defaults: { lr: 1e-2, beta2Decay: -0.8, eps: [null, 1e-3], d: 1, weightDecay: 0, maximize: false },
    // One statistic per row and per column of a matrix; a full second moment for a vector.
    buffers: [[{}, ["rowVar", "colVar"]], [{}, ["variance"], [6]]],
    bad: [[{ beta2Decay: 0.1 }, RangeError, "simdopt: beta2Decay must be a finite number ≤ 0, got 0.1"], [{ d: 0.5 }, RangeError, "simdopt: d must be a number ≥ 1 (Infinity: no clipping), got 0.5"], [{ eps: [null] }, TypeError, "simdopt: eps must be a pair [eps1 (null or ≥ 0), eps2 (≥ 0)], got [null]"]],
    reference: "adafactor-lamb.ts",
    mistakes: ["rmsAfterDecay", "noUpdateClipping", "swappedLerpWeight", "relativeStepIgnoresLr", "sumsInsteadOfMeans", "epsNotSquared"],
    bench: ["Adafactor 1000×1000", "Adafactor vector"], ownTests: "test/optim/adafactor-lamb-state.test.ts",
  },
  {
    name: "LAMB", source: "Keras 3 keras.optimizers.Lamb",
    defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0 },
    buffers: [[{}, ["firstMoment", "secondMoment"]]],
    bad: [[{ betas: [0.9, 1] }, RangeError, "simdopt: betas[1] must be in [0, 1), got 1"], [{ maximize: true }, TypeError, "simdopt: LAMB options has no option \"maximize\" (options: lr, betas, eps, weightDecay, accumulate)"]],
    reference: "adafactor-lamb.ts", mistakes: ["epsInsideSqrt", "noBiasCorrection", "normBeforeDecay", "decayInUpdate", "noTrustRatio"],
    bench: ["LAMB"], ownTests: "test/optim/adafactor-lamb-state.test.ts",
  },
  {
    name: "ADOPT", source: "Taniguchi et al. 2024 (adopt.py)",
    defaults: { lr: 1e-3, betas: [0.9, 0.9999], eps: 1e-6, weightDecay: 0, decoupled: false },
    buffers: [[{}, ["firstMoment", "secondMoment"]]],
    bad: [[{ betas: [0.9, 1] }, RangeError, "simdopt: betas[1] must be in [0, 1), got 1"], [{ decoupled: 1 }, TypeError, "simdopt: decoupled must be a boolean (true or false), got 1"]],
    reference: "optimizers-more.ts ADOPTReference",
    mistakes: ["clipByIncrementedStep", "currentSecondMoment", "firstStepUpdates", "epsAdded", "swappedWeightDecayForms"],
    bench: ["ADOPT"],
    variants: [["ADOPT", { lr: 0.01, weightDecay: 0.1 }], ["ADOPT decoupled", { lr: 0.01, weightDecay: 0.1, decoupled: true }]],
    ownTests: "test/optim/more-behaviour.test.ts",
  },
  {
    name: "ScheduleFreeAdamW", source: "schedulefree.AdamWScheduleFree",
    defaults: { lr: 2.5e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, warmupSteps: 0, rPower: 0, weightLrPower: 2 },
    buffers: [[{}, ["z", "secondMoment"]]],
    bad: [[{ warmupSteps: 1.5 }, RangeError, "simdopt: warmupSteps must be a finite integer ≥ 0, got 1.5"], [{ betas: [0, 0.9] }, RangeError, "simdopt: betas[0] must be > 0 for ScheduleFreeAdamW (eval() divides by it), got 0"], [{ rPower: NaN }, TypeError, "simdopt: rPower must be a finite number, got NaN"]],
    reference: "optimizers-more.ts ScheduleFreeReference",
    mistakes: ["noBiasCorrection2", "warmupCountsFromZero", "decayAtZ", "yStepWithoutBeta1", "uniformAverage"],
    bench: ["ScheduleFreeAdamW"],
    variants: [["ScheduleFreeAdamW", { lr: 0.01, weightDecay: 0.01, warmupSteps: 10 }]],
    ownTests: "test/optim/more-behaviour.test.ts",
  },
  {
    name: "Muon", source: "torch.optim.Muon",
    defaults: { lr: 1e-3, weightDecay: 0.1, momentum: 0.95, nesterov: true, nsCoefficients: [3.4445, -4.775, 2.0315], eps: 1e-7, nsSteps: 5, adjustLrFn: "original" },
    buffers: [[{}, ["momentumBuffer"]]],
    bad: [[{ nsSteps: 0 }, RangeError, "simdopt: nsSteps must be an integer in [1, 99], got 0"], [{ adjustLrFn: "none" }, RangeError, "simdopt: adjustLrFn must be one of \"original\", \"match_rms_adamw\", got \"none\" (string)"], [{ nsCoefficients: [1, 2] }, TypeError, "simdopt: nsCoefficients must be three numbers [a, b, c], got [1, 2]"],
      [{ nsCoefficients: [1, Infinity, 2] }, RangeError, "simdopt: nsCoefficients[1] must be a finite number, got Infinity"],
      [{ nsCoefficients: [1, 2, "3"] }, TypeError, 'simdopt: nsCoefficients[2] must be a finite number, got "3" (string)'],
      [{ nsCoefficients: [NaN, 2, 3] }, TypeError, "simdopt: nsCoefficients[0] must be a finite number, got NaN"],
      [{ nsSteps: 100 }, RangeError, "simdopt: nsSteps must be an integer in [1, 99], got 100"]],
    reference: "optimizers-more.ts MuonReference",
    mistakes: ["noNesterov", "adjustByColsOverRows", "decayWithAdjustedLr", "oneFewerIteration"],
    bench: ["Muon 1024×1024", "Muon 256×256"],
    variants: [["Muon", { lr: 0.02 }]],
    ownTests: "test/optim/more-behaviour.test.ts",
  },
];

/** The defaults by optimizer name. */
export const DEFAULTS = Object.fromEntries(OPTIMIZERS.map((entry) => [entry.name, entry.defaults]));

/** The docs table (docs/optimizers.md), one row per optimizer. */
export function optimizerTable() {
  const format = (value) => (Array.isArray(value) ? `[${value.map(String).join(", ")}]` : String(value));
  const rows = OPTIMIZERS.map((entry) => {
    const defaults = Object.entries(entry.defaults).map(([key, value]) => `${key} ${format(value)}`).join(", ");
    const buffers = [...new Set(entry.buffers.flatMap(([, names]) => names))].join(", ") || "none";
    return `| \`${entry.name}\` | ${entry.source} | ${defaults} | ${buffers} | ${entry.mistakes.length} |`;
  });
  return [
    "# Optimizers",
    "",
    "Generated from `test/optim/spec.mjs` by `node scripts/optimizer-table.mjs`; do not edit by hand.",
    "",
    "| Class | Algorithm | Defaults | State buffers (per parameter) | Wrong variants tested |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
    "Every optimizer also takes `accumulate: k` (average the gradients of k `step()` calls before one",
    "update, as optax MultiSteps). `EMA` keeps an exponential moving average of any parameters",
    "(`update`, `swap`, `copyTo`, state dicts), as PyTorch's `AveragedModel` with `get_ema_multi_avg_fn`.",
    "",
    "`Adam`, `AdamW` and `Lion` take `stateDtype`: `\"bfloat16\"` keeps each moment as bfloat16 bit patterns",
    "(`<moment>Bf16`, Uint16Array, rounded to nearest even), `\"int8\"` as 8-bit Adam's blockwise dynamic",
    "codes (`<moment>Codes`, Uint8Array) with one float32 absmax per 256 elements (`<moment>Absmax`).",
    "Reference and wrong variants (truncation, block size, code map): `test/reference/lowp.ts`.",
    "",
  ].join("\n");
}
