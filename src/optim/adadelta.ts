import { kernels } from "../bindings/instance.js";
import type { Parameter } from "../parameter.js";
import { checkBoolean, checkNonNegative, checkUnitInterval } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { Slice } from "./types.js";

/** Options of Adadelta (torch.optim.Adadelta). */
export interface AdadeltaOptions {
  /** Scale applied to the delta before it is subtracted. Default 1.0. */
  lr: number;
  /** Decay of the running averages of squared gradients and squared updates, in [0, 1]. Default 0.9. */
  rho: number;
  /** Added inside both square roots. Default 1e-6. */
  eps: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay: number;
  /** Maximise the objective instead of minimising it. Default false. */
  maximize: boolean;
}

const ADADELTA_DEFAULTS: AdadeltaOptions = { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false };
const AVERAGES = ["squareAvg", "accDelta"] as const;

/** Adadelta (Zeiler): steps scaled by the ratio of running RMS of updates and of gradients. */
export class Adadelta extends Optimizer<AdadeltaOptions> {
  constructor(params: Parameter[] | ParamGroupInput<AdadeltaOptions>[], options?: Partial<AdadeltaOptions> & AccumulateOption) {
    super(params, options, ADADELTA_DEFAULTS);
  }

  /** @internal */
  protected validateGroup(group: AdadeltaOptions, prefix: string): void {
    checkNonNegative(prefix, "lr", group.lr);
    checkUnitInterval(prefix, "rho", group.rho, true);
    checkNonNegative(prefix, "eps", group.eps);
    checkNonNegative(prefix, "weightDecay", group.weightDecay);
    checkBoolean(prefix, "maximize", group.maximize);
  }

  /** @internal */
  protected stateBufferNames(): readonly string[] {
    return AVERAGES;
  }

  /** @internal One kernel call over the group's table. */
  protected override multiTensor(): boolean {
    return true;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<AdadeltaOptions>): void {
    kernels().adadeltaStep(slice.param, slice.grad, slice.buffers[0]!, slice.buffers[1]!, slice.length,
      group.lr, group.rho, group.eps, group.weightDecay, group.maximize);
  }
}
