import { kernels } from "../bindings/instance.js";
import type { Parameter } from "../parameter.js";
import { checkBetas, checkNonNegative } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput, type StepSupport } from "./optimizer.js";
import type { ParamState, Slice, StepScalars } from "./types.js";

/** Options of LAMB (Keras 3 keras.optimizers.Lamb). */
export interface LAMBOptions {
  /** Learning rate. Default 1e-3. */
  lr: number;
  /** Decay rates [beta1, beta2] of the first and second moment estimates. Default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to the denominator after the square root. Default 1e-6. */
  eps: number;
  /** Decoupled weight decay p ← p − lr·weightDecay·p, before the update. Default 0. */
  weightDecay: number;
}

const LAMB_DEFAULTS: LAMBOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0 };
const MOMENTS = ["firstMoment", "secondMoment"] as const;
// The trust ratio is per tensor, so row steps are refused; masked steps are a dense step whose
// masked-out parameter elements are restored.
const DENSE_AND_MASKED: StepSupport = Object.freeze({ rows: false, mask: true });

/**
 * LAMB (You et al. 2019) as Keras 3 computes it: the bias-corrected Adam direction
 * u = m̂/(√v̂ + ε), scaled per parameter tensor by the trust ratio ‖p‖/‖u‖ (1 when either norm
 * is 0), with ‖p‖ taken after the weight decay. `step({ rows })` is refused; masks are supported.
 */
export class LAMB extends Optimizer<LAMBOptions> {
  /** [1/biasCorrection1, 1/√biasCorrection2], refilled each step. */
  readonly #scalars: StepScalars = new Float64Array(2);

  constructor(params: Parameter[] | ParamGroupInput<LAMBOptions>[], options?: Partial<LAMBOptions> & AccumulateOption) {
    super(params, options, LAMB_DEFAULTS);
  }

  /** @internal */
  protected validateGroup(group: LAMBOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    checkBetas(prefix, "betas", group.betas);
    if (!(typeof group.eps === "number" && group.eps >= 0 && group.eps < Infinity)) checkNonNegative(prefix, "eps", group.eps);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
  }

  /** @internal */
  protected stateBufferNames(): readonly string[] {
    return MOMENTS;
  }

  /** @internal */
  protected override get stepSupport(): StepSupport {
    return DENSE_AND_MASKED;
  }

  /** @internal */
  protected override prepareStep(group: ParamGroup<LAMBOptions>, state: ParamState): StepScalars {
    const scalars = this.#scalars;
    scalars[0] = 1 / (1 - group.betas[0] ** state.step);
    scalars[1] = 1 / Math.sqrt(1 - group.betas[1] ** state.step);
    return scalars;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<LAMBOptions>, _state: ParamState, scalars: StepScalars): void {
    const k = kernels();
    const { param, length, buffers } = slice;
    const squares = k.lambMoments(slice.grad, buffers[0]!, buffers[1]!, length, group.betas[0], group.betas[1], group.eps, scalars[0]!, scalars[1]!);
    const paramScale = 1 - group.lr * group.weightDecay;
    const paramNorm = Math.abs(paramScale) * Math.sqrt(k.sumSquares(param, length));
    const updateNorm = Math.sqrt(squares);
    const ratio = paramNorm > 0 && updateNorm > 0 ? paramNorm / updateNorm : 1;
    k.lambApply(param, buffers[0]!, buffers[1]!, length, group.eps, scalars[0]!, scalars[1]!, paramScale, group.lr * ratio);
  }
}
