import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import { checkBetas, checkBoolean, checkNonNegative } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { ParamState, Slice, StepScalars, StepSupport } from "./types.js";

/** Options of ADOPT (Taniguchi et al. 2024, as its reference implementation adopt.py). */
export interface ADOPTOptions {
  /** Learning rate. Default 1e-3. */
  lr: number;
  /** [beta1, beta2]: decay of the first moment (of the normalised gradient) and of the second moment. Default [0.9, 0.9999]. */
  betas: [number, number];
  /** Floor of √v in the normalisation: g / max(√v, eps). Default 1e-6. */
  eps: number;
  /** Weight decay, L2 (added to the gradient) unless `decoupled`. Default 0. */
  weightDecay: number;
  /** Decoupled weight decay p ← p·(1 − lr·weightDecay) instead of L2 (the source's `decouple`). Default false. */
  decoupled: boolean;
}

const DEFAULTS: ADOPTOptions = { lr: 1e-3, betas: [0.9, 0.9999], eps: 1e-6, weightDecay: 0, decoupled: false };
const MOMENTS = ["firstMoment", "secondMoment"] as const;
// The step count is per parameter, so a row first touched late would have no v of its own.
const SUPPORT: StepSupport = Object.freeze({ rows: false, mask: true });

/**
 * ADOPT: Adam-like steps that normalise the gradient by the second moment of the previous step
 * (clipped to ±step^0.25), then average it. The first step only initialises v = g².
 */
export class ADOPT extends Optimizer<ADOPTOptions> {
  /** [clip], refilled each step. */
  readonly #scalars: StepScalars = new Float64Array(1);

  constructor(params: Parameter[] | ParamGroupInput<ADOPTOptions>[], options?: Partial<ADOPTOptions> & AccumulateOption) {
    super(params, options, DEFAULTS);
  }

  /** @internal */
  protected override get stepSupport(): StepSupport {
    return SUPPORT;
  }

  /** @internal */
  protected validateGroup(group: ADOPTOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    checkBetas(prefix, "betas", group.betas);
    if (!(typeof group.eps === "number" && group.eps >= 0 && group.eps < Infinity)) checkNonNegative(prefix, "eps", group.eps);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    checkBoolean(prefix, "decoupled", group.decoupled);
  }

  /** @internal */
  protected stateBufferNames(): readonly string[] {
    return MOMENTS;
  }

  /** @internal */
  protected override prepareStep(_group: ParamGroup<ADOPTOptions>, state: ParamState): StepScalars {
    // The step count before this step's increment, as the source's clip_lambda(step).
    this.#scalars[0] = (state.step - 1) ** 0.25;
    return this.#scalars;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<ADOPTOptions>, state: ParamState, scalars: StepScalars): void {
    const wd = group.weightDecay;
    const s = stepScalars();
    s[0] = group.lr; s[1] = group.betas[0]; s[2] = group.betas[1]; s[3] = group.eps; s[4] = group.decoupled ? 0 : wd;
    s[5] = group.decoupled ? 1 - group.lr * wd : 1; s[6] = scalars[0]!;
    kernels().adoptStep(slice.param, slice.grad, slice.buffers[0]!, slice.buffers[1]!, slice.length, state.step === 1);
  }
}
