import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import { checkBetas, checkBoolean, checkNonNegative } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { Slice, StateBufferLayout } from "./types.js";
import { checkStateDtype, dtypeFormat, lowpLayout, LION_NAMES } from "./lowp.js";

/** Options of Lion (Chen et al. 2023, as in lion-pytorch). */
export interface LionOptions {
  /** Learning rate (every element moves by exactly lr, plus weight decay). Default 1e-4. */
  lr: number;
  /** [beta1, beta2]: beta1 interpolates the update direction, beta2 the stored momentum. Default [0.9, 0.99]. */
  betas: [number, number];
  /** Decoupled weight decay: p ← p·(1 − lr·weightDecay). Default 0. */
  weightDecay: number;
  /** Maximise the objective instead of minimising it. Default false. */
  maximize: boolean;
  /** How the momentum is stored: "float32" (default), "bfloat16" or "int8" (as Adam's stateDtype). */
  stateDtype: "float32" | "bfloat16" | "int8";
}

const LION_DEFAULTS: LionOptions = { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false, stateDtype: "float32" };
const MOMENTUM = LION_NAMES;

/** Lion (EvoLved Sign Momentum): steps of size lr along the sign of interpolated momentum. */
export class Lion extends Optimizer<LionOptions> {
  constructor(params: Parameter[] | ParamGroupInput<LionOptions>[], options?: Partial<LionOptions> & AccumulateOption) {
    super(params, options, LION_DEFAULTS);
  }

  /** @internal */
  protected validateGroup(group: LionOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    // Deliberately stricter than lion-pytorch (which allows betas up to 1): [0, 1) as everywhere.
    checkBetas(prefix, "betas", group.betas);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    checkBoolean(prefix, "maximize", group.maximize);
    checkStateDtype(prefix, group.stateDtype);
  }

  /** @internal */
  protected stateBufferNames(group: ParamGroup<LionOptions>): readonly string[] {
    return MOMENTUM[group.stateDtype];
  }

  /** @internal */
  protected override stateBufferLayout(name: string): StateBufferLayout {
    return lowpLayout(name);
  }

  /** @internal One kernel call over the group's table (float32 state only). */
  protected override multiTensor(group: ParamGroup<LionOptions>): boolean {
    return group.stateDtype === "float32";
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<LionOptions>): void {
    const beta1 = group.betas[0];
    const beta2 = group.betas[1];
    const format = dtypeFormat(group.stateDtype);
    if (format !== 0) {
      lionLowp(slice, group, format);
      return;
    }
    const paramScale = 1 - group.lr * group.weightDecay;
    const s = stepScalars();
    s[0] = group.lr; s[1] = beta1; s[2] = beta2; s[3] = paramScale;
    kernels().lionStep(slice.param, slice.grad, slice.buffers[0]!, slice.length, group.maximize);
  }
}

/** The reduced-precision step, apart so that `update` keeps one kernel call site (inlined by V8). */
function lionLowp(slice: Slice, group: ParamGroup<LionOptions>, format: number): void {
  const s = stepScalars();
  s[0] = group.lr; s[1] = group.betas[0]; s[2] = group.betas[1]; s[3] = 1 - group.lr * group.weightDecay;
  kernels().lionStepLowp(slice.param, slice.grad, slice.buffers[0]!, format === 2 ? slice.buffers[1]! : 0, slice.length, format, group.maximize);
}
