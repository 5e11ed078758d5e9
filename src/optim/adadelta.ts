import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
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
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    if (!(typeof group.rho === "number" && group.rho >= 0 && group.rho <= 1)) checkUnitInterval(prefix, "rho", group.rho, true);
    if (!(typeof group.eps === "number" && group.eps >= 0 && group.eps < Infinity)) checkNonNegative(prefix, "eps", group.eps);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
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
    const s = stepScalars();
    s[0] = group.lr; s[1] = group.rho; s[2] = group.eps; s[3] = group.weightDecay;
    kernels().adadeltaStep(slice.param, slice.grad, slice.buffers[0]!, slice.buffers[1]!, slice.length, group.maximize);
  }
}
