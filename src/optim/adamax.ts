import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import { checkBetas, checkBoolean, checkNonNegative } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { ParamState, Slice, StepScalars } from "./types.js";

/** Options of Adamax (torch.optim.Adamax). */
export interface AdamaxOptions {
  /** Learning rate. Default 2e-3. */
  lr: number;
  /** Decay rates [beta1, beta2] of the first moment and of the infinity norm. Default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to |g| inside the maximum. Default 1e-8. */
  eps: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay: number;
  /** Maximise the objective instead of minimising it. Default false. */
  maximize: boolean;
}

const ADAMAX_DEFAULTS: AdamaxOptions = { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false };
const MOMENTS = ["firstMoment", "infinityNorm"] as const;

/** Adamax (Kingma & Ba): Adam with the infinity norm in place of the second moment. */
export class Adamax extends Optimizer<AdamaxOptions> {
  /** [lr / biasCorrection1], refilled each step. */
  readonly #scalars: StepScalars = new Float64Array(1);

  constructor(params: Parameter[] | ParamGroupInput<AdamaxOptions>[], options?: Partial<AdamaxOptions> & AccumulateOption) {
    super(params, options, ADAMAX_DEFAULTS);
  }

  /** @internal */
  protected validateGroup(group: AdamaxOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    checkBetas(prefix, "betas", group.betas);
    if (!(typeof group.eps === "number" && group.eps >= 0 && group.eps < Infinity)) checkNonNegative(prefix, "eps", group.eps);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    checkBoolean(prefix, "maximize", group.maximize);
  }

  /** @internal */
  protected stateBufferNames(): readonly string[] {
    return MOMENTS;
  }

  /** @internal */
  protected override prepareStep(group: ParamGroup<AdamaxOptions>, state: ParamState): StepScalars {
    this.#scalars[0] = group.lr / (1 - group.betas[0] ** state.step);
    return this.#scalars;
  }

  /** @internal One kernel call over the group's table. */
  protected override multiTensor(): boolean {
    return true;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<AdamaxOptions>, _state: ParamState, scalars: StepScalars): void {
    const beta1 = group.betas[0];
    const beta2 = group.betas[1];
    const s = stepScalars();
    s[0] = beta1; s[1] = beta2; s[2] = group.eps; s[3] = group.weightDecay; s[4] = scalars[0]!;
    kernels().adamaxStep(slice.param, slice.grad, slice.buffers[0]!, slice.buffers[1]!, slice.length, group.maximize);
  }
}
