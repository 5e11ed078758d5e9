import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import { checkBoolean, checkNonNegative } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { Slice } from "./types.js";

/** Options of RMSprop (torch.optim.RMSprop). */
export interface RMSpropOptions {
  /** Learning rate. Default 1e-2. */
  lr: number;
  /** Smoothing constant of the running averages. Default 0.99. */
  alpha: number;
  /** Added to the denominator after the square root. Default 1e-8. */
  eps: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay: number;
  /** Momentum factor; 0 keeps no momentum buffer. Default 0. */
  momentum: number;
  /**
   * Normalise by the estimated variance (subtract the squared running mean of gradients). Default
   * false. The variance is clamped at 0 before its square root: unlike PyTorch, which gives NaN
   * when rounding makes it negative (gradients so small that the averages underflow).
   */
  centered: boolean;
  /** Maximise the objective instead of minimising it. Default false. */
  maximize: boolean;
}

const RMSPROP_DEFAULTS: RMSpropOptions = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false };
// Buffer lists by [centered][momentum > 0]; the kernel gets 0 for a buffer the group does not use.
const BUFFERS = [
  [["squareAvg"], ["squareAvg", "momentumBuffer"]],
  [["squareAvg", "gradAvg"], ["squareAvg", "gradAvg", "momentumBuffer"]],
] as const;

/** RMSprop (Hinton), optionally centered and with momentum, as in PyTorch. */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Parameter[] | ParamGroupInput<RMSpropOptions>[], options?: Partial<RMSpropOptions> & AccumulateOption) {
    super(params, options, RMSPROP_DEFAULTS);
  }

  /** @internal */
  protected validateGroup(group: RMSpropOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    // PyTorch bounds alpha below only (0 ≤ alpha).
    if (!(typeof group.alpha === "number" && group.alpha >= 0 && group.alpha < Infinity)) checkNonNegative(prefix, "alpha", group.alpha);
    if (!(typeof group.eps === "number" && group.eps >= 0 && group.eps < Infinity)) checkNonNegative(prefix, "eps", group.eps);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    if (!(typeof group.momentum === "number" && group.momentum >= 0 && group.momentum < Infinity)) checkNonNegative(prefix, "momentum", group.momentum);
    checkBoolean(prefix, "centered", group.centered);
    checkBoolean(prefix, "maximize", group.maximize);
  }

  /** @internal */
  protected stateBufferNames(group: ParamGroup<RMSpropOptions>): readonly string[] {
    return BUFFERS[group.centered ? 1 : 0][group.momentum > 0 ? 1 : 0];
  }

  /** @internal One kernel call over the group's table. */
  protected override multiTensor(): boolean {
    return true;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<RMSpropOptions>): void {
    const buffers = slice.buffers;
    const gradAvg = group.centered ? buffers[1]! : 0;
    const momentumBuffer = group.momentum > 0 ? buffers[group.centered ? 2 : 1]! : 0;
    const s = stepScalars();
    s[0] = group.lr; s[1] = group.alpha; s[2] = group.eps; s[3] = group.weightDecay; s[4] = group.momentum;
    kernels().rmspropStep(slice.param, slice.grad, buffers[0]!, gradAvg, momentumBuffer, slice.length, group.maximize);
  }
}
