import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import { checkBoolean, checkNonNegative } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { ParamState, Slice, StepScalars } from "./types.js";

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
  /**
   * Proximal L1 strength (TensorFlow's ProximalAdagrad): after the step,
   * p ← sign(p)·max(|p| − lr_eff·l1, 0) with the element's step size lr_eff = clr/(√stateSum + eps),
   * so small weights become exactly 0. Default 0.
   */
  l1: number;
}

const ADAGRAD_DEFAULTS: AdagradOptions = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, l1: 0 };
const STATE_SUM = ["stateSum"] as const;

/** Adagrad (Duchi et al.): per-element steps scaled by the root of the summed squared gradients. */
export class Adagrad extends Optimizer<AdagradOptions> {
  /** [decayed lr], refilled each step. */
  readonly #scalars: StepScalars = new Float64Array(1);

  constructor(params: Parameter[] | ParamGroupInput<AdagradOptions>[], options?: Partial<AdagradOptions> & AccumulateOption) {
    super(params, options, ADAGRAD_DEFAULTS);
  }

  /** @internal */
  protected validateGroup(group: AdagradOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    if (!(typeof group.lrDecay === "number" && group.lrDecay >= 0 && group.lrDecay < Infinity)) checkNonNegative(prefix, "lrDecay", group.lrDecay);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    if (!(typeof group.initialAccumulatorValue === "number" && group.initialAccumulatorValue >= 0 && group.initialAccumulatorValue < Infinity)) checkNonNegative(prefix, "initialAccumulatorValue", group.initialAccumulatorValue);
    if (!(typeof group.eps === "number" && group.eps >= 0 && group.eps < Infinity)) checkNonNegative(prefix, "eps", group.eps);
    checkBoolean(prefix, "maximize", group.maximize);
    if (!(typeof group.l1 === "number" && group.l1 >= 0 && group.l1 < Infinity)) checkNonNegative(prefix, "l1", group.l1);
  }

  /** @internal */
  protected stateBufferNames(): readonly string[] {
    return STATE_SUM;
  }

  /** @internal */
  protected override initialStateValue(_buffer: string, group: ParamGroup<AdagradOptions>): number {
    return group.initialAccumulatorValue;
  }

  /** @internal */
  protected override prepareStep(group: ParamGroup<AdagradOptions>, state: ParamState): StepScalars {
    this.#scalars[0] = group.lr / (1 + (state.step - 1) * group.lrDecay);
    return this.#scalars;
  }

  /** @internal One kernel call over the group's table. */
  protected override multiTensor(): boolean {
    return true;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<AdagradOptions>, _state: ParamState, scalars: StepScalars): void {
    const s = stepScalars();
    s[0] = scalars[0]!; s[1] = group.eps; s[2] = group.weightDecay; s[3] = group.l1;
    kernels().adagradStep(slice.param, slice.grad, slice.buffers[0]!, slice.length, group.maximize);
  }
}
