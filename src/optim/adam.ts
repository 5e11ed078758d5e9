import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import { checkBetas, checkBoolean, checkNonNegative } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { ParamState, Slice, StepScalars, StateBufferLayout } from "./types.js";
import { checkStateDtype, dtypeFormat, lowpLayout, ADAM_NAMES } from "./lowp.js";
import { biasCorrection, newCorrections } from "./bias.js";

/** Options of Adam (torch.optim.Adam). */
export interface AdamOptions {
  /** Learning rate. Default 1e-3. */
  lr: number;
  /** Decay rates [beta1, beta2] of the first and second moment estimates. Default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to the denominator after the square root. Default 1e-8. */
  eps: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad). Default false. */
  amsgrad: boolean;
  /** Maximise the objective instead of minimising it. Default false. */
  maximize: boolean;
  /**
   * How the moments are stored: "float32" (default), "bfloat16" (rounded to nearest even) or
   * "int8" (blockwise dynamic quantisation as 8-bit Adam: 256 elements per float32 absmax).
   * Not with amsgrad.
   */
  stateDtype: "float32" | "bfloat16" | "int8";
}

/** Options of AdamW: as Adam, but weight decay is decoupled (p ← p·(1 − lr·weightDecay)). */
export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay. Default 1e-2. */
  weightDecay: number;
}

const ADAM_DEFAULTS: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, stateDtype: "float32" };
const ADAMW_DEFAULTS: AdamWOptions = { ...ADAM_DEFAULTS, weightDecay: 1e-2 };
const MOMENTS = ADAM_NAMES;
const MOMENTS_AMSGRAD = ["firstMoment", "secondMoment", "maxSecondMoment"] as const;

/** The shared body of Adam and AdamW; `decoupled` says where weight decay enters. */
abstract class AdamFamily extends Optimizer<AdamOptions> {
  /** @internal */
  protected abstract readonly decoupled: boolean;
  /** [stepSize, 1/√biasCorrection2], refilled each step. */
  readonly #scalars: StepScalars = new Float64Array(2);
  readonly #corrections = newCorrections();

  /** @internal */
  protected validateGroup(group: AdamOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    checkBetas(prefix, "betas", group.betas);
    if (!(typeof group.eps === "number" && group.eps >= 0 && group.eps < Infinity)) checkNonNegative(prefix, "eps", group.eps);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    checkBoolean(prefix, "amsgrad", group.amsgrad);
    checkBoolean(prefix, "maximize", group.maximize);
    if (checkStateDtype(prefix, group.stateDtype) !== "float32" && group.amsgrad) {
      throw new RangeError(`simdopt: ${prefix}amsgrad needs stateDtype "float32" (its running maximum would be quantised), got stateDtype "${group.stateDtype}"`);
    }
  }

  /** @internal */
  protected stateBufferNames(group: ParamGroup<AdamOptions>): readonly string[] {
    return group.amsgrad ? MOMENTS_AMSGRAD : MOMENTS[group.stateDtype];
  }

  /** @internal */
  protected override stateBufferLayout(name: string): StateBufferLayout {
    return lowpLayout(name);
  }

  /** @internal */
  protected override prepareStep(group: ParamGroup<AdamOptions>, state: ParamState): StepScalars {
    const corrections = this.#corrections;
    biasCorrection(corrections, group.betas, 0, state.step);
    biasCorrection(corrections, group.betas, 1, state.step);
    const scalars = this.#scalars;
    scalars[0] = group.lr / corrections[2]!;
    scalars[1] = 1 / Math.sqrt(corrections[5]!);
    return scalars;
  }

  /** @internal One kernel call over the group's table (float32 state only). */
  protected override multiTensor(group: ParamGroup<AdamOptions>): boolean {
    return group.stateDtype === "float32";
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<AdamOptions>, _state: ParamState, scalars: StepScalars): void {
    const beta1 = group.betas[0];
    const beta2 = group.betas[1];
    const l2WeightDecay = this.decoupled ? 0 : group.weightDecay;
    const paramScale = this.decoupled ? 1 - group.lr * group.weightDecay : 1;
    const buffers = slice.buffers;
    const s = stepScalars();
    s[0] = beta1; s[1] = beta2; s[2] = group.eps; s[3] = l2WeightDecay; s[4] = paramScale; s[5] = scalars[0]!; s[6] = scalars[1]!;
    if (group.stateDtype !== "float32") {
      adamLowp(slice, dtypeFormat(group.stateDtype), group.maximize);
      return;
    }
    kernels().adamStep(slice.param, slice.grad, buffers[0]!, buffers[1]!, group.amsgrad ? buffers[2]! : 0, slice.length, group.maximize);
  }
}

/** Adam (Kingma & Ba), with PyTorch's L2 weight decay and optional AMSGrad. */
export class Adam extends AdamFamily {
  /** @internal */
  protected readonly decoupled = false;
  constructor(params: Parameter[] | ParamGroupInput<AdamOptions>[], options?: Partial<AdamOptions> & AccumulateOption) {
    super(params, options, ADAM_DEFAULTS);
  }
}

/** AdamW (Loshchilov & Hutter): Adam with decoupled weight decay. */
export class AdamW extends AdamFamily {
  /** @internal */
  protected readonly decoupled = true;
  constructor(params: Parameter[] | ParamGroupInput<AdamWOptions>[], options?: Partial<AdamWOptions> & AccumulateOption) {
    super(params, options, ADAMW_DEFAULTS);
  }
}

/**
 * The reduced-precision step (its scalars already written), apart so that `update` keeps one
 * kernel call site (inlined by V8); it takes no float: a call V8 does not inline boxes them.
 */
function adamLowp(slice: Slice, format: number, maximize: boolean): void {
  const buffers = slice.buffers;
  const int8 = format === 2;
  kernels().adamStepLowp(slice.param, slice.grad, buffers[0]!, int8 ? buffers[1]! : 0, buffers[int8 ? 2 : 1]!, int8 ? buffers[3]! : 0,
    slice.length, format, maximize);
}
