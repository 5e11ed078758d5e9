import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import { checkBetas, checkBoolean, checkNonNegative, type NumberCheck } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { ParamState, Slice, StepScalars } from "./types.js";

/** Options of NAdam (torch.optim.NAdam). */
export interface NAdamOptions {
  /** Learning rate. Default 2e-3. */
  lr: number;
  /** Decay rates [beta1, beta2] of the first and second moment estimates. Default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to the denominator after the square root. Default 1e-8. */
  eps: number;
  /** Weight decay: an L2 penalty added to the gradient, or decoupled (see below). Default 0. */
  weightDecay: number;
  /** ψ of the momentum schedule μ_t = β1·(1 − ½·0.96^(t·ψ)). Default 4e-3. */
  momentumDecay: number;
  /** Decay the weights as AdamW does (p ← p·(1 − lr·weightDecay)) instead of the L2 form. Default false. */
  decoupledWeightDecay: boolean;
  /** Maximise the objective instead of minimising it. Default false. */
  maximize: boolean;
}

const NADAM_DEFAULTS: NAdamOptions = {
  lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false, maximize: false,
};
const MOMENTS = ["firstMoment", "secondMoment"] as const;
const MU_PRODUCT = ["muProduct"] as const;
const UNIT: NumberCheck = { min: 0, max: 1 };

/**
 * NAdam (Dozat): Adam with Nesterov momentum under a warming momentum schedule. The running
 * product Π μ_i is per-parameter state (`muProduct`, the scalar state), carried by stateDict.
 */
export class NAdam extends Optimizer<NAdamOptions> {
  /** [1/√biasCorrection2, gradient coefficient, moment coefficient], refilled each step. */
  readonly #scalars: StepScalars = new Float64Array(3);

  constructor(params: Parameter[] | ParamGroupInput<NAdamOptions>[], options?: Partial<NAdamOptions> & AccumulateOption) {
    super(params, options, NADAM_DEFAULTS);
  }

  /** @internal */
  protected validateGroup(group: NAdamOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    checkBetas(prefix, "betas", group.betas);
    if (!(typeof group.eps === "number" && group.eps >= 0 && group.eps < Infinity)) checkNonNegative(prefix, "eps", group.eps);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    if (!(typeof group.momentumDecay === "number" && group.momentumDecay >= 0 && group.momentumDecay < Infinity)) checkNonNegative(prefix, "momentumDecay", group.momentumDecay);
    checkBoolean(prefix, "decoupledWeightDecay", group.decoupledWeightDecay);
    checkBoolean(prefix, "maximize", group.maximize);
  }

  /** @internal */
  protected stateBufferNames(): readonly string[] {
    return MOMENTS;
  }

  /** @internal */
  protected override scalarStateNames(): readonly string[] {
    return MU_PRODUCT;
  }

  /** @internal Each μ_i is in [0, β1·(1 − ½·0.96^…)] ⊂ [0, 1), so their product is in [0, 1]. */
  protected override scalarStateBounds(): NumberCheck {
    return UNIT;
  }

  /** @internal Π μ_i over no steps yet. */
  protected override initialScalarValue(): number {
    return 1;
  }

  /** @internal */
  protected override prepareStep(group: ParamGroup<NAdamOptions>, state: ParamState): StepScalars {
    const beta1 = group.betas[0];
    const step = state.step;
    const mu = beta1 * (1 - 0.5 * 0.96 ** (step * group.momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * group.momentumDecay));
    const muProduct = state.scalars[0]! * mu;
    state.scalars[0] = muProduct;
    const scalars = this.#scalars;
    scalars[0] = 1 / Math.sqrt(1 - group.betas[1] ** step);
    scalars[1] = (group.lr * (1 - mu)) / (1 - muProduct);
    scalars[2] = (group.lr * muNext) / (1 - muProduct * muNext);
    return scalars;
  }

  /** @internal One kernel call over the group's table. */
  protected override multiTensor(): boolean {
    return true;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<NAdamOptions>, _state: ParamState, scalars: StepScalars): void {
    const beta1 = group.betas[0];
    const beta2 = group.betas[1];
    const decoupled = group.decoupledWeightDecay;
    const s = stepScalars();
    s[0] = beta1; s[1] = beta2; s[2] = group.eps; s[3] = decoupled ? 0 : group.weightDecay;
    s[4] = decoupled ? 1 - group.lr * group.weightDecay : 1; s[5] = scalars[0]!; s[6] = scalars[1]!; s[7] = scalars[2]!;
    kernels().nadamStep(slice.param, slice.grad, slice.buffers[0]!, slice.buffers[1]!, slice.length, group.maximize);
  }
}
