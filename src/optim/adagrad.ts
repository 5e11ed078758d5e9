import { kernels } from "../bindings/instance.js";
import type { Parameter } from "../parameter.js";
import { checkBoolean, checkNonNegative } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput, type ParamState, type Slice, type StepScalars } from "./optimizer.js";

/** Options of Adagrad (torch.optim.Adagrad). */
export interface AdagradOptions {
  /** Learning rate. Default 1e-2. */
  lr: number;
  /** Learning-rate decay: step t uses lr / (1 + (t − 1)·lrDecay). Default 0. */
  lrDecay: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay: number;
  /** The value the sum of squared gradients starts from (read when the state is created). Default 0. */
  initialAccumulatorValue: number;
  /** Added to the denominator after the square root. Default 1e-10. */
  eps: number;
  /** Maximise the objective instead of minimising it. Default false. */
  maximize: boolean;
}

const ADAGRAD_DEFAULTS: AdagradOptions = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false };
const STATE_SUM = ["stateSum"] as const;

/** Adagrad (Duchi et al.): per-element steps scaled by the root of the summed squared gradients. */
export class Adagrad extends Optimizer<AdagradOptions> {
  /** [decayed lr], refilled each step. */
  readonly #scalars: StepScalars = new Float64Array(1);

  constructor(params: Parameter[] | ParamGroupInput<AdagradOptions>[], options?: Partial<AdagradOptions> & AccumulateOption) {
    super(params, options, ADAGRAD_DEFAULTS);
  }

  protected validateGroup(group: AdagradOptions, prefix: string): void {
    checkNonNegative(prefix, "lr", group.lr);
    checkNonNegative(prefix, "lrDecay", group.lrDecay);
    checkNonNegative(prefix, "weightDecay", group.weightDecay);
    checkNonNegative(prefix, "initialAccumulatorValue", group.initialAccumulatorValue);
    checkNonNegative(prefix, "eps", group.eps);
    checkBoolean(prefix, "maximize", group.maximize);
  }

  protected stateBufferNames(): readonly string[] {
    return STATE_SUM;
  }

  protected override initialStateValue(_buffer: string, group: ParamGroup<AdagradOptions>): number {
    return group.initialAccumulatorValue;
  }

  protected override prepareStep(group: ParamGroup<AdagradOptions>, state: ParamState): StepScalars {
    this.#scalars[0] = group.lr / (1 + (state.step - 1) * group.lrDecay);
    return this.#scalars;
  }

  protected update(slice: Slice, group: ParamGroup<AdagradOptions>, _state: ParamState, scalars: StepScalars): void {
    kernels().adagradStep(slice.param, slice.grad, slice.buffers[0]!, slice.length, scalars[0]!, group.eps, group.weightDecay, group.maximize);
  }
}
