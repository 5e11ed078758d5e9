import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import { checkBetas, checkBoolean, checkNonNegative } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { ParamState, Slice, StepScalars } from "./types.js";

/** Options of RAdam (torch.optim.RAdam). */
export interface RAdamOptions {
  /** Learning rate. Default 1e-3. */
  lr: number;
  /** Decay rates [beta1, beta2] of the first and second moment estimates. Default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to √v in the adaptive term. Default 1e-8. */
  eps: number;
  /** Weight decay: an L2 penalty added to the gradient, or decoupled (see below). Default 0. */
  weightDecay: number;
  /** Decay the weights as AdamW does (p ← p·(1 − lr·weightDecay)) instead of the L2 form. Default false. */
  decoupledWeightDecay: boolean;
  /** Maximise the objective instead of minimising it. Default false. */
  maximize: boolean;
}

const RADAM_DEFAULTS: RAdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, maximize: false };
const MOMENTS = ["firstMoment", "secondMoment"] as const;

/**
 * RAdam (Liu et al.): Adam whose adaptive step is switched on, and rectified, only once the
 * variance of the adaptive learning rate is tractable (ρ_t > 5); before that, momentum SGD.
 */
export class RAdam extends Optimizer<RAdamOptions> {
  /** [step size, 1 when rectified else 0], refilled each step. */
  readonly #scalars: StepScalars = new Float64Array(2);

  constructor(params: Parameter[] | ParamGroupInput<RAdamOptions>[], options?: Partial<RAdamOptions> & AccumulateOption) {
    super(params, options, RADAM_DEFAULTS);
  }

  /** @internal */
  protected validateGroup(group: RAdamOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    checkBetas(prefix, "betas", group.betas);
    if (!(typeof group.eps === "number" && group.eps >= 0 && group.eps < Infinity)) checkNonNegative(prefix, "eps", group.eps);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    checkBoolean(prefix, "decoupledWeightDecay", group.decoupledWeightDecay);
    checkBoolean(prefix, "maximize", group.maximize);
  }

  /** @internal */
  protected stateBufferNames(): readonly string[] {
    return MOMENTS;
  }

  /** @internal */
  protected override prepareStep(group: ParamGroup<RAdamOptions>, state: ParamState): StepScalars {
    const beta1 = group.betas[0];
    const beta2 = group.betas[1];
    const step = state.step;
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    // Maximum and current length of the approximated simple moving average.
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * step * beta2 ** step) / biasCorrection2;
    const scalars = this.#scalars;
    scalars[1] = rhoT > 5 ? 1 : 0;
    if (rhoT > 5) {
      const rectification = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
      scalars[0] = (group.lr * rectification * Math.sqrt(biasCorrection2)) / biasCorrection1;
    } else {
      scalars[0] = group.lr / biasCorrection1;
    }
    return scalars;
  }

  /** @internal One kernel call over the group's table. */
  protected override multiTensor(): boolean {
    return true;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<RAdamOptions>, _state: ParamState, scalars: StepScalars): void {
    const beta1 = group.betas[0];
    const beta2 = group.betas[1];
    const decoupled = group.decoupledWeightDecay;
    const s = stepScalars();
    s[0] = beta1; s[1] = beta2; s[2] = group.eps; s[3] = decoupled ? 0 : group.weightDecay;
    s[4] = decoupled ? 1 - group.lr * group.weightDecay : 1; s[5] = scalars[0]!;
    kernels().radamStep(slice.param, slice.grad, slice.buffers[0]!, slice.buffers[1]!, slice.length, scalars[1] === 1, group.maximize);
  }
}
